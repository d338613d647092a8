import { sql, type Kysely, type Migration } from 'kysely';
import { fieldEncryptionMigration } from '@pdp/shared';

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
  '2026_11_24_0002_lifecycle': {
    async up(db: Kysely<any>) {
      // Blocking (6.1.3): who, when, why; the reason is staff text and is never put in an event.
      await db.schema
        .createTable('blocks')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('subject_id', 'uuid', (c) => c.notNull().references('subjects.id').onDelete('cascade'))
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('blocked_by', 'text', (c) => c.notNull())
        .addColumn('blocked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('unblock_reason', 'text')
        .addColumn('unblocked_by', 'text')
        .addColumn('unblocked_at', 'timestamptz')
        .execute();
      await db.schema.createIndex('blocks_subject').on('blocks').column('subject_id').execute();
      // The latest block state each holder has confirmed.
      await db.schema
        .createTable('block_receipts')
        .addColumn('subject_id', 'uuid', (c) => c.notNull())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('blocked', 'boolean', (c) => c.notNull())
        .addColumn('applied_at', 'timestamptz', (c) => c.notNull())
        .addPrimaryKeyConstraint('block_receipts_pk', ['subject_id', 'service'])
        .execute();

      // Erasure acts (4.6, 6.1.4). No foreign key: the act outlives the subject's data.
      await db.schema
        .createTable('erasure_acts')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('subject_id', 'uuid', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull().check(sql`method in ('DESTROY','DEPERSONALIZE')`))
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('PROPOSED','APPROVED','COMPLETED','REJECTED')`))
        .addColumn('grounds', 'text', (c) => c.notNull())
        .addColumn('automatic', 'boolean', (c) => c.notNull())
        .addColumn('proposed_by', 'text', (c) => c.notNull())
        .addColumn('proposed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'timestamptz')
        .addColumn('decision_note', 'text')
        .addColumn('services', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
        .addColumn('completed_at', 'timestamptz')
        .execute();
      await db.schema.createIndex('erasure_acts_subject').on('erasure_acts').column('subject_id').execute();
      await sql`create index erasure_acts_open on erasure_acts (status) where status in ('PROPOSED','APPROVED')`.execute(db);
      // At most one open act per subject.
      await sql`create unique index erasure_acts_one_open on erasure_acts (subject_id) where status in ('PROPOSED','APPROVED')`.execute(db);
      await db.schema
        .createTable('erasure_receipts')
        .addColumn('act_id', 'uuid', (c) => c.notNull().references('erasure_acts.id'))
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('completed_at', 'timestamptz', (c) => c.notNull())
        .addPrimaryKeyConstraint('erasure_receipts_pk', ['act_id', 'service'])
        .execute();

      // Rectification requests (6.1.2), with working-day deadlines; kept as the history of changes.
      await db.schema
        .createTable('rectification_requests')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('subject_id', 'uuid', (c) => c.notNull().references('subjects.id').onDelete('cascade'))
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('new_value_enc', 'text', (c) => c.notNull())
        .addColumn('documents', 'jsonb', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('PENDING','APPROVED','REJECTED','APPLIED')`))
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('deadline', 'date', (c) => c.notNull())
        .addColumn('reviewed_by', 'text')
        .addColumn('reviewed_at', 'timestamptz')
        .addColumn('review_note', 'text')
        .addColumn('applied_at', 'timestamptz')
        .execute();
      await db.schema.createIndex('rectification_subject').on('rectification_requests').column('subject_id').execute();
      await sql`create index rectification_open_deadline on rectification_requests (deadline) where status in ('PENDING','APPROVED')`.execute(db);
    },
    async down(db: Kysely<any>) {
      for (const t of ['rectification_requests', 'erasure_receipts', 'erasure_acts', 'block_receipts', 'blocks']) {
        await db.schema.dropTable(t).execute();
      }
    },
  },
  '2026_11_25_0003_worklists': {
    async up(db: Kysely<any>) {
      // The DPO's and the Chairman's lists, paged by (time, id): one index per filter.
      await sql`create index rectification_status_page on rectification_requests (status, requested_at, id)`.execute(db);
      await sql`create index rectification_page on rectification_requests (requested_at, id)`.execute(db);
      await sql`create index erasure_acts_status_page on erasure_acts (status, proposed_at, id)`.execute(db);
      await sql`create index erasure_acts_page on erasure_acts (proposed_at, id)`.execute(db);
      await sql`create index erasure_acts_subject_page on erasure_acts (subject_id, proposed_at, id)`.execute(db);
    },
    async down(db: Kysely<any>) {
      for (const name of ['rectification_status_page', 'rectification_page', 'erasure_acts_status_page', 'erasure_acts_page', 'erasure_acts_subject_page']) {
        await sql`drop index ${sql.raw(name)}`.execute(db);
      }
    },
  },
  '2026_11_25_0004_control_report': {
    async up(db: Kysely<any>) {
      // The control report (7.2.4) counts acts completed in a period.
      await sql`create index erasure_acts_completed on erasure_acts (completed_at) where completed_at is not null`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index erasure_acts_completed`.execute(db);
    },
  },
  '2026_11_25_0005_partner_grants': {
    async up(db: Kysely<any>) {
      // Which creditor may read which subject's IIN, for which forwarded appeal (from appeal.forwarded).
      // A withdrawal revokes; a block or an erasure hides it (checked against the subject's status).
      await db.schema
        .createTable('partner_grants')
        .addColumn('appeal_id', 'uuid', (c) => c.primaryKey())
        .addColumn('creditor_id', 'uuid', (c) => c.notNull())
        .addColumn('subject_id', 'uuid', (c) => c.notNull())
        .addColumn('iin', 'boolean', (c) => c.notNull())
        .addColumn('granted_at', 'timestamptz', (c) => c.notNull())
        .addColumn('revoked_at', 'timestamptz')
        .execute();
      await db.schema.createIndex('partner_grants_subject').on('partner_grants').column('subject_id').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('partner_grants').execute();
    },
  },
  '2026_11_25_0006_employments_contracts': {
    async up(db: Kysely<any>) {
      // Employees and candidates registered by HR with the signed Annex 1 (3.1.1, 5.1), and
      // counterparties with their contract (3.1.2, 5.2). Names, positions and contract numbers are
      // personal data: stored encrypted, cleared by depersonalization, removed by destruction.
      await db.schema
        .createTable('employments')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('subject_id', 'uuid', (c) => c.notNull().references('subjects.id').onDelete('cascade'))
        .addColumn('consent_id', 'uuid', (c) => c.notNull())
        .addColumn('full_name_enc', 'text')
        .addColumn('position_enc', 'text')
        .addColumn('signed_at', 'date', (c) => c.notNull())
        .addColumn('locale', 'text', (c) => c.notNull().check(sql`locale in ('KK','RU')`))
        .addColumn('registered_by', 'text', (c) => c.notNull())
        .addColumn('registered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('ended_on', 'date')
        .addColumn('ended_by', 'text')
        .execute();
      await db.schema.createIndex('employments_subject').on('employments').column('subject_id').execute();
      await db.schema
        .createTable('contracts')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('subject_id', 'uuid', (c) => c.notNull().references('subjects.id').onDelete('cascade'))
        .addColumn('consent_id', 'uuid', (c) => c.notNull().unique())
        .addColumn('full_name_enc', 'text')
        .addColumn('contract_number_enc', 'text')
        .addColumn('contract_date', 'date', (c) => c.notNull())
        .addColumn('consent_form', 'text', (c) => c.notNull().check(sql`consent_form in ('CONTRACT_CLAUSE','SEPARATE_DOCUMENT')`))
        .addColumn('locale', 'text', (c) => c.notNull().check(sql`locale in ('KK','RU')`))
        .addColumn('registered_by', 'text', (c) => c.notNull())
        .addColumn('registered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('contracts_subject').on('contracts').column('subject_id').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('contracts').execute();
      await db.schema.dropTable('employments').execute();
    },
  },
  '2026_12_05_0007_block_versions': {
    async up(db: Kysely<any>) {
      // Each block and unblock of a subject is numbered, under its row lock, and the number goes with
      // the event: a holder applies only a newer one, so a late block cannot undo its unblock.
      await db.schema
        .alterTable('subjects')
        .addColumn('block_version', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      // The version each holder's receipt answers (null: a receipt written before).
      await db.schema.alterTable('block_receipts').addColumn('version', 'integer').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('block_receipts').dropColumn('version').execute();
      await db.schema.alterTable('subjects').dropColumn('block_version').execute();
    },
  },
  '2026_12_07_0008_field_encryption': fieldEncryptionMigration,
};
