import { sql, type Kysely, type Migration } from 'kysely';
import { REGULATION_CONSENT_TEXTS } from './texts-2020';

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
      await db.schema
        .createTable('blocked_subjects')
        .addColumn('subject_id', 'uuid', (c) => c.primaryKey())
        .addColumn('blocked_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('consents').addColumn('depersonalized_at', 'timestamptz').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('consents').dropColumn('depersonalized_at').execute();
      await db.schema.dropTable('blocked_subjects').execute();
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
};
