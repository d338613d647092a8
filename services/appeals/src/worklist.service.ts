import { randomUUID } from 'node:crypto';
import {
  binSchema,
  BLOCKED_READERS,
  blockedAmong,
  ConflictError,
  countrySchema,
  decodeCursor,
  enqueueEvent,
  enqueueEvents,
  eventHeader,
  ForbiddenError,
  hasAnyRole,
  kazakhstanToday,
  NotFoundError,
  parseInput,
  PolicyError,
  staffIdSchema,
  SubjectBlockedError,
  textSchema,
  UUID_PATTERN,
  type RequestScope,
} from '@pdp/shared';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Deps } from './config';
import { addChange, toRecord } from './db/appeals.repository';
import type { Database } from './db/tables';
import * as repo from './db/worklist.repository';
import { openSuspension } from './db/access.repository';
import {
  APPEAL_PD_FIELDS,
  canMove,
  FORWARDED_FIELDS,
  OPEN_STATUSES,
  STATUS_NAMES,
  type AppealKind,
  type AppealRecord,
  type AppealStatus,
  type ForwardedField,
  type Page,
} from './domain/appeal';

/** The country whose territory personal data stay on (3.3): a creditor elsewhere gets nothing. */
const HOME_COUNTRY = 'KZ';
const filterSchema = z
  .object({
    status: z
      .array(z.enum(['NEW', 'IN_PROGRESS', 'FORWARDED', 'ANSWERED', 'CLOSED']))
      .max(5)
      .nullish(),
    kind: z
      .array(z.enum(['APPEAL', 'COMPLAINT', 'SCHEDULE_REQUEST']))
      .max(3)
      .nullish(),
    assignee: staffIdSchema.nullish(),
    overdue: z.boolean().nullish(),
    reference: z.string().trim().toUpperCase().max(40, { message: 'text.tooLong' }).nullish(),
  })
  .nullish();

