/**
 * Load and reconciliation for the fault suite: public intake (some IINs come back, so one subject
 * must collect several appeals) and a DPO blocking and unblocking the subjects it finds; then the
 * books are checked in every service's own database.
 */
import { makeIin } from '@pdp/shared/testing';
import { sql } from 'kysely';
import { graphql } from './client';
import { form, SUBMIT } from './intake';
import type { ProcessPlatform } from './platform';

const BLOCK = `mutation B($id: ID!) { blockSubject(subjectId: $id, reason: "fault suite") { id status } }`;
const UNBLOCK = `mutation U($id: ID!) { unblockSubject(subjectId: $id, reason: "fault suite") { id status } }`;

export interface LoadStats {
  accepted: Array<{ appealId: string; iin: string }>;
  refused: number;
  blocks: number;
  unblocks: number;
}

let serial = 0;

/** Runs intake (`concurrency` submitters) and block/unblock until `stop()`; counts what was accepted. */
export class Load {
  readonly stats: LoadStats = { accepted: [], refused: 0, blocks: 0, unblocks: 0 };
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly iins: string[] = [];

  constructor(
    private readonly platform: ProcessPlatform,
    opts: { concurrency?: number; blocking?: boolean } = {},
  ) {
    for (let i = 0; i < (opts.concurrency ?? 3); i += 1) this.loops.push(this.intake());
    if (opts.blocking ?? true) this.loops.push(this.blocking());
  }

