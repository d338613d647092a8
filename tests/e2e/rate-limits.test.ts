import { describe } from 'vitest';
import { graphql } from '../support/client';
import { expect, startSystem, test } from '../support/fixtures';

const QUERY = `query { consentTemplate(code: "ANNEX2_APPLICANT", locale: RU) { version } }`;
const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

describe('rate limits hold across gateway instances and IPv6 networks', () => {
  test('two gateways share the counts: together they allow what one allows, not twice as much', async () => {
    const system = await startSystem({ publicRatePerMinute: 4 });
    try {
      const second = await system.startExtraGateway();
      for (const url of [system.url, second.url, system.url, second.url]) expect((await graphql(url, QUERY)).status).toBe(200);
      for (const url of [system.url, second.url]) {
        const res = await graphql(url, QUERY);
        expect(res.status).toBe(429);
        expect(res.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      }
    } finally {
      await system.destroy();
    }
  });

  test('an IPv6 client is counted by its /64; an IPv4 address mapped into IPv6 is that IPv4 address', async () => {
    const system = await startSystem({ publicRatePerMinute: 3, gateway: { trustProxy: true } });
    try {
      for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff:ffff:ffff:fffe'])
        expect((await graphql(system.url, QUERY, {}, from(ip))).status).toBe(200);
      expect((await graphql(system.url, QUERY, {}, from('2001:db8:1:2:abcd::9'))).status).toBe(429);
      expect((await graphql(system.url, QUERY, {}, from('2001:db8:1:3::1'))).status).toBe(200);
      for (const ip of ['10.0.0.7', '::ffff:10.0.0.7', '10.0.0.7']) expect((await graphql(system.url, QUERY, {}, from(ip))).status).toBe(200);
      expect((await graphql(system.url, QUERY, {}, from('::ffff:10.0.0.7'))).status).toBe(429);
    } finally {
      await system.destroy();
    }
  });
});