function cursorOf(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

/**
 * The operator's worklist (`appeals`): one SQL query per page, newest first, and one batch of
 * access records (one per subject on the page) committed before the page is returned. Blocked
 * subjects' appeals are listed for the DPO and the audit only.
 */
export async function worklist(
  deps: Deps,
  scope: RequestScope,
  args: { filter?: unknown; first?: number | null; after?: string | null },
  { withTotal, withContact }: { withTotal: boolean; withContact: boolean },
): Promise<Page<AppealRecord>> {
  await deps.guard.authorize(scope, 'Query.appeals');
  const filter = parseInput(filterSchema, args.filter ?? null, scope.meta.locale) ?? {};
  const limit = args.first ?? 20;
  const { rows, total } = await repo.worklistPage(deps.db, filter, {
    after: decodeCursor(args.after, scope.meta.locale),
    limit,
    withTotal,
    hideBlocked: !hasAnyRole(scope.actor, BLOCKED_READERS),
    today: kazakhstanToday(),
    openStatuses: OPEN_STATUSES,
  });
  const nodes = rows.slice(0, limit).map(toRecord);
  await recordReads(deps, scope, nodes, ['kind', 'status', 'deadline', 'assignee', ...(withContact ? APPEAL_PD_FIELDS : [])]);
  return { nodes, cursors: nodes.map((n) => cursorOf(n.submittedAtKey, n.id)), hasNextPage: rows.length > limit, totalCount: total };
}

async function recordReads(deps: Deps, scope: RequestScope, records: AppealRecord[], fields: string[]): Promise<void> {
  const bySubject = new Map<string | null, string[]>();
  for (const r of records) bySubject.set(r.subjectId, [...(bySubject.get(r.subjectId) ?? []), r.id]);
  await deps.guard.recordAccess(
    scope,
    [...bySubject].map(([subjectId, ids]) => ({ subjectId, resource: 'appeal', resourceIds: ids, fields })),
  );
}

type Locked = NonNullable<Awaited<ReturnType<typeof repo.lockForWork>>>;

/** A change to an appeal under its row lock; a blocked subject's appeal never moves (6.1.3). */
async function change(
  deps: Deps,
  scope: RequestScope,
  appealId: string,
  operation: string,
  apply: (trx: Transaction<Database>, appeal: Locked) => Promise<void>,
) {
  const blocked = await deps.db.transaction().execute(async (trx) => {
    const appeal = await repo.lockForWork(trx, appealId);
    if (!appeal) throw new NotFoundError(scope.meta.locale, 'Appeal');
    if ((await blockedAmong(trx, [appeal.subject_id])).size > 0) return appeal.subject_id;
    await apply(trx, appeal);
    return null;
  });
  if (blocked) {
    await deps.guard.recordDenied(scope, operation, 'BLOCKED', blocked);
    throw new SubjectBlockedError(scope.meta.locale);
  }
}

function move(scope: RequestScope, from: AppealStatus, to: AppealStatus): void {
  if (!canMove(from, to)) {
    const locale = scope.meta.locale;
    throw new ConflictError(locale, 'TRANSITION_NOT_ALLOWED', 'state.transition', { from: STATUS_NAMES[from][locale], to: STATUS_NAMES[to][locale] });
  }
}

export async function assignAppeal(deps: Deps, scope: RequestScope, appealId: string, assigneeRaw: string): Promise<void> {
  await deps.guard.authorize(scope, 'Mutation.assignAppeal');
  const { assignee } = parseInput(z.object({ assignee: staffIdSchema }), { assignee: assigneeRaw }, scope.meta.locale);
  await change(deps, scope, appealId, 'Mutation.assignAppeal', async (trx, appeal) => {
    if (appeal.status === 'CLOSED') throw new ConflictError(scope.meta.locale, 'APPEAL_CLOSED', 'state.conflict');
    await trx.updateTable('appeals').set({ assignee, updated_at: new Date() }).where('id', '=', appealId).execute();
    await enqueueEvent(trx, deps.prefix, { ...eventHeader('appeals', scope, appeal.subject_id), type: 'appeal.assigned', data: { appealId, assignee } });
  });
}

/** The Chamber's answer (PD: encrypted at rest); the appeal becomes ANSWERED by the state machine's rules. */
export async function answerAppeal(deps: Deps, scope: RequestScope, appealId: string, answerRaw: string): Promise<void> {
  await deps.guard.authorize(scope, 'Mutation.answerAppeal');
  const { answer } = parseInput(z.object({ answer: textSchema(1, 20_000) }), { answer: answerRaw }, scope.meta.locale);
  await change(deps, scope, appealId, 'Mutation.answerAppeal', async (trx, appeal) => {
    const from = appeal.status as AppealStatus;
    move(scope, from, 'ANSWERED');
    await trx
      .updateTable('appeals')
      .set({
        status: 'ANSWERED',
        answer_enc: deps.cipher.encrypt(answer, { table: 'appeals', column: 'answer_enc', id: appealId }),
        answered_at: new Date(),
        updated_at: new Date(),
      })
      .where('id', '=', appealId)
      .execute();
    await addChange(trx, appealId, 'ANSWERED', scope.actor.id);
    await enqueueEvents(trx, deps.prefix, [
      { ...eventHeader('appeals', scope, appeal.subject_id), type: 'appeal.status_changed' as const, data: { appealId, from, to: 'ANSWERED' } },
      { ...eventHeader('appeals', scope, appeal.subject_id), type: 'appeal.answered' as const, data: { appealId } },
    ]);
    await deps.guard.recordAccess(
      scope,
      [{ subjectId: appeal.subject_id, resource: 'appeal', resourceIds: [appealId], fields: ['answer'], operation: 'STORE' }],
      trx,
    );
  });
}

const creditorSchema = z.object({ bin: binSchema, name: textSchema(2, 300), country: countrySchema });

export async function registerCreditor(deps: Deps, scope: RequestScope, input: Record<string, unknown>) {
  await deps.guard.authorize(scope, 'Mutation.registerCreditor');
  const c = parseInput(creditorSchema, input, scope.meta.locale);
  const id = randomUUID();
  await deps.db.transaction().execute(async (trx) => {
    if (!(await repo.insertCreditor(trx, { id, ...c, registeredBy: scope.actor.id }))) {
      throw new ConflictError(scope.meta.locale, 'BIN_TAKEN', 'creditor.binTaken');
    }
    await enqueueEvent(trx, deps.prefix, { ...eventHeader('appeals', scope, null), type: 'creditor.registered', data: { creditorId: id, country: c.country } });
  });
  return (await repo.creditorById(deps.db, id))!;
}

/**
 * Forwarding an appeal to a creditor is a TRANSFER (2.2, 3.3, 4.2): only the fields the operator
 * picks, only with a standing consent of the subject that allows transfer to third parties (known
 * from consents' events), never to a creditor outside Kazakhstan, never for a blocked subject. The
 * IIN never travels: the creditor reads it from subjects, which learns of the grant from the event.
 */
export async function forwardAppeal(deps: Deps, scope: RequestScope, appealId: string, creditorId: string, fieldsRaw: readonly string[]): Promise<void> {
  await deps.guard.authorize(scope, 'Mutation.forwardAppeal');
  const { fields } = parseInput(
    z.object({ fields: z.array(z.enum(FORWARDED_FIELDS)).min(1, { message: 'text.required' }).max(4) }),
    { fields: fieldsRaw },
    scope.meta.locale,
  );
  const unique = [...new Set(fields)] as ForwardedField[];
  const creditor = await repo.creditorById(deps.db, creditorId);
  if (!creditor) throw new NotFoundError(scope.meta.locale, 'Creditor');
  // A suspended creditor receives nothing until the DPO resumes it.
  if (await openSuspension(deps.db, creditorId)) throw new ConflictError(scope.meta.locale, 'CREDITOR_SUSPENDED', 'creditor.suspended');
  let refused: { error: PolicyError; subjectId: string | null } | null = null;
  await change(deps, scope, appealId, 'Mutation.forwardAppeal', async (trx, appeal) => {
    // A refusal is recorded after this transaction ends: no second connection while it holds one.
    if (creditor.country !== HOME_COUNTRY) {
      refused = {
        error: new PolicyError('TRANSFER_FORBIDDEN', 'transfer.crossBorder', scope.meta.locale, { reason: 'CROSS_BORDER' }),
        subjectId: appeal.subject_id,
      };
      return;
    }
    if (!(await repo.hasTransferConsent(trx, appealId, appeal.subject_id))) {
      refused = { error: new PolicyError('CONSENT_REQUIRED', 'transfer.consentRequired', scope.meta.locale), subjectId: appeal.subject_id };
      return;
    }
    const from = appeal.status as AppealStatus;
    move(scope, from, 'FORWARDED');
    const now = new Date();
    await trx
      .updateTable('appeals')
      .set({
        status: 'FORWARDED',
        forwarded_to: creditor.id,
        forwarded_fields: unique,
        forwarded_at: now,
        partner_response_enc: null,
        partner_responded_at: null,
        updated_at: now,
      })
      .where('id', '=', appealId)
      .execute();
    await addChange(trx, appealId, 'FORWARDED', scope.actor.id);
    await enqueueEvents(trx, deps.prefix, [
      { ...eventHeader('appeals', scope, appeal.subject_id), type: 'appeal.status_changed' as const, data: { appealId, from, to: 'FORWARDED' } },
      { ...eventHeader('appeals', scope, appeal.subject_id), type: 'appeal.forwarded' as const, data: { appealId, creditorId: creditor.id, fields: unique } },
    ]);
  });
  const denial = refused as { error: PolicyError; subjectId: string | null } | null;
  if (denial) {
    await deps.guard.recordDenied(scope, 'Mutation.forwardAppeal', 'PURPOSE', denial.subjectId);
    throw denial.error;
  }
}

function partnerCreditor(scope: RequestScope): string | null {
  const id = scope.actor.creditorId;
  return id && UUID_PATTERN.test(id) ? id : null;
}

/** The partner's view: only appeals forwarded to its own creditor and still in view; reads recorded with the creditor. */
export async function partnerAppeals(
  deps: Deps,
  scope: RequestScope,
  args: { first?: number | null; after?: string | null },
  withTotal: boolean,
): Promise<Page<AppealRecord>> {
  await deps.guard.authorize(scope, 'Query.partnerAppeals');
  const creditorId = partnerCreditor(scope);
  const limit = args.first ?? 20;
  const after = decodeCursor(args.after, scope.meta.locale);
  if (!creditorId) return { nodes: [], cursors: [], hasNextPage: false, totalCount: withTotal ? 0 : null };
  const { rows, total } = await repo.partnerPage(deps.db, creditorId, after, limit, withTotal);
  const nodes = rows.slice(0, limit).map(toRecord);
  await recordPartnerReads(deps, scope, nodes);
  return { nodes, cursors: nodes.map((n) => cursorOf(n.forwardedAt!, n.id)), hasNextPage: rows.length > limit, totalCount: total ?? (withTotal ? 0 : null) };
}

async function recordPartnerReads(deps: Deps, scope: RequestScope, nodes: AppealRecord[]): Promise<void> {
  await deps.guard.recordAccess(
    scope,
    nodes.map((n) => ({
      subjectId: n.subjectId,
      resource: 'partner_appeal',
      resourceIds: [n.id],
      fields: n.forwardedFields.filter((f) => f !== 'IIN').map((f) => f.toLowerCase()),
      operation: 'TRANSFER' as const,
    })),
  );
}

/**
 * A creditor's answer (e.g. the repayment schedule of a SCHEDULE_REQUEST): only on an appeal
 * forwarded to it and still in its view; anything else is FORBIDDEN with reason SCOPE, recorded.
 */
export async function respondToAppeal(deps: Deps, scope: RequestScope, appealId: string, responseRaw: string): Promise<AppealRecord> {
  await deps.guard.authorize(scope, 'Mutation.respondToAppeal');
  const { response } = parseInput(z.object({ response: textSchema(1, 20_000) }), { response: responseRaw }, scope.meta.locale);
  const creditorId = partnerCreditor(scope);
  const visible = creditorId ? await repo.partnerAppealById(deps.db, appealId, creditorId) : undefined;
  if (!creditorId || !visible) {
    await deps.guard.recordDenied(scope, 'Mutation.respondToAppeal', 'SCOPE');
    throw new ForbiddenError(scope.meta.locale);
  }
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('appeals')
      .set({
        partner_response_enc: deps.cipher.encrypt(response, { table: 'appeals', column: 'partner_response_enc', id: appealId }),
        partner_responded_at: new Date(),
        updated_at: new Date(),
      })
      .where('id', '=', appealId)
      .execute();
    await enqueueEvent(trx, deps.prefix, {
      ...eventHeader('appeals', scope, visible.subject_id),
      type: 'appeal.partner_responded',
      data: { appealId, creditorId },
    });
  });
  const updated = (await repo.partnerAppealById(deps.db, appealId, creditorId))!;
  const record = toRecord(updated);
  await recordPartnerReads(deps, scope, [record]);
  return record;
}

/** A partner's read of one forwarded appeal by id (entity resolution): its own and in view, else FORBIDDEN (SCOPE). */
export async function partnerAppeal(deps: Deps, scope: RequestScope, appealId: string): Promise<AppealRecord> {
  const creditorId = partnerCreditor(scope);
  const row = creditorId && UUID_PATTERN.test(appealId) ? await repo.partnerAppealById(deps.db, appealId, creditorId) : undefined;
  if (!row) {
    await deps.guard.recordDenied(scope, 'PartnerAppeal', 'SCOPE');
    throw new ForbiddenError(scope.meta.locale);
  }
  const record = toRecord(row);
  await recordPartnerReads(deps, scope, [record]);
  return record;
}

export type { AppealKind };
