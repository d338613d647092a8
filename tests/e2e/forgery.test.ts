import { randomUUID } from 'node:crypto';
import { EventSigner, generateEventKeyPair, natsSubject, streamName, type Envelope, type EventType, type RejectionReason } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import { sql, type Kysely } from 'kysely';
import { connect } from 'nats';
import { describe } from 'vitest';
import { expect, test } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import { SERVICE_NAMES, type ServiceName, type System } from '../support/system';

/** Every durable consumer of the platform, by service. */
const DURABLES: Record<ServiceName, string[]> = {
  subjects: ['subjects-intake', 'subjects-receipts', 'subjects-erasure', 'subjects-purposes'],
  appeals: ['appeals-subject-link', 'appeals-lifecycle'],
  consents: ['consents-intake', 'consents-lifecycle'],
  audit: ['audit-recorder'],
};

/** The consumers that take each type the test forges (docs/events.md, "Consumers"). */
const TAKERS: Partial<Record<EventType, Array<[ServiceName, string]>>> = {
  'erasure.approved': [
    ['appeals', 'appeals-lifecycle'],
    ['consents', 'consents-lifecycle'],
    ['subjects', 'subjects-erasure'],
    ['audit', 'audit-recorder'],
  ],
  'subject.appeal_linked': [
    ['appeals', 'appeals-subject-link'],
    ['consents', 'consents-intake'],
    ['audit', 'audit-recorder'],
  ],
  'subject.blocked': [
    ['appeals', 'appeals-lifecycle'],
    ['consents', 'consents-lifecycle'],
    ['audit', 'audit-recorder'],
  ],
  'erasure.receipt': [
    ['subjects', 'subjects-receipts'],
    ['audit', 'audit-recorder'],
  ],
};

/**
 * Tables that legitimately change when an event is refused: the event platform's own, the audit's
 * record of it, and which stream messages the audit's recorder saw (its reconciliation's bookkeeping).
 */
const BOOKKEEPING = new Set([
  'outbox',
  'inbox',
  'parked_events',
  'kysely_migration',
  'kysely_migration_lock',
  'audit_log',
  'incidents',
  'audit_stream_seqs',
  'audit_reconciliation',
]);

/** Every row of every business table of every service. */
async function snapshot(system: System): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const service of SERVICE_NAMES) {
    const db = system.db(service) as Kysely<any>;
    const { rows: tables } = await sql<{
      name: string;
    }>`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`.execute(db);
    for (const { name } of tables) {
      if (BOOKKEEPING.has(name)) continue;
      const { rows } = await sql`select * from ${sql.table(name)}`.execute(db);
      out[`${service}.${name}`] = rows.map((r) => JSON.stringify(r)).sort();
    }
  }
  return out;
}

