import { readFileSync } from 'node:fs';
import { checkIin, startService, type RequestScope, type ServiceDefinition } from '@pdp/shared';
import { findSubjectIdByBidx } from './db/subjects.repository';
import { iinBlindIndex } from './domain/identity';
import { gql } from 'graphql-tag';
import type { Context } from './context';
import type { SubjectsConfig, SubjectsExtra } from './config';
import { migrations } from './db/migrations';
import { ENCRYPTED_COLUMNS, type Database } from './db/tables';
import { intakeConsumer } from './events/intake';
import { erasureConsumer } from './events/erasure';
import { purposesConsumer } from './events/purposes';
import { receiptsConsumer } from './events/receipts';
import { sweepRetention } from './erasure.service';
import { erasureActResolvers } from './resolvers/ErasureAct';
import { partnerAppealResolvers, partnerIinLoader } from './resolvers/PartnerAppeal';
import { partnersConsumer } from './events/partners';
import { lifecycleLoaders, subjectLoader } from './resolvers/loaders';
import { mutationResolvers } from './resolvers/Mutation';
import { rectificationResolvers } from './resolvers/RectificationRequest';
import { queryResolvers } from './resolvers/Query';
import { subjectResolvers } from './resolvers/Subject';
import { registrationResolvers } from './resolvers/Registrations';
import { consentsConsumer } from './events/withdrawals';
import { controlReportResolvers } from './resolvers/ControlReport';

export const typeDefs = gql(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));

export const subjectsService: ServiceDefinition<Database, SubjectsExtra, Context> = {
  name: 'subjects',
  typeDefs,
  migrations,
  encryptedColumns: ENCRYPTED_COLUMNS,
  resolvers: (deps) =>
    ({
      Query: queryResolvers(deps),
      Mutation: mutationResolvers(deps),
      Subject: subjectResolvers(deps),
      ControlReport: controlReportResolvers(deps),
      ErasureAct: erasureActResolvers(),
      PartnerAppeal: partnerAppealResolvers(),
      RectificationRequest: rectificationResolvers(),
      ...registrationResolvers(deps),
    }) as never,
  consumers: (deps) => [intakeConsumer(deps), receiptsConsumer(deps), erasureConsumer(deps), purposesConsumer(), consentsConsumer(deps), partnersConsumer()],
  // platformHealth, parkedEvents, replayParkedEvent: the schema's ops section, resolved by the runtime (shared ops.ts).
  opsView: true,
  context: (deps, scope: RequestScope) => ({
    ...scope,
    subjects: subjectLoader(deps, scope),
    partnerIins: partnerIinLoader(deps, scope),
    ...lifecycleLoaders(deps),
  }),
  // Whom a refused call was about (SUBJECT_OF): an act's, a request's, or an IIN's subject.
  subjectFinders: (deps) => ({
    erasureAct: async (id) => (await deps.db.selectFrom('erasure_acts').select('subject_id').where('id', '=', id).executeTakeFirst())?.subject_id ?? null,
    rectification: async (id) =>
      (await deps.db.selectFrom('rectification_requests').select('subject_id').where('id', '=', id).executeTakeFirst())?.subject_id ?? null,
    iin: async (iin) => (checkIin(iin).ok ? findSubjectIdByBidx(deps.db, iinBlindIndex(deps.config.blindIndexKey, iin)) : null),
  }),
  jobs: (deps) => [{ name: 'retention-sweep', everyMs: deps.config.extra.retentionSweepMs, run: async () => void (await sweepRetention(deps)) }],
};

export function startSubjects(config: SubjectsConfig) {
  return startService(subjectsService, config);
}

export type { SubjectsConfig } from './config';
export type { Database as SubjectsDatabase } from './db/tables';
