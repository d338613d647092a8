import { sql, type Kysely, type Migration } from 'kysely';

/** Frozen migrations of the subjects database; add new ones, never edit these. */
export const migrations: Record<string, Migration> = {
  '2026_11_24_0001_registry': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('subjects')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('ACTIVE','BLOCKED','DEPERSONALIZED','DESTROYED')`))
        .addColumn('iin_enc', 'text')
        .addColumn('iin_bidx', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      // One live subject per IIN; the same IIN always finds the same subject.
      await sql`create unique index subjects_iin_bidx on subjects (iin_bidx) where iin_bidx is not null`.execute(db);

      await db.schema
        .createTable('subject_categories')
        .addColumn('subject_id', 'uuid', (c) => c.notNull().references('subjects.id').onDelete('cascade'))
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('subject_categories_pk', ['subject_id', 'category'])
        .execute();

      await db.schema
        .createTable('subject_sources')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('subject_id', 'uuid', (c) => c.notNull().references('subjects.id').onDelete('cascade'))
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('reference', 'text')
        .addColumn('collected_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('subject_sources_subject').on('subject_sources').column('subject_id').execute();

      await db.schema
        .createTable('subject_purposes')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('subject_id', 'uuid', (c) => c.notNull().references('subjects.id').onDelete('cascade'))
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('reference', 'text')
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('ACTIVE','ACHIEVED')`))
        .addColumn('declared_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('achieved_at', 'timestamptz')
        .execute();
      await db.schema.createIndex('subject_purposes_subject').on('subject_purposes').column('subject_id').execute();
      await sql`create unique index subject_purposes_ref on subject_purposes (subject_id, code, reference)`.execute(db);
    },
    async down(db: Kysely<any>) {
      for (const t of ['subject_purposes', 'subject_sources', 'subject_categories', 'subjects']) {
        await db.schema.dropTable(t).execute();
      }
    },
  },
};
