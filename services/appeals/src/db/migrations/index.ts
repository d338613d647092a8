import { sql, type Kysely, type Migration } from 'kysely';

/** Frozen migrations of the appeals database; add new ones, never edit these. */
export const migrations: Record<string, Migration> = {
  '2026_11_24_0001_appeals': {
    async up(db: Kysely<any>) {
      await sql`create sequence appeal_reference_seq`.execute(db);
      await db.schema
        .createTable('appeals')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('reference', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('APPEAL','COMPLAINT','SCHEDULE_REQUEST')`))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('locale', 'text', (c) => c.notNull().check(sql`locale in ('KK','RU')`))
        .addColumn('subject_id', 'uuid')
        .addColumn('phone_enc', 'text', (c) => c.notNull())
        .addColumn('email_enc', 'text', (c) => c.notNull())
        .addColumn('description_enc', 'text', (c) => c.notNull())
        .addColumn('submitted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('deadline', 'date', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('appeals_subject').on('appeals').column('subject_id').execute();
      await sql`create index appeals_open_deadline on appeals (deadline) where status <> 'CLOSED'`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('appeals').execute();
      await sql`drop sequence appeal_reference_seq`.execute(db);
    },
  },
};
