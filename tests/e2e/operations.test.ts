import { createServer } from 'node:net';
import { buildEnvelope, EventSigner } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import { describe } from 'vitest';
import { expect, startSystem, test } from '../support/fixtures';
import { form, intakeSubject, SUBMIT } from '../support/intake';
import type { System } from '../support/system';

const HEALTH = `{ platformHealth { ready services { name ready outboxBacklog oldestUnpublishedSeconds parkedEvents instances relayListening reportedAt
  consumers { name pending ackPending } } } }`;
const PARKED = `query P($service: String, $first: Int) { parkedEvents(service: $service, first: $first) {
  id service consumer eventId type error deliveries parkedAt resolvedAt } }`;
const REPLAY = `mutation R($service: String!, $id: ID!) { replayParkedEvent(service: $service, id: $id) {
  id service consumer eventId type resolvedAt outcome } }`;

/** Parks an event in a service's consumer as a failed delivery would: the payload exactly as it came. */
async function park(system: System, service: 'consents' | 'appeals', consumer: string, payload: Record<string, unknown>, type: string): Promise<string> {
  const row = await system
    .platformDb(service)
    .insertInto('parked_events')
    .values({
      consumer,
      event_id: payload.id as string,
      subject: `${system.prefix}.events.${type}`,
      payload: JSON.stringify(payload),
      error: 'Error: simulated failure',
      deliveries: 8,
      resolved_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

describe('the ops view', () => {
  test('platformHealth shows every service: ready, outbox, parked events, consumer lag; OPS and DPO only', async ({ system, gw }) => {
    await intakeSubject(system);
    const health = await eventually(
      async () => {
        const res = await gw(HEALTH, {}, { as: 'OPS' });
        const h = res.data?.platformHealth;
        return h?.ready && h.services.every((s: { outboxBacklog: number }) => s.outboxBacklog === 0) ? h : undefined;
      },
      30_000,
      'platform ready in the ops view',
    );
    expect(health.services.map((s: { name: string }) => s.name)).toEqual(['subjects', 'appeals', 'consents', 'audit']);
    for (const s of health.services) {
      expect(s).toMatchObject({ ready: true, instances: 1, relayListening: true, parkedEvents: 0, oldestUnpublishedSeconds: null });
      expect(Date.parse(s.reportedAt)).toBeGreaterThan(Date.now() - 10_000);
    }
    const audit = health.services.find((s: { name: string }) => s.name === 'audit');
    expect(audit.consumers).toEqual([{ name: 'audit-recorder', pending: expect.any(Number), ackPending: expect.any(Number) }]);

    expect((await gw(HEALTH, {}, { as: 'DPO' })).data?.platformHealth.ready).toBe(true);
    for (const role of ['OPERATOR', 'AUDITOR', 'PARTNER'] as const) {
      const refused = await gw(HEALTH, {}, { as: role });
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await gw(HEALTH)).errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN|UNAUTHENTICATED/);

    // A service that stops reporting is not ready; the platform is not either.
    await system.stopService('consents');
    await eventually(
      async () => {
        const h = (await gw(HEALTH, {}, { as: 'OPS' })).data?.platformHealth;
        const consents = h?.services.find((s: { name: string }) => s.name === 'consents');
        return h && !h.ready && consents && !consents.ready && consents.instances === 0;
      },
      20_000,
      'consents shown as down',
    );
    await system.startService('consents');
  });

  test('parked events are listed without payload and replayed through their consumer, once, and the audit records it', async ({ system, gw }) => {
    const { subjectId } = await intakeSubject(system);
    // A genuine block that consents failed to apply (parked), and a forged one (signed with the wrong key).
    const block = EventSigner.fromKey('subjects', system.eventKeys.subjects.privateJwk).sign(
      buildEnvelope({ type: 'subject.blocked', source: 'subjects', actor: { id: 'dpo-1', roles: ['DPO'] }, subjectId, data: { subjectId } }),
    );
    const forged = EventSigner.fromKey('subjects', system.eventKeys.appeals.privateJwk).sign(
      buildEnvelope({ type: 'subject.blocked', source: 'subjects', actor: { id: 'x', roles: [] }, subjectId, data: { subjectId } }),
    );
    const genuineId = await park(system, 'consents', 'consents-lifecycle', block, 'subject.blocked');
    const forgedId = await park(system, 'consents', 'consents-lifecycle', forged, 'subject.blocked');

    const listed = await gw(PARKED, { service: 'consents' }, { as: 'OPS' });
    expect(listed.errors).toBeUndefined();
    expect(listed.data.parkedEvents.map((p: { id: string }) => p.id)).toEqual([forgedId, genuineId]);
    expect(listed.data.parkedEvents[1]).toEqual({
      id: genuineId,
      service: 'consents',
      consumer: 'consents-lifecycle',
      eventId: block.id,
      type: 'subject.blocked',
      error: 'Error: simulated failure',
      deliveries: 8,
      parkedAt: expect.any(String),
      resolvedAt: null,
    });
    // Never the payload: not the subject it names, not its signature.
    expect(JSON.stringify(listed)).not.toContain(subjectId);
    expect(JSON.stringify(listed)).not.toContain(block.signature);
    // Without a service: every service asked.
    expect((await gw(PARKED, {}, { as: 'OPS' })).data.parkedEvents).toHaveLength(2);
    await eventually(
      async () => {
        const h = (await gw(HEALTH, {}, { as: 'OPS' })).data?.platformHealth;
        return h?.services.find((s: { name: string }) => s.name === 'consents')?.parkedEvents === 2;
      },
      20_000,
      'parked count in platformHealth',
    );

    const replayed = await gw(REPLAY, { service: 'consents', id: genuineId }, { as: 'OPS' });
    expect(replayed.errors).toBeUndefined();
    expect(replayed.data.replayParkedEvent).toMatchObject({ id: genuineId, outcome: 'APPLIED', resolvedAt: expect.any(String) });
    // Applied by consents as on delivery: the block is in force there, and its receipt reaches subjects.
    expect(await system.db('consents').selectFrom('blocked_subjects').select('subject_id').where('subject_id', '=', subjectId).executeTakeFirst()).toBeTruthy();
    // Resolved: a second replay finds nothing to replay.
    expect((await gw(REPLAY, { service: 'consents', id: genuineId }, { as: 'OPS' })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // The forged one is refused again and stays parked.
    const refused = await gw(REPLAY, { service: 'consents', id: forgedId }, { as: 'OPS' });
    expect(refused.data.replayParkedEvent).toMatchObject({ outcome: 'REJECTED', resolvedAt: null });
    expect((await gw(PARKED, { service: 'consents' }, { as: 'OPS' })).data.parkedEvents.map((p: { id: string }) => p.id)).toEqual([forgedId]);

    // Both replays are in the audit, with who did it; never the payload.
    const entries = await eventually(
      async () => {
        const rows = await system.db('audit').selectFrom('audit_log').selectAll().where('event_type', '=', 'event.replayed').execute();
        return rows.length === 2 ? rows : undefined;
      },
      30_000,
      'replays audited',
    );
    expect(entries.map((e) => e.actor_id)).toEqual(['ops-1', 'ops-1']);
    expect(JSON.stringify(entries)).not.toContain(subjectId);
    expect(JSON.stringify(entries)).toContain('APPLIED');
    expect(JSON.stringify(entries)).toContain('REJECTED');

    // OPS only; arguments checked.
    for (const role of ['DPO', 'OPERATOR'] as const) {
      expect((await gw(PARKED, {}, { as: role })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await gw(REPLAY, { service: 'consents', id: forgedId }, { as: role })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const badService = await gw(PARKED, { service: 'nowhere' }, { as: 'OPS' });
    expect(badService.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'service' });
    expect((await gw(PARKED, { first: 1000 }, { as: 'OPS' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect((await gw(REPLAY, { service: 'consents', id: 'x1' }, { as: 'OPS' })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Every bad argument at once.
    const bothBad = await gw(REPLAY, { service: '', id: '' }, { as: 'OPS' });
    expect(bothBad.errors?.map((e) => [e.extensions?.code, e.extensions?.field]).sort()).toEqual([
      ['BAD_USER_INPUT', 'id'],
      ['BAD_USER_INPUT', 'service'],
    ]);
  });

  test('/metrics of every service carries the ops figures', async ({ system }) => {
    for (const [name, service] of system.services) {
      const metrics = await eventually(
        async () => {
          const text = await (await fetch(service.url.replace(/\/graphql$/, '/metrics'))).text();
          return text.includes('pdp_service_ready{') ? text : undefined;
        },
        10_000,
        `${name} metrics`,
      );
      for (const metric of [
        'pdp_service_ready',
        'pdp_outbox_backlog',
        'pdp_outbox_oldest_unpublished_seconds',
        'pdp_parked_events',
        'pdp_outbox_listener_up',
      ]) {
        expect(metrics).toMatch(new RegExp(`^${metric}\\{service="${name}"\\} \\d`, 'm'));
      }
      expect(metrics).toMatch(/^pdp_consumer_pending\{consumer="[a-z-]+"\} \d/m);
      expect(metrics).toMatch(/^pdp_consumer_ack_pending\{consumer="[a-z-]+"\} \d/m);
    }
  });
});

describe('the gateway in front of subgraph instances', () => {
  test('a subgraph that is down: the caller gets a generic internal error, never an address, host or library message', async ({ system, gw }) => {
    // Granted before appeals (the access registry's owner) goes down.
    const operator = await system.tokenFor(['OPERATOR']);
    await system.stopService('appeals');
    for (const token of [undefined, operator]) {
      const res = await gw(SUBMIT, { input: form() }, { token });
      expect(res.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      const text = JSON.stringify(res);
      for (const leak of ['127.0.0.1', 'localhost', 'ECONNREFUSED', 'fetch failed', 'request to', 'http://', '/graphql', 'appeals'])
        expect(text).not.toContain(leak);
    }
    await system.startService('appeals');
  });

  test('several URLs per subgraph: calls are balanced, and an instance that is down is passed over', async () => {
    // A port with nothing listening on it: an instance that is down.
    const dead = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    });
    const system = await startSystem({ extraSubgraphUrls: { appeals: [`http://127.0.0.1:${dead}/graphql`] } });
    try {
      for (let i = 0; i < 6; i += 1) {
        const res = await fetch(system.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: SUBMIT, variables: { input: form() } }),
        });
        const body = (await res.json()) as { errors?: unknown };
        expect(body.errors).toBeUndefined();
      }
      // Ready while one instance of each subgraph is; answered within a second.
      const began = Date.now();
      const ready = await fetch(system.url.replace(/\/graphql$/, '/readyz'));
      expect(ready.status).toBe(200);
      expect(Date.now() - began).toBeLessThan(1000);
      const metrics = await (await fetch(system.url.replace(/\/graphql$/, '/metrics'))).text();
      expect(metrics).toMatch(/pdp_gateway_subgraph_instances_ready\{subgraph="appeals"\} 1/);
    } finally {
      await system.destroy();
    }
  });
});
