import { sql, type Kysely, type Migration } from 'kysely';

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
};
