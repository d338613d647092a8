import { OPERATION_KINDS, SERVICES, heldRow, kazakhstanToday, parseInput, parseInstant, parseReportPeriod, type RequestScope } from '@pdp/shared';
import { z } from 'zod';
import type { Deps } from '../config';
import { listCheckpoints } from '../db/checkpoints.repository';
import { searchEntries, seqRangeOf, type EntrySearch } from '../db/entries.repository';
import { listIncidents } from '../db/incidents.repository';
import type { IncidentRow } from '../db/tables';
import { CHECKPOINT_ALGORITHM } from '../domain/chain';
import { decodeAuditCursor, encodeAuditCursor } from '../domain/cursor';
import type { AuditEntryRecord } from '../domain/entry';
import { publicKeyPem } from '../domain/keys';
import { evidenceOf } from '../evidence';
import type { QueryResolvers, ResolversTypes } from '../generated/graphql';

/** A period bound: an ISO date (midnight in Kazakhstan) or a date-time with its offset. */
const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'period.invalid' });

const filterSchema = z.object({
  subjectId: z.uuid().nullish(),
  actorId: z.string().min(1).max(200).nullish(),
  operation: z.enum(OPERATION_KINDS).nullish(),
  source: z.enum(SERVICES).nullish(),
  from: instant.nullish(),
  to: instant.nullish(),
});

/** The audit's reads are recorded like any other (who looked at whose trail, and which entries). */
async function recordRead(deps: Deps, scope: RequestScope, subjectId: string | null, entries: AuditEntryRecord[]): Promise<void> {
  await deps.guard.recordAccess(scope, [{ subjectId, resource: 'audit_entry', resourceIds: entries.map((e) => e.seq), fields: [] }]);
}

/** Incidents name people (the actors, a subject): reading them is recorded, one record per subject (or none). */
async function recordIncidentReads(deps: Deps, scope: RequestScope, rows: IncidentRow[]): Promise<IncidentRow[]> {
  return deps.guard.recordReads(scope, { resource: 'incident', fields: ['actorId', 'details'] }, rows, heldRow);
}

async function search(
  deps: Deps,
  scope: RequestScope,
  args: { filter?: unknown; first: number; after?: string | null },
): Promise<ResolversTypes['AuditEntryConnection']> {
  const locale = scope.meta.locale;
  const f = parseInput(filterSchema, args.filter ?? {}, locale);
  const afterSeq = decodeAuditCursor(args.after, locale);
  const limit = args.first;
  const empty = { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
  const criteria: EntrySearch = { actorId: f.actorId, operation: f.operation, source: f.source, afterSeq, limit: limit + 1 };
  if (f.subjectId) criteria.subjectIds = [f.subjectId];
  if (f.from || f.to) {
    const range = await seqRangeOf(deps.db, f.from ? parseInstant(f.from, 'from', locale) : null, f.to ? parseInstant(f.to, 'to', locale) : null);
    if (!range) {
      await recordRead(deps, scope, f.subjectId ?? null, []);
      return empty;
    }
    Object.assign(criteria, range);
  }
  const rows = await searchEntries(deps.db, criteria);
  const nodes = rows.slice(0, limit);
  await recordRead(deps, scope, f.subjectId ?? null, nodes);
  return {
    edges: nodes.map((node) => ({ cursor: encodeAuditCursor(node.seq), node })),
    pageInfo: { hasNextPage: rows.length > limit, endCursor: nodes.length ? encodeAuditCursor(nodes[nodes.length - 1]!.seq) : null },
  };
}

export function queryResolvers(deps: Deps): QueryResolvers {
  return {
    async auditLog(_, args, ctx) {
      const subjectId = args.subjectId ?? null;
      const entries = await searchEntries(deps.db, {
        subjectIds: subjectId ? [subjectId] : undefined,
        afterSeq: args.afterSeq ?? null,
        limit: args.limit,
      });
      await recordRead(deps, ctx, subjectId, entries);
      return entries;
    },
    async auditEntries(_, args, ctx) {
      return search(deps, ctx, args);
    },
    async auditCheckpoints(_, args) {
      return listCheckpoints(deps.db, args.afterSeq ?? '0', args.first);
    },
    async auditWitness() {
      return evidenceOf(deps).witness.latest();
    },
    async auditKeys() {
      const { signing, verify } = deps.config.extra.checkpointKeys;
      return [...verify].map(([keyId, key]) => ({ keyId, algorithm: CHECKPOINT_ALGORITHM, publicKeyPem: publicKeyPem(key), signing: keyId === signing.keyId }));
    },
    async verifyAuditChain(_, args) {
      return evidenceOf(deps).verify(args.full ?? false);
    },
    async incidents(_, args, ctx) {
      return recordIncidentReads(deps, ctx, await listIncidents(deps.db, { statuses: args.status ?? null, overdueBefore: null, limit: args.limit }));
    },
    async overdueIncidents(_, args, ctx) {
      return recordIncidentReads(deps, ctx, await listIncidents(deps.db, { statuses: null, overdueBefore: kazakhstanToday(), limit: args.limit }));
    },
    async controlReport(_, { from, to }, ctx) {
      const period = parseReportPeriod(from, to, ctx.meta.locale);
      return { from: period.from, to: period.to };
    },
  };
}
