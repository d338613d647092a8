import { natsSubject, streamName, type EventType } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import { connect } from 'nats';
import { describe } from 'vitest';
import { expect, test, type Gw } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import type { System } from '../support/system';

const PROPOSE = `mutation($id: ID!) { proposeErasure(subjectId: $id, method: DESTROY, grounds: "Unlawfully collected") { id } }`;
const APPROVE = `mutation($id: ID!) { approveErasure(actId: $id) { status } }`;

async function outboxCount(system: System, service: 'subjects' | 'appeals' | 'consents', type: EventType, subjectId: string): Promise<number> {
  const rows = await system.platformDb(service).selectFrom('outbox').select('payload').execute();
  return rows.filter((r) => {
    const p = r.payload as { type: string; subjectId: string };
    return p.type === type && p.subjectId === subjectId;
  }).length;
}

async function actStatus(gw: Gw, actId: string): Promise<string> {
  return (await gw(`query($id: ID!) { erasureAct(id: $id) { status } }`, { id: actId }, { as: 'DPO' })).data.erasureAct.status;
}

describe('blocking and erasure reach every service, exactly once', () => {
  test('holders that were down while a block and an erasure were decided catch up on restart', async ({ system, gw }) => {
    const blockedOne = await intakeSubject(system);
    const erasedOne = await intakeSubject(system);
    // Granted while appeals, which keeps the access registry, is still up.
    for (const role of ['DPO', 'CHAIRMAN'] as const) await system.tokenFor([role]);
    await system.stopService('appeals');
    await system.stopService('consents');

    await gw(
      `mutation($id: ID!) { blockSubject(subjectId: $id, reason: "Complaint about unlawful processing") { status } }`,
      { id: blockedOne.subjectId },
      { as: 'DPO' },
    );
    const actId = (await gw(PROPOSE, { id: erasedOne.subjectId }, { as: 'DPO' })).data.proposeErasure.id;
    await gw(APPROVE, { id: actId }, { as: 'CHAIRMAN' });
    await new Promise((r) => setTimeout(r, 500));
    expect(await actStatus(gw, actId)).toBe('APPROVED'); // subjects confirmed; the others are down

    await system.startService('appeals');
    await system.startService('consents');
    await eventually(async () => (await actStatus(gw, actId)) === 'COMPLETED', 20_000, 'act completed after restart');
    expect(await system.db('appeals').selectFrom('appeals').select('id').where('id', '=', erasedOne.appealId).execute()).toEqual([]);
    expect(await system.db('consents').selectFrom('consents').select('id').where('appeal_id', '=', erasedOne.appealId).execute()).toEqual([]);
    await eventually(
      async () => {
        const receipts = await system.db('subjects').selectFrom('block_receipts').selectAll().where('subject_id', '=', blockedOne.subjectId).execute();
        return receipts.length === 3 && receipts.every((r) => r.blocked);
      },
      20_000,
      'block receipts after restart',
    );
    expect(await system.db('appeals').selectFrom('blocked_subjects').select('subject_id').execute()).toEqual([{ subject_id: blockedOne.subjectId }]);
  });

  test('redelivered block and erasure events change nothing and send no second receipt', async ({ system, gw }) => {
    const blockedOne = await intakeSubject(system);
    const erasedOne = await intakeSubject(system);
    await gw(
      `mutation($id: ID!) { blockSubject(subjectId: $id, reason: "Processing conditions violated") { status } }`,
      { id: blockedOne.subjectId },
      { as: 'DPO' },
    );
    const actId = (await gw(PROPOSE, { id: erasedOne.subjectId }, { as: 'DPO' })).data.proposeErasure.id;
    await gw(APPROVE, { id: actId }, { as: 'CHAIRMAN' });
    await eventually(async () => (await actStatus(gw, actId)) === 'COMPLETED', 20_000, 'act completed');
    await eventually(async () => (await outboxCount(system, 'consents', 'subject.block_applied', blockedOne.subjectId)) === 1, 20_000, 'block receipt');

    const originals = (await system.platformDb('subjects').selectFrom('outbox').select('payload').execute())
      .map((r) => r.payload as { id: string; type: string })
      .filter((p) => p.type === 'subject.blocked' || p.type === 'erasure.approved');
    expect(originals).toHaveLength(2);
    const nc = await connect({ servers: system.options.natsUrl });
    const js = nc.jetstream();
    for (const event of originals) {
      for (const n of [1, 2]) {
        await js.publish(natsSubject(system.prefix, event.type as EventType), JSON.stringify(event), { msgID: `${event.id}-redelivery-${n}` });
      }
    }
    const jsm = await nc.jetstreamManager();
    await eventually(
      async () => {
        const durables = ['appeals-lifecycle', 'consents-lifecycle', 'subjects-erasure', 'subjects-receipts', 'audit-recorder'];
        const infos = await Promise.all(durables.map((d) => jsm.consumers.info(streamName(system.prefix), d)));
        return infos.every((i) => i.num_pending === 0 && i.num_ack_pending === 0);
      },
      20_000,
      'redeliveries consumed',
    );
    await nc.close();

    for (const service of ['appeals', 'consents'] as const) {
      expect(await outboxCount(system, service, 'subject.block_applied', blockedOne.subjectId)).toBe(1);
      expect(await outboxCount(system, service, 'erasure.receipt', erasedOne.subjectId)).toBe(1);
    }
    expect(await outboxCount(system, 'subjects', 'erasure.receipt', erasedOne.subjectId)).toBe(1);
    expect(await outboxCount(system, 'subjects', 'erasure.completed', erasedOne.subjectId)).toBe(1);
    const audit = await system
      .db('audit')
      .selectFrom('audit_log')
      .select('event_type')
      .where('subject_id', '=', erasedOne.subjectId)
      .where('event_type', '=', 'erasure.approved')
      .execute();
    expect(audit).toHaveLength(1);
    expect(await actStatus(gw, actId)).toBe('COMPLETED');
  });

  test('a block that comes back after its unblock changes nothing: holders apply only a newer version', async ({ system, gw }) => {
    const one = await intakeSubject(system);
    const BLOCK = `mutation($id: ID!, $r: String!) { blockSubject(subjectId: $id, reason: $r) { status } }`;
    const UNBLOCK = `mutation($id: ID!, $r: String!) { unblockSubject(subjectId: $id, reason: $r) { status } }`;
    await gw(BLOCK, { id: one.subjectId, r: 'Complaint about unlawful processing' }, { as: 'DPO' });
    await gw(UNBLOCK, { id: one.subjectId, r: 'The complaint was examined and rejected' }, { as: 'DPO' });
    const receipts = () =>
      system
        .db('subjects')
        .selectFrom('block_receipts')
        .select(['service', 'blocked', 'version'])
        .where('subject_id', '=', one.subjectId)
        .orderBy('service')
        .execute();
    await eventually(
      async () => {
        const r = await receipts();
        return r.length === 3 && r.every((x) => !x.blocked && x.version === 2);
      },
      20_000,
      'unblock confirmed by every holder',
    );

    // The block as subjects signed it (version 1), and appeals' receipt of it, handed out again as if
    // they had never been applied: what a killed instance's unacknowledged message, or a nak'd one,
    // comes to when it is redelivered after the unblock.
    const payloads = async (service: 'subjects' | 'appeals', type: EventType) =>
      (await system.platformDb(service).selectFrom('outbox').select('payload').execute())
        .map((r) => r.payload as { id: string; type: string; subjectId: string; data: { version?: number } })
        .filter((p) => p.type === type && p.subjectId === one.subjectId);
    const [block] = await payloads('subjects', 'subject.blocked');
    expect(block!.data.version).toBe(1);
    const [receipt] = (await payloads('appeals', 'subject.block_applied')).filter((p) => p.data.version === 1);
    expect(receipt).toBeDefined();
    for (const service of ['appeals', 'consents'] as const) {
      await system.platformDb(service).deleteFrom('inbox').where('event_id', '=', block!.id).execute();
    }
    await system.platformDb('subjects').deleteFrom('inbox').where('event_id', '=', receipt!.id).execute();
    const nc = await connect({ servers: system.options.natsUrl });
    const js = nc.jetstream();
    for (const event of [block!, receipt!]) {
      await js.publish(natsSubject(system.prefix, event.type as EventType), JSON.stringify(event), { msgID: `${event.id}-late` });
    }
    const jsm = await nc.jetstreamManager();
    await eventually(
      async () => {
        const infos = await Promise.all(
          ['appeals-lifecycle', 'consents-lifecycle', 'subjects-receipts'].map((d) => jsm.consumers.info(streamName(system.prefix), d)),
        );
        return infos.every((i) => i.num_pending === 0 && i.num_ack_pending === 0);
      },
      20_000,
      'late events consumed',
    );
    await nc.close();
    for (const service of ['appeals', 'consents'] as const) {
      // Taken (its inbox row is back) and changed nothing: not blocked, no second receipt.
      expect(await system.platformDb(service).selectFrom('inbox').select('event_id').where('event_id', '=', block!.id).execute()).toHaveLength(1);
      expect(
        await (system.db(service) as ReturnType<typeof system.db<'appeals'>>)
          .selectFrom('blocked_subjects')
          .select('subject_id')
          .where('subject_id', '=', one.subjectId)
          .execute(),
      ).toEqual([]);
      expect(await outboxCount(system, service, 'subject.block_applied', one.subjectId)).toBe(2);
    }
    expect((await receipts()).map((r) => [r.service, r.blocked, r.version])).toEqual([
      ['appeals', false, 2],
      ['consents', false, 2],
      ['subjects', false, 2],
    ]);
    const status = await gw(`query($id: ID!) { subject(id: $id) { status } }`, { id: one.subjectId }, { as: 'DPO' });
    expect(status.data.subject.status).toBe('ACTIVE');
  });
});
