import { sql, type Kysely, type Migration } from 'kysely';
import { blockVersionsMigration, createBlockedSubjectsTable, dropBlockedSubjectsTable, fieldEncryptionMigration } from '@pdp/shared';
import { REGULATION_CONSENT_TEXTS } from './texts-2020';
import { CONTENT_2026, TEXTS_2026, TITLES_2026 } from './texts-2026';

const TITLES = {
  ANNEX1_EMPLOYEE: { KK: 'Дербес деректерді жинау және өңдеуге жұмыскердің келісімі', RU: 'Согласие работника на сбор и обработку персональных данных' },
  ANNEX2_APPLICANT: { KK: 'Дербес деректерді жинау және өңдеуге келісім', RU: 'Согласие на сбор и обработку персональных данных' },
} as const;

/** Frozen migrations of the consents database; add new ones, never edit these. */
export const migrations: Record<string, Migration> = {
  '2026_11_24_0001_consents': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('consent_templates')
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('locale', 'text', (c) => c.notNull().check(sql`locale in ('KK','RU')`))
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('effective_from', 'timestamptz', (c) => c.notNull())
        .addPrimaryKeyConstraint('consent_templates_pk', ['code', 'version', 'locale'])
        .execute();

      await db.schema
        .createTable('consents')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('subject_id', 'uuid')
        .addColumn('template_code', 'text', (c) => c.notNull())
        .addColumn('template_version', 'integer', (c) => c.notNull())
        .addColumn('locale', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('given_at', 'timestamptz', (c) => c.notNull())
        .addColumn('ip_enc', 'text')
        .addColumn('user_agent_enc', 'text')
        .addColumn('appeal_id', 'uuid', (c) => c.unique())
        .addColumn('withdrawn_at', 'timestamptz')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addForeignKeyConstraint('consents_template_fk', ['template_code', 'template_version', 'locale'], 'consent_templates', ['code', 'version', 'locale'])
        .execute();
      await db.schema.createIndex('consents_subject').on('consents').column('subject_id').execute();

      const effective = new Date('2020-11-30T00:00:00+06:00');
      for (const [code, texts] of Object.entries(REGULATION_CONSENT_TEXTS)) {
        for (const locale of ['KK', 'RU'] as const) {
          await db
            .insertInto('consent_templates')
            .values({ code, version: 1, locale, title: TITLES[code as keyof typeof TITLES][locale], body: texts[locale], effective_from: effective })
            .execute();
        }
      }
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('consents').execute();
      await db.schema.dropTable('consent_templates').execute();
    },
  },
  '2026_11_24_0002_lifecycle': {
    async up(db: Kysely<any>) {
      await createBlockedSubjectsTable(db);
      await db.schema.alterTable('consents').addColumn('depersonalized_at', 'timestamptz').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('consents').dropColumn('depersonalized_at').execute();
      await dropBlockedSubjectsTable(db);
    },
  },
  '2026_11_25_0003_paper_evidence': {
    async up(db: Kysely<any>) {
      // A consent signed on paper (Annex 2 brought in or mailed): the signed document's reference is
      // its evidence, and the operator who entered it is recorded; the document reference is encrypted.
      await db.schema.alterTable('consents').addColumn('document_enc', 'text').execute();
      await db.schema.alterTable('consents').addColumn('entered_by', 'text').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('consents').dropColumn('entered_by').execute();
      await db.schema.alterTable('consents').dropColumn('document_enc').execute();
    },
  },
  '2026_11_25_0004_control_report': {
    async up(db: Kysely<any>) {
      // The control report (7.2.4) counts consents withdrawn in a period.
      await sql`create index consents_withdrawn on consents (withdrawn_at) where withdrawn_at is not null`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index consents_withdrawn`.execute(db);
    },
  },
  '2026_11_25_0005_consent_content': {
    async up(db: Kysely<any>) {
      // Art. 8(4) of the Law: every consent states its purpose, the list of data, the term, and
      // whether data go to third parties, across the border or into public sources. Stored per
      // version and language, so a new version changes nothing a person already consented to.
      await db.schema
        .alterTable('consent_templates')
        .addColumn('purpose', 'text')
        .addColumn('data_items', 'jsonb')
        .addColumn('term', 'text')
        .addColumn('third_party_transfer', 'boolean')
        .addColumn('cross_border_transfer', 'boolean')
        .addColumn('public_sources', 'boolean')
        .addColumn('published_by', 'text')
        .addColumn('published_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      const setContent = async (code: keyof typeof CONTENT_2026, locale: 'KK' | 'RU') => {
        const content = CONTENT_2026[code];
        await db
          .updateTable('consent_templates')
          .set({
            purpose: content.purpose[locale],
            data_items: JSON.stringify(content.dataItems[locale]),
            term: content.term[locale],
            third_party_transfer: content.thirdPartyTransfer,
            cross_border_transfer: content.crossBorderTransfer,
            public_sources: content.publicSources,
          })
          .where('code', '=', code)
          .where('locale', '=', locale)
          .execute();
      };
      // The regulation's own texts (version 1): their content is what its clauses 3.1–3.3, 4.6 and 5 say.
      const effective = sql`now()`;
      for (const code of ['PRIVACY_POLICY', 'COUNTERPARTY_CONTRACT', 'PUBLICATION'] as const) {
        for (const locale of ['KK', 'RU'] as const) {
          await db
            .insertInto('consent_templates')
            .values({
              code,
              version: 1,
              locale,
              title: TITLES_2026[code][locale],
              body: TEXTS_2026[code][locale],
              effective_from: effective,
              published_by: 'migration',
            })
            .execute();
        }
      }
      for (const code of Object.keys(CONTENT_2026) as Array<keyof typeof CONTENT_2026>) {
        for (const locale of ['KK', 'RU'] as const) await setContent(code, locale);
      }
      for (const column of ['purpose', 'data_items', 'term', 'third_party_transfer', 'cross_border_transfer', 'public_sources']) {
        await db.schema
          .alterTable('consent_templates')
          .alterColumn(column, (c) => c.setNotNull())
          .execute();
      }

      // Whose consent (the subject categories it concerns: who may read it, 4.3–4.4), what purpose it
      // serves (a withdrawal achieves it), a grant or a refusal (publication, 6.1.6), and the withdrawal.
      await db.schema
        .alterTable('consents')
        .addColumn('categories', 'jsonb', (c) => c.notNull().defaultTo(sql`'["APPLICANT"]'::jsonb`))
        .addColumn('purpose_code', 'text')
        .addColumn('purpose_reference', 'uuid')
        .addColumn('granted', 'boolean', (c) => c.notNull().defaultTo(true))
        .addColumn('withdrawn_by', 'text')
        .addColumn('withdrawal_reason_enc', 'text')
        .execute();
      await sql`alter table consents alter column categories drop default`.execute(db);
      await sql`update consents set purpose_code = 'APPEAL_HANDLING', purpose_reference = appeal_id where appeal_id is not null`.execute(db);

      // Obligations that forbid withdrawing the consent while unfulfilled (5.2, Art. 8(2)).
      await db.schema
        .createTable('obligations')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('consent_id', 'uuid', (c) => c.notNull().references('consents.id').onDelete('cascade'))
        .addColumn('description_enc', 'text')
        .addColumn('due_date', 'date', (c) => c.notNull())
        .addColumn('fulfilled_at', 'timestamptz')
        .addColumn('fulfilled_by', 'text')
        .execute();
      await db.schema.createIndex('obligations_consent').on('obligations').columns(['consent_id', 'due_date']).execute();

      // Each holder's confirmation that it stopped what a withdrawn consent covered.
      await db.schema
        .createTable('withdrawal_receipts')
        .addColumn('consent_id', 'uuid', (c) => c.notNull().references('consents.id').onDelete('cascade'))
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'timestamptz', (c) => c.notNull())
        .addPrimaryKeyConstraint('withdrawal_receipts_pk', ['consent_id', 'service'])
        .execute();
      // The publication decision in force, per subject.
      await sql`create index consents_subject_template on consents (subject_id, template_code) where withdrawn_at is null`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index consents_subject_template`.execute(db);
      await db.schema.dropTable('withdrawal_receipts').execute();
      await db.schema.dropTable('obligations').execute();
      for (const column of ['withdrawal_reason_enc', 'withdrawn_by', 'granted', 'purpose_reference', 'purpose_code', 'categories']) {
        await db.schema.alterTable('consents').dropColumn(column).execute();
      }
      await db.deleteFrom('consent_templates').where('code', 'in', ['PRIVACY_POLICY', 'COUNTERPARTY_CONTRACT', 'PUBLICATION']).execute();
      for (const column of [
        'published_at',
        'published_by',
        'public_sources',
        'cross_border_transfer',
        'third_party_transfer',
        'term',
        'data_items',
        'purpose',
      ]) {
        await db.schema.alterTable('consent_templates').dropColumn(column).execute();
      }
    },
  },
  '2026_12_05_0006_block_versions': blockVersionsMigration,
  '2026_12_07_0007_field_encryption': fieldEncryptionMigration,
  '2026_12_07_0008_ended_purposes': {
    async up(db: Kysely<any>) {
      // Purposes subjects reported achieved by their end (an employment's end, Art. 8(2)): an
      // employee's Annex 1 consent may be withdrawn only once its employment is here. No personal
      // data: the purpose and the employment's id.
      await db.schema
        .createTable('ended_purposes')
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('reference', 'uuid', (c) => c.notNull())
        .addColumn('ended_on', 'date', (c) => c.notNull())
        .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('ended_purposes_pk', ['code', 'reference'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('ended_purposes').execute();
    },
  },
};
