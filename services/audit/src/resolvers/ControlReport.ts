import { parseReportPeriod, type RequestScope } from '@pdp/shared';
import DataLoader from 'dataloader';
import type { Deps } from '../config';
import { controlReportDocument, type AuditPart, type ControlReportRef } from '../domain/report';
import type { ControlReportResolvers } from '../generated/graphql';
import { auditPart } from '../report.service';

/** The audit's part of a report, once per request and period (the root field and `_entities` both need it). */
export function reportLoader(deps: Deps, scope: RequestScope): DataLoader<string, AuditPart> {
  return new DataLoader(
    async (keys) => {
      await deps.guard.authorize(scope, 'Query.controlReport');
      return Promise.all(
        keys.map((key) => {
          const [from, to] = JSON.parse(key) as [string, string];
          return auditPart(deps, parseReportPeriod(from, to, scope.meta.locale));
        }),
      );
    },
    { batch: false },
  );
}

const part = (ref: ControlReportRef, ctx: { reports: DataLoader<string, AuditPart> }) => ctx.reports.load(JSON.stringify([ref.from, ref.to]));

export function controlReportResolvers(): ControlReportResolvers {
  return {
    __resolveReference: (ref) => ref as ControlReportRef,
    operations: async (ref, _, ctx) => (await part(ref, ctx)).operations,
    deniedAttempts: async (ref, _, ctx) => (await part(ref, ctx)).deniedAttempts,
    ownIncidentRefusals: async (ref, _, ctx) => (await part(ref, ctx)).ownIncidentRefusals,
    incidentsOpened: async (ref, _, ctx) => (await part(ref, ctx)).incidentsOpened,
    incidentsReportedLate: async (ref, _, ctx) => (await part(ref, ctx)).incidentsReportedLate,
    incidents: async (ref, _, ctx) => (await part(ref, ctx)).incidents.map((i) => ({ ...i, status: i.status as 'OPEN' })),
    chainValid: async (ref, _, ctx) => (await part(ref, ctx)).verification.valid,
    chainVerification: async (ref, _, ctx) => (await part(ref, ctx)).verification,
    generatedAt: async (ref, _, ctx) => (await part(ref, ctx)).generatedAt,
    async document(ref, { locale }, ctx) {
      const audit = await part(ref, ctx);
      return controlReportDocument(
        audit,
        {
          rightsRequests: ref.rightsRequests ?? 0,
          rightsRequestsOverdue: ref.rightsRequestsOverdue ?? 0,
          erasureActsCompleted: ref.erasureActsCompleted ?? 0,
          consentWithdrawals: ref.consentWithdrawals ?? 0,
          appealsReceived: ref.appealsReceived ?? 0,
          appealsOverdue: ref.appealsOverdue ?? 0,
        },
        locale,
      );
    },
  };
}
