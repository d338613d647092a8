import { eventually } from '@pdp/shared/testing';
import { describe } from 'vitest';
import { expect, test } from '../support/fixtures';

const base = (url: string) => url.replace(/\/graphql$/, '');

describe('health', () => {
  test('readyz reports a subgraph down without taking the gateway out; ?strict asks for all', async ({ system }) => {
    const gateway = base(system.url);
    expect((await fetch(`${gateway}/livez`)).status).toBe(200);
    const ready = await fetch(`${gateway}/readyz`);
    expect(ready.status).toBe(200);
    // Each subgraph's own schema composes into the supergraph the gateway serves.
    await eventually(
      async () => ['subjects', 'appeals', 'consents', 'audit'].every((n) => system.gateway!.schemaOf(n as 'subjects') === 'matches'),
      15_000,
      'schemas checked',
    );
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { subjects: 'ok', appeals: 'ok', consents: 'ok', audit: 'ok', 'identity-provider': 'ok', 'access-registry': 'ok', schema: 'ok' },
    });
    const service = await fetch(`${base(system.services.get('appeals')!.url)}/readyz`);
    // The body also tells whether its consumers are behind (`events`), without deciding readiness.
    expect(await service.json()).toMatchObject({
      status: 'ready',
      checks: { database: 'ok', nats: 'ok', 'access-registry': 'ok' },
      events: { drained: expect.any(Boolean) },
    });

    expect((await fetch(`${gateway}/readyz?strict`)).status).toBe(200);

    await system.stopService('consents');
    // One subgraph down is down for every gateway: an orchestrator must not take them all out of
    // service, so plain /readyz stays 200 and reports it; ?strict is the contract's "everything".
    const degraded = await fetch(`${gateway}/readyz`);
    expect(degraded.status).toBe(200);
    const body = (await degraded.json()) as { checks: Record<string, string> };
    expect(body.checks.consents).not.toBe('ok');
    expect(body.checks.subjects).toBe('ok');
    expect((await fetch(`${gateway}/readyz?strict`)).status).toBe(503);
    expect((await fetch(`${gateway}/livez`)).status).toBe(200);
    await eventually(
      async () => /pdp_gateway_subgraph_instances_ready\{subgraph="consents"\} 0/.test(await (await fetch(`${gateway}/metrics`)).text()),
      10_000,
      'subgraph state in metrics',
    );

    await system.startService('consents');
    await eventually(async () => (await fetch(`${gateway}/readyz?strict`)).status === 200, 15_000, 'strict ready again');
    const metrics = await (await fetch(`${gateway}/metrics`)).text();
    expect(metrics).toContain('pdp_gateway_auth_failures_total');
    expect(metrics).toMatch(/pdp_gateway_subgraph_instances_ready\{subgraph="consents"\} 1/);
  });
});
