import { readFileSync } from 'node:fs';
import '@pdp/gateway';
import '@pdp/audit';
import { registry } from '@pdp/shared';
import { describe, expect, it } from 'vitest';

interface Panel {
  id: number;
  title: string;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Array<{ expr: string }>;
}
const dashboard = JSON.parse(readFileSync(new URL('../../ops/grafana/pdp-platform.json', import.meta.url), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
};

/** The Grafana dashboard (ops/grafana/pdp-platform.json) against what the processes really export. */
describe('the platform dashboard', () => {
  it('queries only metrics the services and the gateway export', () => {
    const known = new Set((registry.getMetricsAsArray() as Array<{ name: string }>).map((m) => m.name));
    const used = dashboard.panels.flatMap((p) =>
      p.targets.flatMap((t) => [...t.expr.matchAll(/\bpdp_[a-z_]+\b/g)].map(([m]) => ({ panel: p.title, metric: m! }))),
    );
    expect(used.length).toBeGreaterThan(15);
    for (const { panel, metric } of used) {
      const base = metric.replace(/_(bucket|sum|count)$/, '');
      expect(known.has(base) || known.has(metric), `${panel}: ${metric} is not exported`).toBe(true);
    }
  });

  it('shows what an ops person opens first: requests, errors by code, latency, backlog, consumer lag, parked events, incidents', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const metric of [
      'pdp_gateway_requests_total',
      'pdp_gateway_errors_total',
      'pdp_gateway_request_seconds_bucket',
      'pdp_outbox_backlog',
      'pdp_consumer_pending',
      'pdp_parked_events',
      'pdp_audit_incidents',
    ]) {
      expect(exprs, metric).toContain(metric);
    }
    expect(dashboard.uid).toBe('pdp-platform');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Panels sit on Grafana's 24-column grid without overlapping.
    for (const a of dashboard.panels) {
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of dashboard.panels) {
        if (a === b) continue;
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });
});
