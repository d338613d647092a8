import { readFileSync } from 'node:fs';
import { startService, type ServiceDefinition } from '@pdp/shared';
import { gql } from 'graphql-tag';
import type { ConsentsConfig, ConsentsExtra } from './config';
import type { Context } from './context';
import type { Resolvers } from './generated/graphql';
import { migrations } from './db/migrations';
import { ENCRYPTED_COLUMNS, type Database } from './db/tables';
import { intakeConsumer } from './events/intake';
import { lifecycleConsumer } from './events/lifecycle';
import { accessReportResolvers } from './resolvers/AccessReport';
import { consentResolvers } from './resolvers/Consent';
import { consentDetailLoaders, consentLoader, consentsOfSubjectLoader } from './resolvers/loaders';
import { consentTemplateResolvers } from './resolvers/ConsentTemplate';
import { mutationResolvers } from './resolvers/Mutation';
import { obligationResolvers } from './resolvers/Obligation';
import { registrationsConsumer } from './events/registrations';
import { receiptsConsumer } from './events/receipts';
import { MAX_TEMPLATE_TEXT } from './domain/templates';
import { queryResolvers } from './resolvers/Query';
import { subjectResolvers } from './resolvers/Subject';
import { controlReportResolvers } from './resolvers/ControlReport';

export const typeDefs = gql(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));

export const consentsService: ServiceDefinition<Database, ConsentsExtra, Context> = {
  name: 'consents',
  typeDefs,
  migrations,
  encryptedColumns: ENCRYPTED_COLUMNS,
  resolvers: (deps) =>
    ({
      Query: queryResolvers(deps),
      Mutation: mutationResolvers(deps),
      Consent: consentResolvers(deps),
      ConsentTemplate: consentTemplateResolvers(deps),
      Obligation: obligationResolvers(deps),
      Subject: subjectResolvers(),
      AccessReport: accessReportResolvers(deps),
      ControlReport: controlReportResolvers(deps),
    }) satisfies Resolvers,
  consumers: (deps) => [intakeConsumer(deps), lifecycleConsumer(deps), registrationsConsumer(deps), receiptsConsumer()],
  // Whom a refused call about a consent or its obligation was about (the `subject` of its row in the permission table).
  subjectFinders: (deps) => ({
    consent: async (id) => (await deps.db.selectFrom('consents').select('subject_id').where('id', '=', id).executeTakeFirst())?.subject_id ?? null,
    obligation: async (id) =>
      (
        await deps.db
          .selectFrom('obligations')
          .innerJoin('consents', 'consents.id', 'obligations.consent_id')
          .select('consents.subject_id')
          .where('obligations.id', '=', id)
          .executeTakeFirst()
      )?.subject_id ?? null,
  }),
  // A template's text may be longer than the shared default for a string argument.
  argumentRules: { maxStringLength: MAX_TEMPLATE_TEXT },
  context: (deps, scope) => ({
    ...scope,
    consents: consentLoader(deps, scope),
    consentsOfSubject: consentsOfSubjectLoader(deps, scope),
    ...consentDetailLoaders(deps),
  }),
};

export function startConsents(config: ConsentsConfig) {
  return startService(consentsService, config);
}

export type { ConsentsConfig } from './config';
export type { Database as ConsentsDatabase } from './db/tables';
export { DEVELOPMENT_OPERATOR } from './config';
