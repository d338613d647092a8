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
  '2026_11_24_0002_lifecycle': {
    async up(db: Kysely<any>) {
      // Depersonalization clears these; the non-identifying facts of the appeal stay for statistics.
      for (const column of ['reference', 'phone_enc', 'email_enc', 'description_enc']) {
        await db.schema.alterTable('appeals').alterColumn(column, (c) => c.dropNotNull()).execute();
      }
      await db.schema.alterTable('appeals').addColumn('depersonalized_at', 'timestamptz').execute();
      // Subjects whose processing is stopped (6.1.3), as subjects announced them.
      await db.schema
        .createTable('blocked_subjects')
        .addColumn('subject_id', 'uuid', (c) => c.primaryKey())
        .addColumn('blocked_at', 'timestamptz', (c) => c.notNull())
        .execute();
      // Earlier values of corrected contact fields (6.1.2), encrypted; erased with the appeal.
      await db.schema
        .createTable('contact_history')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('appeal_id', 'uuid', (c) => c.notNull().references('appeals.id').onDelete('cascade'))
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('previous_enc', 'text')
        .addColumn('request_id', 'uuid', (c) => c.notNull())
        .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('contact_history_appeal').on('contact_history').column('appeal_id').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('contact_history').execute();
      await db.schema.dropTable('blocked_subjects').execute();
      await db.schema.alterTable('appeals').dropColumn('depersonalized_at').execute();
    },
  },
  '2026_11_25_0003_history_channels_status': {
    async up(db: Kysely<any>) {
      // The appeal's story (status changes and notes: when, by whom); a note is free text, so encrypted.
      await db.schema
        .createTable('appeal_changes')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('appeal_id', 'uuid', (c) => c.notNull().references('appeals.id').onDelete('cascade'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('note_enc', 'text')
        .addColumn('changed_by', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('appeal_changes_appeal').on('appeal_changes').columns(['appeal_id', 'id']).execute();
      // Who typed in a paper or in-person appeal (null for the web forms).
      await db.schema.alterTable('appeals').addColumn('entered_by', 'text').execute();
      // Keyed hash of the applicant's IIN, so the person can ask for the status with reference + IIN;
      // its own purpose string, so it matches no other service's index. Cleared by erasure.
      await db.schema.alterTable('appeals').addColumn('iin_bidx', 'text').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('appeals').dropColumn('iin_bidx').execute();
      await db.schema.alterTable('appeals').dropColumn('entered_by').execute();
      await db.schema.dropTable('appeal_changes').execute();
    },
  },
};
