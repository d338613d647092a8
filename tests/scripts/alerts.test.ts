import { readFileSync } from 'node:fs';
import '@pdp/gateway';
import '@pdp/audit';
import { registry } from '@pdp/shared';
import { describe, expect, it } from 'vitest';

const rules = readFileSync(new URL('../../ops/prometheus/alerts.yml', import.meta.url), 'utf8');
const runbook = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');

describe('the example alert rules', () => {
  const alerts = [...rules.matchAll(/^\s+- alert: (\w+)\n\s+expr: (.+)$/gm)].map(([, name, expr]) => ({ name: name!, expr: expr! }));

  it('use only metrics the services and the gateway export', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    const known = new Set((registry.getMetricsAsArray() as Array<{ name: string }>).map((m) => m.name));
    for (const { name, expr } of alerts) {
      for (const [metric] of expr.matchAll(/\b(pdp_[a-z_]+|process_start_time_seconds)\b/g)) {
        const base = metric!.replace(/_(bucket|sum|count)$/, '');
        expect(known.has(base) || known.has(metric!), `${name}: ${metric} is not exported`).toBe(true);
      }
    }
  });

  it('each has a runbook section: what it means and what to do', () => {
    for (const { name } of alerts) {
      expect(rules, name).toContain(`runbook: docs/operations.md#${name.toLowerCase()}`);
      const section = runbook.split(/^#### /m).find((s) => s.startsWith(`${name}\n`));
      expect(section, `no "#### ${name}" in docs/operations.md`).toBeDefined();
      expect(section!).toMatch(/\*\*Means\*\*/);
      expect(section!).toMatch(/\*\*Do\*\*/);
    }
  });
});