async function drained(system: System): Promise<void> {
  const nc = await connect({ servers: system.options.natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    await eventually(
      async () => {
        const infos = await Promise.all(
          Object.values(DURABLES)
            .flat()
            .map((d) => jsm.consumers.info(streamName(system.prefix), d)),
        );
        return infos.every((i) => i.num_pending === 0 && i.num_ack_pending === 0);
      },
      20_000,
      'every consumer caught up',
    );
  } finally {
    await nc.close();
  }
}

describe('events nobody can forge', () => {
  test('forged, altered and misattributed events change nothing; each refusal is parked and audited', async ({ system }) => {
    const { subjectId, appealId } = await intakeSubject(system);
    await drained(system);
    const before = await snapshot(system);
    const auditBefore = await system.db('audit').selectFrom('audit_log').select('event_id').execute();

    const base = (type: EventType, source: ServiceName, data: Record<string, unknown>) =>
      ({
        id: randomUUID(),
        type,
        version: 1,
        occurredAt: new Date().toISOString(),
        source,
        actor: { id: 'chairman-1', roles: ['CHAIRMAN'] },
        subjectId,
        correlationId: null,
        data,
      }) as Envelope;
    const erasure = () => base('erasure.approved', 'subjects', { actId: randomUUID(), method: 'DESTROY', services: ['subjects', 'appeals', 'consents'] });

    // (a) a forged erasure.approved: unsigned, and signed with a key nobody trusts.
    const unsigned = erasure();
    const strangerSigned = EventSigner.fromKey('subjects', generateEventKeyPair().privateJwk).sign(erasure());
    // (b) a real event (subjects' own, signed) with its data altered: as is, and under a new id that no inbox knows.
    const real = (await system.platformDb('subjects').selectFrom('outbox').select('payload').execute())
      .map((r) => r.payload as Envelope<'subject.appeal_linked'> & { signature: string })
      .find((p) => p.type === 'subject.appeal_linked' && p.data.appealId === appealId)!;
    expect(real.signature).toBeTruthy();
    const altered = { ...real, data: { ...real.data, subjectId: randomUUID() } };
    const alteredNewId = { ...altered, id: randomUUID() };
    // (c) a type owned by subjects, claiming appeals and signed with appeals' real key.
    const misattributed = EventSigner.fromKey('appeals', system.eventKeys.appeals.privateJwk).sign(base('subject.blocked', 'appeals', { subjectId }));
    // (d) a holder's receipt for another holder, signed by the first.
    const foreignReceipt = EventSigner.fromKey('appeals', system.eventKeys.appeals.privateJwk).sign(
      base('erasure.receipt', 'appeals', { actId: randomUUID(), method: 'DESTROY', service: 'consents' }),
    );

    const forged: Array<[Envelope, RejectionReason]> = [
      [unsigned, 'UNSIGNED'],
      [strangerSigned, 'BAD_SIGNATURE'],
      [altered, 'BAD_SIGNATURE'],
      [alteredNewId, 'BAD_SIGNATURE'],
      [misattributed, 'WRONG_SOURCE'],
      [foreignReceipt, 'RECEIPT_MISMATCH'],
    ];
    // A plain client, as anyone on the NATS could; no msgID, so the stream's dedup hides nothing.
    const nc = await connect({ servers: system.options.natsUrl });
    try {
      for (const [event] of forged) await nc.jetstream().publish(natsSubject(system.prefix, event.type as EventType), JSON.stringify(event));
    } finally {
      await nc.close();
    }

    // Each consumer that takes the type parks it, and its service records the refusal for the audit.
    for (const [event, reason] of forged) {
      for (const [service, consumer] of TAKERS[event.type as EventType]!) {
        await eventually(
          async () =>
            (
              await system
                .platformDb(service)
                .selectFrom('parked_events')
                .select('error')
                .where('consumer', '=', consumer)
                .where('event_id', '=', event.id)
                .execute()
            ).some((p) => p.error === `EventRejected: ${reason}`),
          20_000,
          `${event.type} (${reason}) parked by ${consumer}`,
        );
        await eventually(
          async () => {
            const rows = await system
              .db('audit')
              .selectFrom('audit_log')
              .select(['source', 'operation', 'details'])
              .where('event_type', '=', 'event.rejected')
              .execute();
            return rows.some((r) => {
              const d = r.details as { consumer: string; eventId: string; reason: string; type: string };
              return (
                r.source === service &&
                r.operation === 'DENIED' &&
                d.consumer === consumer &&
                d.eventId === event.id &&
                d.reason === reason &&
                d.type === event.type
              );
            });
          },
          20_000,
          `audit entry for ${consumer} refusing ${event.type} (${reason})`,
        );
      }
    }
    await drained(system);

    expect(await snapshot(system)).toEqual(before);
    // The audit gained only the refusals: none of the forged events is on record as having happened.
    const known = new Set(auditBefore.map((r) => r.event_id));
    const added = await system.db('audit').selectFrom('audit_log').select(['event_id', 'event_type', 'details']).execute();
    const all = added.filter((r) => !known.has(r.event_id));
    // Each forged event is also an incident (FORGED_EVENT, one per event however many consumers refused it).
    const raised = all.filter((r) => r.event_type === 'incident.raised').map((r) => (r.details as { rule: string }).rule);
    expect(raised).toEqual(forged.map(() => 'FORGED_EVENT'));
    const fresh = all.filter((r) => r.event_type !== 'incident.raised');
    expect(new Set(fresh.map((r) => r.event_type))).toEqual(new Set(['event.rejected']));
    expect(fresh).toHaveLength(forged.reduce((n, [e]) => n + TAKERS[e.type as EventType]!.length, 0));
    // The refusals hold no payload: only checked facts.
    for (const r of fresh) expect(Object.keys(r.details as object).sort()).toEqual(['claimedSource', 'consumer', 'eventId', 'reason', 'type']);
    expect(await system.db('appeals').selectFrom('appeals').select('subject_id').where('id', '=', appealId).executeTakeFirst()).toEqual({
      subject_id: subjectId,
    });
  });
});