  private async intake(): Promise<void> {
    while (this.running) {
      // One submission in four repeats an IIN already sent: the same person again.
      const repeat = this.iins.length > 0 && Math.random() < 0.25;
      serial += 1;
      const iin = repeat ? this.iins[Math.floor(Math.random() * this.iins.length)]! : makeIin('1979-03-21', serial % 2 ? 'M' : 'F', (serial * 7919) % 9000);
      try {
        const res = await graphql(this.platform.gatewayUrl, SUBMIT, { input: form({ iin }) });
        const id = res.data?.submitAppeal?.appeal?.id as string | undefined;
        if (id && !res.errors) {
          this.stats.accepted.push({ appealId: id, iin });
          if (!repeat) this.iins.push(iin);
        } else this.stats.refused += 1;
      } catch {
        this.stats.refused += 1;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async blocking(): Promise<void> {
    const token = await this.platform.tokenFor(['DPO'], { sub: 'dpo-fault' });
    while (this.running) {
      await new Promise((r) => setTimeout(r, 150));
      const subjects = await this.platform
        .db('subjects')
        .selectFrom('subjects')
        .select(['id', 'status'])
        .where('status', 'in', ['ACTIVE', 'BLOCKED'])
        .orderBy(sql`random()`)
        .limit(1)
        .execute()
        .catch(() => []);
      const subject = subjects[0];
      if (!subject) continue;
      const blocking = subject.status === 'ACTIVE';
      try {
        const res = await graphql(this.platform.gatewayUrl, blocking ? BLOCK : UNBLOCK, { id: subject.id }, { token });
        if (!res.errors) {
          if (blocking) this.stats.blocks += 1;
          else this.stats.unblocks += 1;
        }
      } catch {
        // refused while something is down: nothing was decided
      }
    }
  }

  async stop(): Promise<LoadStats> {
    this.running = false;
    await Promise.all(this.loops);
    return this.stats;
  }
}

export async function runLoad(platform: ProcessPlatform, ms: number, opts?: { concurrency?: number; blocking?: boolean }): Promise<LoadStats> {
  const load = new Load(platform, opts);
  await new Promise((r) => setTimeout(r, ms));
  return load.stop();
}

/** What reconciliation found wrong; empty when the books balance. */
export async function discrepancies(platform: ProcessPlatform, accepted: LoadStats['accepted']): Promise<string[]> {
  const problems: string[] = [];
  const appeals = platform.db('appeals');
  const subjects = platform.db('subjects');
  const consents = platform.db('consents');
  const audit = platform.db('audit');

  // Every accepted submission (and every appeal stored, even one whose answer was lost) exactly once everywhere.
  const stored = await appeals.selectFrom('appeals').select(['id', 'subject_id']).execute();
  const storedIds = new Set(stored.map((a) => a.id));
  for (const { appealId } of accepted) if (!storedIds.has(appealId)) problems.push(`accepted appeal ${appealId} missing in appeals`);
  const counts = async (rows: Promise<Array<{ key: string | null; n: string | number | bigint }>>) => new Map((await rows).map((r) => [r.key, Number(r.n)]));
  const sources = await counts(
    subjects
      .selectFrom('subject_sources')
      .select([sql<string>`reference`.as('key'), sql<string>`count(*)`.as('n')])
      .groupBy('reference')
      .execute(),
  );
  const consentRows = await counts(
    consents
      .selectFrom('consents')
      .select([sql<string>`appeal_id::text`.as('key'), sql<string>`count(*)`.as('n')])
      .groupBy('appeal_id')
      .execute(),
  );
  // Each appeal's appeal.submitted event in the audit exactly once (the outbox check below names any).
  const auditedTotal = Number(
    (await audit.selectFrom('audit_log').select(sql<string>`count(*)`.as('n')).where('event_type', '=', 'appeal.submitted').executeTakeFirstOrThrow()).n,
  );
  for (const a of stored) {
    if (sources.get(a.id) !== 1) problems.push(`appeal ${a.id}: ${sources.get(a.id) ?? 0} subject sources`);
    if (consentRows.get(a.id) !== 1) problems.push(`appeal ${a.id}: ${consentRows.get(a.id) ?? 0} consents`);
    if (!a.subject_id) problems.push(`appeal ${a.id}: not linked to a subject`);
  }
  if (auditedTotal !== stored.length) problems.push(`audit holds ${auditedTotal} appeal.submitted entries for ${stored.length} appeals`);

  // One subject per IIN.
  const dupes = await subjects
    .selectFrom('subjects')
    .select('iin_bidx')
    .where('iin_bidx', 'is not', null)
    .groupBy('iin_bidx')
    .having(sql`count(*)`, '>', 1)
    .execute();
  if (dupes.length > 0) problems.push(`${dupes.length} IINs with more than one subject`);
  const people = new Set(accepted.map((a) => a.iin)).size;
  const registered = Number((await subjects.selectFrom('subjects').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
  if (registered < people) problems.push(`${people} people submitted, ${registered} subjects`);

  // Every block receipted by every holder, and each holder agrees with subjects.
  const statuses = await subjects.selectFrom('subjects').select(['id', 'status']).where('status', 'in', ['ACTIVE', 'BLOCKED']).execute();
  const blockedIn = async (db: typeof appeals | typeof consents) =>
    new Set((await (db as typeof appeals).selectFrom('blocked_subjects').select('subject_id').execute()).map((r) => r.subject_id));
  const [appealsBlocked, consentsBlocked] = await Promise.all([blockedIn(appeals), blockedIn(consents)]);
  const receipts = await subjects.selectFrom('block_receipts').select(['subject_id', 'service', 'blocked']).execute();
  const touched = new Set(receipts.map((r) => r.subject_id));
  for (const s of statuses) {
    const blocked = s.status === 'BLOCKED';
    if (appealsBlocked.has(s.id) !== blocked)
      problems.push(`subject ${s.id} ${s.status} but appeals ${appealsBlocked.has(s.id) ? 'blocks' : 'does not block'} it`);
    if (consentsBlocked.has(s.id) !== blocked)
      problems.push(`subject ${s.id} ${s.status} but consents ${consentsBlocked.has(s.id) ? 'blocks' : 'does not block'} it`);
    if (!touched.has(s.id) && !blocked) continue;
    for (const service of ['appeals', 'consents'] as const) {
      const receipt = receipts.find((r) => r.subject_id === s.id && r.service === service);
      if (!receipt || receipt.blocked !== blocked)
        problems.push(`subject ${s.id} ${s.status}: ${service}'s receipt says ${receipt ? (receipt.blocked ? 'blocked' : 'unblocked') : 'nothing'}`);
    }
  }

  // Nothing parked, no outbox backlog, every event of every service in the audit exactly once.
  const auditEvents = new Map(
    (
      await audit
        .selectFrom('audit_log')
        .select([sql<string>`event_id::text`.as('id'), sql<string>`count(*)`.as('n')])
        .groupBy('event_id')
        .execute()
    ).map((r) => [r.id, Number(r.n)]),
  );
  for (const service of ['subjects', 'appeals', 'consents', 'audit'] as const) {
    const db = platform.platformDb(service);
    const parked = await db.selectFrom('parked_events').select(['consumer', 'error']).where('resolved_at', 'is', null).execute();
    if (parked.length > 0)
      problems.push(
        `${service}: ${parked.length} parked (${parked
          .map((p) => `${p.consumer}: ${p.error}`)
          .slice(0, 3)
          .join('; ')})`,
      );
    const outbox = await db.selectFrom('outbox').select(['id', 'published_at']).execute();
    const backlog = outbox.filter((r) => r.published_at === null).length;
    if (backlog > 0) problems.push(`${service}: ${backlog} outbox rows unpublished`);
    const missing = outbox.filter((r) => auditEvents.get(r.id) !== 1);
    if (missing.length > 0) problems.push(`${service}: ${missing.length} events not in the audit exactly once`);
  }
  return problems;
}
