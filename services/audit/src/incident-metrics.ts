import { registry } from '@pdp/shared';
import { sql } from 'kysely';
import { Gauge } from 'prom-client';
import type { Deps } from './config';

/**
 * Incidents by status, for the dashboards and alerts: an incident is the audit's own record of a
 * possible breach (7.2.2), and ops must see one opened without reading the audit. Counted from the
 * database every few seconds by each audit instance (they agree: one database).
 */
const incidents = new Gauge({
  name: 'pdp_audit_incidents',
  help: 'Incidents by status (OPEN, ACKNOWLEDGED, REPORTED, CLOSED); OPEN ones past their notification day are `overdue`',
  labelNames: ['status'],
  registers: [registry],
});

export function incidentMetricsJob(deps: Deps) {
  return {
    name: 'audit-incident-metrics',
    everyMs: 5000,
    run: async () => {
      const { rows } = await sql<{ status: string; n: string; overdue: string }>`
        select status, count(*) as n, count(*) filter (where status in ('OPEN', 'ACKNOWLEDGED') and notify_by < current_date) as overdue
          from incidents group by status`.execute(deps.db);
      incidents.reset();
      let overdue = 0;
      for (const r of rows) {
        incidents.set({ status: r.status }, Number(r.n));
        overdue += Number(r.overdue);
      }
      incidents.set({ status: 'overdue' }, overdue);
    },
  };
}
