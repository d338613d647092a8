import { sql, type Kysely, type Migration } from 'kysely';
import { blockVersionsMigration, createBlockedSubjectsTable, dropBlockedSubjectsTable, fieldEncryptionMigration } from '@pdp/shared';

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
        await db.schema
          .alterTable('appeals')
          .alterColumn(column, (c) => c.dropNotNull())
          .execute();
      }
      await db.schema.alterTable('appeals').addColumn('depersonalized_at', 'timestamptz').execute();
      // Subjects whose processing is stopped (6.1.3), as subjects announced them.
      await createBlockedSubjectsTable(db);
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
      await dropBlockedSubjectsTable(db);
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
  '2026_11_25_0004_control_report': {
    async up(db: Kysely<any>) {
      // The control report (7.2.4) counts appeals received in a period.
      await db.schema.createIndex('appeals_submitted').on('appeals').column('submitted_at').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('appeals_submitted').execute();
    },
  },
  '2026_11_25_0005_worklist_partners': {
    async up(db: Kysely<any>) {
      // The worklist: who works it, the Chamber's answer (PD: encrypted), forwarding to a creditor.
      await db.schema
        .alterTable('appeals')
        .addColumn('assignee', 'text')
        .addColumn('answer_enc', 'text')
        .addColumn('answered_at', 'timestamptz')
        .addColumn('forwarded_to', 'uuid')
        .addColumn('forwarded_fields', sql`text[]`)
        .addColumn('forwarded_at', 'timestamptz')
        .addColumn('partner_response_enc', 'text')
        .addColumn('partner_responded_at', 'timestamptz')
        .execute();
      // Newest first, filtered by status, kind or assignee: one index per filter, each ending in the page order.
      await sql`create index appeals_page on appeals (submitted_at desc, id desc) where depersonalized_at is null`.execute(db);
      await sql`create index appeals_status_page on appeals (status, submitted_at desc, id desc) where depersonalized_at is null`.execute(db);
      await sql`create index appeals_kind_page on appeals (kind, submitted_at desc, id desc) where depersonalized_at is null`.execute(db);
      await sql`create index appeals_assignee_page on appeals (assignee, submitted_at desc, id desc) where depersonalized_at is null`.execute(db);
      await sql`create index appeals_partner_page on appeals (forwarded_to, forwarded_at desc, id desc) where forwarded_to is not null`.execute(db);
      // Creditors (partners): legal entities, their BIN is not personal data.
      await db.schema
        .createTable('creditors')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('bin', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('country', 'text', (c) => c.notNull())
        .addColumn('registered_by', 'text', (c) => c.notNull())
        .addColumn('registered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      // What consents told us (events): which consents allow transfer to third parties, and whether
      // they still stand. Forwarding asks this, never consents itself.
      await db.schema
        .createTable('transfer_consents')
        .addColumn('consent_id', 'uuid', (c) => c.primaryKey())
        .addColumn('appeal_id', 'uuid')
        .addColumn('subject_id', 'uuid')
        .addColumn('allows_transfer', 'boolean', (c) => c.notNull())
        .addColumn('withdrawn_at', 'timestamptz')
        .execute();
      await db.schema.createIndex('transfer_consents_subject').on('transfer_consents').column('subject_id').execute();
      await db.schema.createIndex('transfer_consents_appeal').on('transfer_consents').column('appeal_id').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('transfer_consents').execute();
      await db.schema.dropTable('creditors').execute();
      for (const name of ['appeals_page', 'appeals_status_page', 'appeals_kind_page', 'appeals_assignee_page', 'appeals_partner_page']) {
        await sql`drop index ${sql.raw(name)}`.execute(db);
      }
      for (const column of [
        'assignee',
        'answer_enc',
        'answered_at',
        'forwarded_to',
        'forwarded_fields',
        'forwarded_at',
        'partner_response_enc',
        'partner_responded_at',
      ]) {
        await db.schema.alterTable('appeals').dropColumn(column).execute();
      }
    },
  },
  '2026_11_25_0006_worklist_counts': {
    async up(db: Kysely<any>) {
      // totalCount reads these entries only (index-only scans): the status and kind filters with the
      // subject for the blocked check, assignee and deadline for the other filters; and the partner's
      // view by creditor with what its visibility checks need. Without them the count fetched every
      // matching row from the heap (bench/worklist).
      await sql`create index appeals_count on appeals (status, kind, subject_id) include (assignee, deadline) where depersonalized_at is null`.execute(db);
      await sql`create index appeals_partner_count on appeals (forwarded_to, subject_id) include (id) where forwarded_to is not null and depersonalized_at is null`.execute(
        db,
      );
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('appeals_partner_count').execute();
      await db.schema.dropIndex('appeals_count').execute();
    },
  },
  '2026_11_25_0007_standing_transfer_consents': {
    async up(db: Kysely<any>) {
      // The consents that allow transfer and still stand, by subject and by appeal: what the partner's
      // view and forwarding ask, one index-only probe each.
      await sql`create index transfer_consents_standing_subject on transfer_consents (subject_id) where allows_transfer and withdrawn_at is null`.execute(db);
      await sql`create index transfer_consents_standing_appeal on transfer_consents (appeal_id) where allows_transfer and withdrawn_at is null`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('transfer_consents_standing_appeal').execute();
      await db.schema.dropIndex('transfer_consents_standing_subject').execute();
    },
  },
  '2026_12_02_0008_withdrawn_appeal_consents': {
    async up(db: Kysely<any>) {
      // The consents withdrawn, by the appeal they were given with: an appeal whose own consent was
      // withdrawn leaves the partner's view and cannot be forwarded (few rows; one probe each).
      await sql`create index transfer_consents_withdrawn_appeal on transfer_consents (appeal_id) where withdrawn_at is not null`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('transfer_consents_withdrawn_appeal').execute();
    },
  },
  '2026_12_05_0009_block_versions': blockVersionsMigration,
  '2026_12_07_0010_access_registry': {
    async up(db: Kysely<any>) {
      // The access registry (Law Art. 25(3)): who may do what, and since when. A grant row is never
      // deleted; a revocation or a replacement closes it, so the rows are the record of every day.
      // `version` orders every change of the registry (grants and creditor suspensions), for the
      // gateways' view (access-sync.ts).
      await sql`create sequence access_version_seq`.execute(db);
      await db.schema
        .createTable('access_grants')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('account', 'text', (c) => c.notNull())
        // A staff member's name: personal data, encrypted like every other.
        .addColumn('display_name_enc', 'text', (c) => c.notNull())
        .addColumn('roles', sql`text[]`, (c) => c.notNull())
        .addColumn('creditor_id', 'uuid', (c) => c.references('creditors.id'))
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('granted_by', 'text', (c) => c.notNull())
        .addColumn('granted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('revoked_at', 'timestamptz')
        .addColumn('revoked_by', 'text')
        .addColumn('revoke_reason', 'text')
        .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(sql`nextval('access_version_seq')`))
        .addCheckConstraint('access_grants_partner_creditor', sql`(creditor_id is not null) = ('PARTNER' = any(roles))`)
        .addCheckConstraint('access_grants_revocation', sql`(revoked_at is null) = (revoked_by is null) and (revoked_at is null) = (revoke_reason is null)`)
        .execute();
      await sql`create unique index access_grants_active on access_grants (account) where revoked_at is null`.execute(db);
      await db.schema.createIndex('access_grants_listing').on('access_grants').columns(['granted_at', 'id']).execute();
      await db.schema.createIndex('access_grants_account').on('access_grants').columns(['account', 'granted_at']).execute();
      await db.schema.createIndex('access_grants_creditor').on('access_grants').column('creditor_id').execute();
      await db.schema.createIndex('access_grants_version').on('access_grants').column('version').execute();
      await db.schema
        .createTable('creditor_suspensions')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('creditor_id', 'uuid', (c) => c.notNull().references('creditors.id'))
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('suspended_by', 'text', (c) => c.notNull())
        .addColumn('suspended_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('resumed_at', 'timestamptz')
        .addColumn('resumed_by', 'text')
        .addColumn('resume_reason', 'text')
        .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(sql`nextval('access_version_seq')`))
        .execute();
      await sql`create unique index creditor_suspensions_open on creditor_suspensions (creditor_id) where resumed_at is null`.execute(db);
      await db.schema.createIndex('creditor_suspensions_version').on('creditor_suspensions').column('version').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('creditor_suspensions').execute();
      await db.schema.dropTable('access_grants').execute();
      await sql`drop sequence access_version_seq`.execute(db);
    },
  },
  '2026_12_07_0010_field_encryption': fieldEncryptionMigration,
};
