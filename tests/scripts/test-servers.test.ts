/** `npm test`'s own PostgreSQL and NATS when none answers at the default addresses (tests/support/servers.ts). */
import { describe, expect, it } from 'vitest';
import { graphql } from '../support/client';
import { startSystem } from '../support/fixtures';
import { testEnv } from '../support/env';
import { answers, testServers } from '../support/servers';
import { freePort } from '../support/throwaway';

describe("the suite's servers", () => {
  it('with nothing at the default addresses it starts a PostgreSQL and a NATS with JetStream, the platform runs on them, and they are removed', async () => {
    // Addresses where nothing listens, as 127.0.0.1:5432 and :4222 on a machine with no servers running.
    const empty = { databaseUrl: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, natsUrl: `nats://127.0.0.1:${await freePort()}` };
    const servers = await testServers({}, empty);
    try {
      expect(servers.started).toEqual([
        expect.stringMatching(/^PostgreSQL on 127\.0\.0\.1:\d+$/),
        expect.stringMatching(/^nats-server with JetStream on 127\.0\.0\.1:\d+$/),
      ]);
      expect(servers.serverUrl).not.toBe(empty.databaseUrl);
      expect(servers.natsUrl).not.toBe(empty.natsUrl);
      const system = await startSystem({ serverUrl: servers.serverUrl, natsUrl: servers.natsUrl });
      try {
        const token = await system.tokenFor(['DPO']);
        const res = await graphql(system.url, `{ consentTemplate(code: "PRIVACY_POLICY", locale: KK) { title } }`, {}, { token });
        expect(res.errors).toBeUndefined();
        expect(res.data.consentTemplate.title).toBeTruthy();
      } finally {
        await system.destroy();
      }
    } finally {
      await servers.stop();
    }
    expect(await answers(servers.serverUrl, 5432)).toBe(false);
    expect(await answers(servers.natsUrl, 4222)).toBe(false);
  }, 120_000);

  it("uses the servers that answer (the machine's) or the ones named, and starts nothing", async () => {
    const { serverUrl, natsUrl } = testEnv();
    const found = await testServers({}, { databaseUrl: serverUrl, natsUrl });
    expect(found).toMatchObject({ serverUrl, natsUrl, started: [] });
    const named = await testServers({ TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', TEST_NATS_URL: 'nats://127.0.0.1:1' });
    expect(named).toMatchObject({ serverUrl: 'postgres://postgres@127.0.0.1:1/none', natsUrl: 'nats://127.0.0.1:1', started: [] });
  });
});
