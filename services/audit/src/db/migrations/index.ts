import { sql, type Kysely, type Migration } from 'kysely';
import { blockVersionsMigration, createBlockedSubjectsTable, dropBlockedSubjectsTable } from '@pdp/shared';

/** Frozen migrations of the audit database; add new ones, never edit these. */
export const migrations: Record<string, Migration> = {
  '2026_11_24_0001_audit_log': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'bigserial', (c) => c.primaryKey())
        .addColumn('event_id', 'uuid', (c) => c.notNull().unique())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('actor_roles', 'jsonb', (c) => c.notNull())
        .addColumn('subject_id', 'uuid')
        .addColumn('correlation_id', 'text')
        .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
        .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('details', 'jsonb', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_subject').on('audit_log').columns(['subject_id', 'seq']).execute();
      await db.schema.createIndex('audit_log_actor_time').on('audit_log').columns(['actor_id', 'operation', 'occurred_at']).execute();
      // Append-only: nobody, including the service itself, can quietly alter or remove an entry.
      await sql`
        create function audit_log_append_only() returns trigger language plpgsql as $$
        begin raise exception 'audit_log is append-only'; end $$`.execute(db);
      await sql`create trigger audit_log_no_update before update or delete on audit_log
        for each row execute function audit_log_append_only()`.execute(db);
      await sql`create trigger audit_log_no_truncate before truncate on audit_log
        for each statement execute function audit_log_append_only()`.execute(db);

      await db.schema
        .createTable('incidents')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('detected_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('details', 'jsonb', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('incidents_rule_actor').on('incidents').columns(['rule', 'actor_id', 'detected_at']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('incidents').execute();
      await db.schema.dropTable('audit_log').execute();
      await sql`drop function audit_log_append_only`.execute(db);
    },
  },
  '2026_11_25_0002_audit_evidence': {
    async up(db: Kysely<any>) {
      // Version 2 hashes cover every stored field (seq, recorded_at and these new ones included);
      // earlier entries keep version 1. ALTER TABLE fires no row trigger: existing entries are untouched.
      await sql`alter table audit_log
        add column hash_version smallint not null default 1,
        add column creditor_id text,
        add column purpose text,
        add column outcome text,
        add column client_key text,
        add column resource text,
        add column resource_ids jsonb,
        add column fields jsonb`.execute(db);
      await sql`alter table audit_log alter column hash_version drop default`.execute(db);
      // Search (auditEntries): each filter walks its own index in seq order; a period is a seq range
      // found through recorded_at, which only grows with seq.
      await db.schema.createIndex('audit_log_actor_seq').on('audit_log').columns(['actor_id', 'seq']).execute();
      await db.schema.createIndex('audit_log_operation_seq').on('audit_log').columns(['operation', 'seq']).execute();
      await db.schema.createIndex('audit_log_source_seq').on('audit_log').columns(['source', 'seq']).execute();
      await db.schema.createIndex('audit_log_recorded').on('audit_log').columns(['recorded_at', 'seq']).execute();
      // Detection of repeated refusals of one anonymous client at the gateway.
      await sql`create index audit_log_client_time on audit_log (client_key, occurred_at) where client_key is not null`.execute(db);

      // Signed heads of the chain: an Ed25519 note over (origin, seq, hash, time, key id).
      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('signed_at', 'timestamptz', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .execute();
      // Each verification run, signed like a checkpoint, so a later run may resume after it.
      await db.schema
        .createTable('audit_verifications')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('verified_at', 'timestamptz', (c) => c.notNull())
        .addColumn('full_run', 'boolean', (c) => c.notNull())
        .addColumn('valid', 'boolean', (c) => c.notNull())
        .addColumn('entries_checked', 'bigint', (c) => c.notNull())
        .addColumn('head_seq', 'bigint', (c) => c.notNull())
        .addColumn('through_seq', 'bigint')
        .addColumn('through_hash', 'text')
        .addColumn('first_invalid_seq', 'bigint')
        .addColumn('reason', 'text')
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .execute();
      for (const table of ['audit_checkpoints', 'audit_verifications']) {
        await sql`create trigger ${sql.raw(`${table}_no_update`)} before update or delete on ${sql.table(table)}
          for each row execute function audit_log_append_only()`.execute(db);
        await sql`create trigger ${sql.raw(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
          for each statement execute function audit_log_append_only()`.execute(db);
      }

      // Incidents get a lifecycle (7.2.2) and the breach-notification deadline (Law 94-V, one working day).
      await sql`alter table incidents
        add column status text not null default 'OPEN',
        add column incident_key text,
        add column subject_id uuid,
        add column evidence jsonb not null default '[]',
        add column notify_by date,
        add column acknowledged_at timestamptz,
        add column acknowledged_by text,
        add column reported_at timestamptz,
        add column reported_by text,
        add column reference text,
        add column closed_at timestamptz,
        add column closed_by text,
        add column close_note text`.execute(db);
      await db.schema.createIndex('incidents_rule_key').on('incidents').columns(['rule', 'incident_key', 'detected_at']).execute();
      await db.schema.createIndex('incidents_status_notify').on('incidents').columns(['status', 'notify_by']).execute();
      await db.schema.createIndex('incidents_detected').on('incidents').columns(['detected_at']).execute();

      // Subjects blocked now, from subjects' events: an allowed read of one of them is an incident.
      await createBlockedSubjectsTable(db);
    },
    async down(db: Kysely<any>) {
      await dropBlockedSubjectsTable(db);
      for (const index of ['incidents_rule_key', 'incidents_status_notify', 'incidents_detected']) await db.schema.dropIndex(index).execute();
      await sql`alter table incidents drop column status, drop column incident_key, drop column subject_id, drop column evidence,
        drop column notify_by, drop column acknowledged_at, drop column acknowledged_by, drop column reported_at, drop column reported_by,
        drop column reference, drop column closed_at, drop column closed_by, drop column close_note`.execute(db);
      await db.schema.dropTable('audit_verifications').execute();
      await db.schema.dropTable('audit_checkpoints').execute();
      for (const index of ['audit_log_actor_seq', 'audit_log_operation_seq', 'audit_log_source_seq', 'audit_log_recorded', 'audit_log_client_time']) {
        await db.schema.dropIndex(index).execute();
      }
      await sql`alter table audit_log drop column hash_version, drop column creditor_id, drop column purpose, drop column outcome,
        drop column client_key, drop column resource, drop column resource_ids, drop column fields`.execute(db);
    },
  },
  '2026_12_05_0003_block_versions': blockVersionsMigration,
  '2026_12_07_0004_head_signatures': {
    async up(db: Kysely<any>) {
      // The last entry of each append carries the recorder's signature of the new head (a checkpoint
      // note of it, signed at commit): the database's head is then always one the audit wrote, or
      // provably not. Not covered by the entry's hash (it signs that hash). ALTER fires no row trigger.
      await sql`alter table audit_log add column head_key_id text, add column head_signature text`.execute(db);
      await sql`create index audit_log_signed_heads on audit_log (seq) where head_signature is not null`.execute(db);
      // Which stream messages the recorder handled, until reconciliation has passed them
      // (consumer.ts, "Reconciliation"): bookkeeping, not evidence, so not append-only.
      await db.schema
        .createTable('audit_stream_seqs')
        .addColumn('stream_seq', 'bigint', (c) => c.primaryKey())
        .execute();
      await db.schema
        .createTable('audit_reconciliation')
        .addColumn('consumer', 'text', (c) => c.primaryKey())
        .addColumn('through_seq', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('audit_reconciliation').execute();
      await db.schema.dropTable('audit_stream_seqs').execute();
      await db.schema.dropIndex('audit_log_signed_heads').execute();
      await sql`alter table audit_log drop column head_key_id, drop column head_signature`.execute(db);
    },
  },
};
