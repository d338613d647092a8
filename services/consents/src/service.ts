import { readFileSync } from 'node:fs';
import { startService, type ServiceDefinition } from '@pdp/shared';
import { gql } from 'graphql-tag';
import type { ConsentsConfig, ConsentsExtra } from './config';
import type { Context } from './context';
import { migrations } from './db/migrations';
import type { Database } from './db/tables';
import { intakeConsumer } from './events/intake';
import { lifecycleConsumer } from './events/lifecycle';
import { accessReportResolvers } from './resolvers/AccessReport';
import { consentResolvers } from './resolvers/Consent';
import { consentLoader, consentsOfSubjectLoader } from './resolvers/loaders';
import { queryResolvers } from './resolvers/Query';
import { subjectResolvers } from './resolvers/Subject';

export const typeDefs = gql(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));

export const consentsService: ServiceDefinition<Database, ConsentsExtra, Context> = {
  name: 'consents',
  typeDefs,
  migrations,
  resolvers: (deps) =>
    ({
      Query: queryResolvers(deps),
      Consent: consentResolvers(deps),
      Subject: subjectResolvers(),
      AccessReport: accessReportResolvers(deps),
    }) as never,
  consumers: (deps) => [intakeConsumer(deps), lifecycleConsumer(deps)],
  context: (deps, scope) => ({
    ...scope,
    consents: consentLoader(deps, scope),
    consentsOfSubject: consentsOfSubjectLoader(deps, scope),
  }),
};

export function startConsents(config: ConsentsConfig) {
  return startService(consentsService, config);
}

export type { ConsentsConfig } from './config';
export type { Database as ConsentsDatabase } from './db/tables';
