import { auditServer } from 'graphql-http';
import { describe } from 'vitest';
import { expect, test } from '../support/fixtures';

/**
 * The GraphQL-over-HTTP server audit (graphql-http's `auditServer`) against the gateway: every MUST
 * passes. The SHOULD results are listed in docs/security.md ("GraphQL over HTTP").
 */
describe('GraphQL over HTTP', () => {
  test('the gateway passes every MUST of the graphql-http server audit', async ({ system }) => {
    const results = await auditServer({ url: system.url, fetchFn: fetch });
    const failures = results.filter((r) => r.status === 'error').map((r) => `${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(failures).toEqual([]);
    const warnings = results.filter((r) => r.status === 'warn').map((r) => `${r.id} ${r.name}`);
    if (process.env.PRINT_AUDIT) console.log(`${results.length} audits; SHOULD not met:\n${warnings.join('\n')}`);
    expect(results.length).toBeGreaterThan(40);
  });
});
