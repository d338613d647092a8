import { readFileSync } from 'node:fs';
import { startService, type ServiceDefinition } from '@pdp/shared';
import { gql } from 'graphql-tag';
import type { AppealsConfig, AppealsExtra } from './config';
import type { Context } from './context';
import { migrations } from './db/migrations';
import { ENCRYPTED_COLUMNS, type Database } from './db/tables';
import { consentsProjectionConsumer } from './events/consents';
import { lifecycleConsumer } from './events/lifecycle';
import { subjectLinkConsumer } from './events/subject-link';
import { accessReportResolvers } from './resolvers/AccessReport';
import { appealResolvers } from './resolvers/Appeal';
import { appealHistoryLoader, appealLoader, appealsOfSubjectLoader } from './resolvers/loaders';
import { mutationResolvers } from './resolvers/Mutation';
import { queryResolvers } from './resolvers/Query';
import { subjectResolvers } from './resolvers/Subject';
import { appealConnectionResolvers, partnerAppealConnectionResolvers, partnerAppealResolvers } from './resolvers/Worklist';
import { creditorsByIds } from './db/worklist.repository';
import DataLoader from 'dataloader';
import { controlReportResolvers } from './resolvers/ControlReport';
import {
  accessGrantConnectionResolvers,
  accessGrantResolvers,
  accessMutationResolvers,
  accessQueryResolvers,
  creditorResolvers,
  meResolvers,
} from './resolvers/Access';
import { bootstrapDpo } from './access.service';
import { AccessSync } from './access-sync';
import { openSuspensions } from './db/access.repository';

export const typeDefs = gql(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));

export const appealsService: ServiceDefinition<Database, AppealsExtra, Context> = {
  name: 'appeals',
  typeDefs,
  migrations,
  encryptedColumns: ENCRYPTED_COLUMNS,
  resolvers: (deps) =>
    ({
      Query: { ...queryResolvers(deps), ...accessQueryResolvers(deps) },
      Mutation: { ...mutationResolvers(deps), ...accessMutationResolvers(deps) },
      AccessGrant: accessGrantResolvers(deps),
      AccessGrantConnection: accessGrantConnectionResolvers(),
      Me: meResolvers(),
      Creditor: creditorResolvers(),
      Appeal: appealResolvers(deps),
      Subject: subjectResolvers(),
      AccessReport: accessReportResolvers(deps),
      AppealConnection: appealConnectionResolvers(),
      PartnerAppealConnection: partnerAppealConnectionResolvers(),
      PartnerAppeal: partnerAppealResolvers(deps),
      ControlReport: controlReportResolvers(deps),
    }) as never,
  consumers: (deps) => [subjectLinkConsumer(), lifecycleConsumer(deps), consentsProjectionConsumer(deps)],
  // Whom a refused call about an appeal was about (SUBJECT_OF).
  subjectFinders: (deps) => ({
    appeal: async (id) => (await deps.db.selectFrom('appeals').select('subject_id').where('id', '=', id).executeTakeFirst())?.subject_id ?? null,
  }),
  init: async (deps) => {
    if (deps.config.extra.bootstrapDpo) await bootstrapDpo(deps, deps.config.extra.bootstrapDpo);
  },
  workers: (deps) => [
    new AccessSync({
      db: deps.db,
      js: deps.events.js,
      prefix: deps.prefix,
      replicas: deps.replicas,
      signer: deps.events.signer,
      verifier: deps.events.verifier,
      logger: deps.logger,
    }),
  ],
  context: (deps, scope) => ({
    ...scope,
    appeals: appealLoader(deps, scope),
    appealsOfSubject: appealsOfSubjectLoader(deps, scope),
    appealHistory: appealHistoryLoader(deps, scope),
    creditors: new DataLoader(async (ids: readonly string[]) => {
      const rows = await creditorsByIds(deps.db, ids);
      return ids.map((id) => rows.find((r) => r.id === id) ?? null);
    }),
    suspensions: new DataLoader(async (ids: readonly string[]) => {
      const rows = await openSuspensions(deps.db, ids);
      return ids.map((id) => rows.find((r) => r.creditor_id === id) ?? null);
    }),
  }),
};

export function startAppeals(config: AppealsConfig) {
  return startService(appealsService, config);
}

export type { AppealsConfig } from './config';
export type { Database as AppealsDatabase } from './db/tables';
