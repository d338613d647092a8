import { sql, type Kysely, type Transaction, type Updateable } from 'kysely';
import { kazakhstanDateOf } from '@pdp/shared';
import type { Database, IncidentRow, IncidentsTable } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

/** How many entry seqs an incident keeps as evidence (the first ones; `details.count` has them all). */
export const MAX_EVIDENCE = 100;

/** The open (not closed) incident of a rule and key raised since a time: a repeat adds evidence to it. */
export async function openIncidentFor(trx: Db, rule: string, key: string, since: Date): Promise<IncidentRow | undefined> {
  return trx
    .selectFrom('incidents')
    .selectAll()
    .where('rule', '=', rule)
    .where('incident_key', '=', key)
    .where('detected_at', '>', since)
    .where('status', '<>', 'CLOSED')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export interface NewIncident {
  rule: string;
  key: string;
  actorId: string;
  subjectId: string | null;
  detectedAt: Date;
  notifyBy: string;
  evidence: string[];
  details: Record<string, unknown>;
}

export async function insertIncident(trx: Db, i: NewIncident): Promise<IncidentRow> {
  return trx
    .insertInto('incidents')
    .values({
      rule: i.rule,
      incident_key: i.key,
      actor_id: i.actorId,
      subject_id: i.subjectId,
      detected_at: i.detectedAt,
      notify_by: i.notifyBy,
      evidence: JSON.stringify(i.evidence.slice(0, MAX_EVIDENCE)) as unknown as string[],
      details: JSON.stringify(i.details),
      acknowledged_at: null,
      acknowledged_by: null,
      reported_at: null,
      reported_by: null,
      reference: null,
      closed_at: null,
      closed_by: null,
      close_note: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Adds entries to an incident's evidence (up to MAX_EVIDENCE, no repeats) and counts them. */
export async function addEvidence(trx: Db, id: string, seqs: string[]): Promise<void> {
  await sql`
    update incidents set
      evidence = (select coalesce(jsonb_agg(s order by (s #>> '{}')::bigint), '[]'::jsonb) from (
        select distinct s from jsonb_array_elements(evidence || ${JSON.stringify(seqs)}::jsonb) s
        order by s limit ${MAX_EVIDENCE}) e),
      details = jsonb_set(details, '{count}', to_jsonb(coalesce((details->>'count')::int, 0) + ${seqs.length}))
    where id = ${id}`.execute(trx);
}

export async function lockIncident(trx: Transaction<Database>, id: string): Promise<IncidentRow | undefined> {
  return trx.selectFrom('incidents').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateIncident(trx: Transaction<Database>, id: string, patch: Updateable<IncidentsTable>): Promise<IncidentRow> {
  return trx.updateTable('incidents').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function incidentsByIds(db: Db, ids: readonly string[]): Promise<IncidentRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('incidents')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

export interface IncidentFilter {
  statuses: readonly string[] | null;
  /** Only those still to be reported whose day is before this date (YYYY-MM-DD, Kazakhstan). */
  overdueBefore: string | null;
  limit: number;
}

/** Newest first; overdue ones by their notification day, the most overdue first. */
export async function listIncidents(db: Db, f: IncidentFilter): Promise<IncidentRow[]> {
  let q = db.selectFrom('incidents').selectAll().limit(f.limit);
  if (f.statuses) q = q.where('status', 'in', [...f.statuses]);
  if (f.overdueBefore) {
    return q.where('status', 'in', ['OPEN', 'ACKNOWLEDGED']).where('notify_by', '<', f.overdueBefore).orderBy('notify_by').orderBy('id').execute();
  }
  return q.orderBy('id', 'desc').execute();
}

/** Incidents detected in [from, to), oldest first, for the control report (at most `limit`). */
export async function incidentsDetected(db: Db, from: Date, to: Date, limit: number): Promise<IncidentRow[]> {
  return db
    .selectFrom('incidents')
    .selectAll()
    .where('detected_at', '>=', from)
    .where('detected_at', '<', to)
    .orderBy('detected_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** How many incidents were detected in [from, to), and how many of them were (or are being) reported late. */
export async function incidentCounts(db: Db, from: Date, to: Date, today: string): Promise<{ opened: number; late: number }> {
  const kzDate = kazakhstanDateOf('reported_at');
  const row = await db
    .selectFrom('incidents')
    .select([
      (eb) => eb.fn.countAll<string>().as('opened'),
      sql<string>`count(*) filter (where (reported_at is not null and ${kzDate} > notify_by)
        or (reported_at is null and status in ('OPEN', 'ACKNOWLEDGED') and notify_by < ${today}::date))`.as('late'),
    ])
    .where('detected_at', '>=', from)
    .where('detected_at', '<', to)
    .executeTakeFirstOrThrow();
  return { opened: Number(row.opened), late: Number(row.late) };
}
