import type { Transaction } from 'kysely';
import type { Deps } from './config';
import { recentOf } from './db/entries.repository';
import type { Database } from './db/tables';
import type { ChainEntry } from './domain/chain';
import { PROCESSING, RULES, isWatchedPerson, mayReadBlocked, offHoursDay, type RuleName } from './domain/detection';
import type { Hit } from './incidents.service';

/** What a block stops (6.1.3): reads, transfers and changes; erasure and the block itself go on. */
const BLOCKED_STOPS = new Set(['ACCESS', 'TRANSFER', 'MODIFY']);

/** Whether the subject was blocked (and still is) when the action happened. */
async function blockedAt(trx: Transaction<Database>, subjectId: string, occurredAt: string): Promise<boolean> {
  const row = await trx
    .selectFrom('blocked_subjects')
    .select('subject_id')
    .where('subject_id', '=', subjectId)
    .where('blocked_at', '<=', new Date(occurredAt))
    .executeTakeFirst();
  return row !== undefined;
}

/** Actors that are nobody in particular (no token, or one that failed): their client tells them apart. */
const ANONYMOUS_ACTORS = new Set(['anonymous', 'unauthenticated']);

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

function hit(rule: RuleName, key: string, e: ChainEntry, evidence: string[], details: Record<string, unknown> = {}): Hit {
  return { rule, key, actorId: e.actorId, subjectId: e.subjectId, evidence, details, windowMinutes: RULES[rule].windowMinutes };
}

/** At least `threshold` recent entries (bounded: never more are read), or null. */
async function atLeast(threshold: number, find: (limit: number) => Promise<string[]>): Promise<string[] | null> {
  const seqs = await find(threshold);
  return seqs.length >= threshold ? seqs : null;
}

/** Refusals: repeated ones, a partner's probing, insisting on a blocked subject, forged events. */
async function denials(trx: Transaction<Database>, e: ChainEntry): Promise<Hit[]> {
  const details = (e.details ?? {}) as Record<string, unknown>;
  if (e.type === 'event.rejected') {
    const id = typeof details.eventId === 'string' ? details.eventId : `seq:${e.seq}`;
    return [hit('FORGED_EVENT', `event:${id}`, e, [e.seq], { reason: details.reason, claimedSource: details.claimedSource, type: details.type })];
  }
  const hits: Hit[] = [];
  const since = (rule: RuleName) => minutesAgo(RULES[rule].windowMinutes);
  if (details.reason === 'BLOCKED' && e.subjectId) {
    const { threshold } = RULES.BLOCKED_SUBJECT_ACCESS;
    const seqs = await atLeast(threshold, (limit) =>
      recentOf(trx, { actorId: e.actorId }, 'DENIED', since('BLOCKED_SUBJECT_ACCESS'), e.seq, limit, { subjectId: e.subjectId!, reason: { is: 'BLOCKED' } }),
    );
    if (seqs) hits.push(hit('BLOCKED_SUBJECT_ACCESS', `${e.actorId}:${e.subjectId}`, e, seqs, { attempted: true }));
    return hits;
  }
  // Anonymous refusals at the gateway are told apart by the client's keyed address hash.
  const who = ANONYMOUS_ACTORS.has(e.actorId) && e.clientKey ? { clientKey: e.clientKey } : { actorId: e.actorId };
  const key = 'clientKey' in who ? `client:${who.clientKey}` : `actor:${e.actorId}`;
  const repeated = await atLeast(RULES.REPEATED_DENIALS.threshold, (limit) =>
    recentOf(trx, who, 'DENIED', since('REPEATED_DENIALS'), e.seq, limit, { reason: { not: 'BLOCKED' } }),
  );
  if (repeated) hits.push(hit('REPEATED_DENIALS', key, e, repeated));
  if (e.actorRoles.includes('PARTNER')) {
    const probes = await atLeast(RULES.SCOPE_PROBE.threshold, (limit) => recentOf(trx, { actorId: e.actorId }, 'DENIED', since('SCOPE_PROBE'), e.seq, limit));
    if (probes) hits.push(hit('SCOPE_PROBE', `actor:${e.actorId}`, e, probes, { creditorId: e.creditorId }));
  }
  return hits;
}

/** Work done: mass reads, reads of a blocked subject, work at night or on a day off. */
async function processing(deps: Deps, trx: Transaction<Database>, e: ChainEntry): Promise<Hit[]> {
  if (!PROCESSING.has(e.operation) || !isWatchedPerson(e)) return [];
  const hits: Hit[] = [];
  if (e.operation === 'ACCESS' || e.operation === 'TRANSFER') {
    const { threshold, windowMinutes } = RULES.MASS_READ;
    const seqs = await atLeast(threshold, (limit) => recentOf(trx, { actorId: e.actorId }, e.operation, minutesAgo(windowMinutes), e.seq, limit));
    if (seqs) hits.push(hit('MASS_READ', `actor:${e.actorId}`, e, seqs.slice(-50), { threshold }));
  }
  if (e.subjectId && BLOCKED_STOPS.has(e.operation) && !mayReadBlocked(e) && (await blockedAt(trx, e.subjectId, e.occurredAt))) {
    hits.push(hit('BLOCKED_SUBJECT_ACCESS', `${e.actorId}:${e.subjectId}`, e, [e.seq], { attempted: false, operation: e.operation }));
  }
  const day = offHoursDay(new Date(e.occurredAt), deps.config.extra.workHours, deps.config.extra.calendar);
  if (day) hits.push(hit('OFF_HOURS_ACCESS', `actor:${e.actorId}:${day}`, e, [e.seq], { day }));
  return hits;
}

/** Every rule that applies to a new entry; runs in the recorder's transaction, under the chain lock. */
export async function detect(deps: Deps, trx: Transaction<Database>, e: ChainEntry): Promise<Hit[]> {
  return e.outcome === 'DENIED' ? denials(trx, e) : processing(deps, trx, e);
}
