import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  NotFoundError,
  PD_HOLDERS,
  SubjectBlockedError,
  addWorkingDays,
  emailSchema,
  enqueueEvent,
  enqueueEvents,
  enqueueHandoffs,
  iinSchema,
  parseInput,
  phoneSchema,
  sealHandoff,
  textSchema,
  type RequestScope,
} from '@pdp/shared';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Deps } from './config';
import * as repo from './db/lifecycle.repository';
import type { Database } from './db/tables';
import { iinBlindIndex } from './domain/identity';
import { RECTIFIABLE_FIELDS, canBlock, canErase, canUnblock, type ErasureMethod } from './domain/lifecycle';

/**
 * The subject's lifecycle (clauses 4.6, 6.1.2–6.1.4): subjects is the source of truth for status and
 * starts every change; each change and its event commit together, and every holder of the subject's
 * data applies it from the event and answers with a receipt.
 */

const reasonInput = z.object({ reason: textSchema(3, 2000) });

function base(scope: RequestScope, subjectId: string) {
  return { source: 'subjects' as const, actor: scope.actor, subjectId, correlationId: scope.meta.requestId };
}

async function lockedSubject(trx: Transaction<Database>, scope: RequestScope, subjectId: string) {
  const subject = await repo.lockSubject(trx, subjectId);
  if (!subject) throw new NotFoundError(scope.meta.locale, 'Subject');
  return subject;
}

/**
 * Blocking (6.1.3) and unblocking: the status, the block record and subjects' own receipt change
 * with the event in one transaction; the other holders confirm from the stream.
 */
export async function setSubjectBlocked(deps: Deps, scope: RequestScope, subjectId: string, reasonRaw: string, blocked: boolean): Promise<void> {
  const { reason } = parseInput(reasonInput, { reason: reasonRaw }, scope.meta.locale);
  await deps.db.transaction().execute(async (trx) => {
    const subject = await lockedSubject(trx, scope, subjectId);
    if (!(blocked ? canBlock : canUnblock)(subject.status)) throw new ConflictError(scope.meta.locale, `SUBJECT_${subject.status}`, 'state.subjectStatus');
    const version = await repo.setBlockStatus(trx, subjectId, blocked);
    if (blocked) await repo.openBlock(trx, subjectId, reason, scope.actor.id);
    else await repo.closeBlock(trx, subjectId, reason, scope.actor.id);
    await repo.upsertBlockReceipt(trx, subjectId, 'subjects', blocked, new Date(), version);
    await enqueueEvents(trx, deps.prefix, [
      { ...base(scope, subjectId), type: blocked ? ('subject.blocked' as const) : ('subject.unblocked' as const), data: { subjectId, version } },
      { ...base(scope, subjectId), type: 'subject.block_applied' as const, data: { subjectId, blocked, service: 'subjects' as const, version } },
    ]);
  });
}

export async function proposeErasure(
  deps: Deps,
  scope: RequestScope,
  subjectId: string,
  method: ErasureMethod,
  groundsRaw: string,
  automatic = false,
): Promise<string> {
  const { grounds } = parseInput(z.object({ grounds: textSchema(3, 4000) }), { grounds: groundsRaw }, scope.meta.locale);
  return deps.db.transaction().execute(async (trx) => {
    const subject = await lockedSubject(trx, scope, subjectId);
    if (!canErase(subject.status)) throw new ConflictError(scope.meta.locale, `SUBJECT_${subject.status}`, 'state.subjectStatus');
    const id = randomUUID();
    const inserted = await repo.insertAct(trx, { id, subjectId, method, grounds, automatic, proposedBy: scope.actor.id });
    if (!inserted) throw new ConflictError(scope.meta.locale, 'ERASURE_ACT_OPEN', 'state.actOpen');
    await enqueueEvent(trx, deps.prefix, { ...base(scope, subjectId), type: 'erasure.proposed', data: { actId: id, method, automatic } });
    return id;
  });
}

/** CHAIRMAN's decision (4.6). Approval fixes which holders must confirm and starts the erasure. */
export async function decideErasure(deps: Deps, scope: RequestScope, actId: string, approve: boolean, noteRaw: string | null): Promise<void> {
  const { note } = parseInput(z.object({ note: textSchema(1, 2000).nullable() }), { note: noteRaw }, scope.meta.locale);
  await deps.db.transaction().execute(async (trx) => {
    const act = await repo.lockAct(trx, actId);
    if (!act) throw new NotFoundError(scope.meta.locale, 'ErasureAct');
    if (act.status !== 'PROPOSED') throw new ConflictError(scope.meta.locale, `ACT_${act.status}`, 'state.actDecided');
    // Who proposed an act does not decide it (4.6: the Chairman's decision on the DPO's proposal), even holding both roles.
    if (act.proposed_by === scope.actor.id) throw new ConflictError(scope.meta.locale, 'OWN_PROPOSAL', 'state.actOwnProposal');
    const method = act.method;
    if (approve) {
      const services = [...PD_HOLDERS];
      await repo.decideAct(trx, actId, 'APPROVED', scope.actor.id, note, services);
      await enqueueEvent(trx, deps.prefix, { ...base(scope, act.subject_id), type: 'erasure.approved', data: { actId, method, services } });
    } else {
      await repo.decideAct(trx, actId, 'REJECTED', scope.actor.id, note, []);
      await enqueueEvent(trx, deps.prefix, { ...base(scope, act.subject_id), type: 'erasure.rejected', data: { actId } });
    }
  });
}

const rectificationInput = z.object({
  field: z.enum(Object.keys(RECTIFIABLE_FIELDS) as [string, ...string[]]),
  documents: z.array(textSchema(1, 500)).min(1, { message: 'text.required' }).max(20),
});
const VALUE_SCHEMAS: Record<string, z.ZodType<string>> = { iin: iinSchema, phone: phoneSchema, email: emailSchema };

export interface RectificationInput {
  subjectId: string;
  field: string;
  newValue: string;
  documents: string[];
}

/** A documented request to correct a field (6.1.2); the new value is validated and kept encrypted. */
export async function requestRectification(deps: Deps, scope: RequestScope, input: RectificationInput): Promise<string> {
  // One pass over every field: the new value is checked by the rule of the field it corrects.
  const { field, documents, newValue } = parseInput(
    rectificationInput.extend({ newValue: z.string() }).superRefine((value, ctx) => {
      const schema = VALUE_SCHEMAS[value.field];
      const checked = schema?.safeParse(value.newValue);
      if (checked && !checked.success) for (const issue of checked.error.issues) ctx.addIssue({ code: 'custom', path: ['newValue'], message: issue.message });
    }),
    input,
    scope.meta.locale,
  );
  // The value as its rule normalizes it (an IIN without spaces, a phone as +7…).
  const normalized = VALUE_SCHEMAS[field]!.parse(newValue);
  const deadline = addWorkingDays(new Date(), deps.config.extra.rightsRequestWorkingDays, deps.config.extra.calendar);
  return deps.db.transaction().execute(async (trx) => {
    const subject = await lockedSubject(trx, scope, input.subjectId);
    if (subject.status === 'BLOCKED') throw new SubjectBlockedError(scope.meta.locale);
    if (!canErase(subject.status)) throw new ConflictError(scope.meta.locale, `SUBJECT_${subject.status}`, 'state.subjectStatus');
    const id = randomUUID();
    await repo.insertRectification(trx, {
      id,
      subjectId: input.subjectId,
      field,
      newValueEnc: deps.cipher.encrypt(normalized, { table: 'rectification_requests', column: 'new_value_enc', id }),
      documents,
      requestedBy: scope.actor.id,
      deadline: deadline.toISOString().slice(0, 10),
    });
    // The new value is collected (kept encrypted here): the audit records that, never the value.
    await enqueueEvent(trx, deps.prefix, {
      ...base(scope, input.subjectId),
      type: 'rectification.requested',
      data: { requestId: id, field, deadline: deadline.toISOString().slice(0, 10) },
    });
    return id;
  });
}

/**
 * The DPO's review. An approved IIN is applied here at once; a field another service holds is
 * handed off to it sealed (outside the event stream, see `handoff.ts`), and the request is APPLIED
 * when that service confirms.
 */
export async function reviewRectification(deps: Deps, scope: RequestScope, requestId: string, approve: boolean, note: string | null): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const request = await repo.lockRectification(trx, requestId);
    if (!request) throw new NotFoundError(scope.meta.locale, 'RectificationRequest');
    if (request.status !== 'PENDING') throw new ConflictError(scope.meta.locale, `REQUEST_${request.status}`, 'state.requestDecided');
    const subject = await lockedSubject(trx, scope, request.subject_id);
    if (subject.status === 'BLOCKED') throw new SubjectBlockedError(scope.meta.locale);
    const review = { by: scope.actor.id, note };
    if (!approve) {
      await repo.setRectificationStatus(trx, requestId, 'REJECTED', review);
      await enqueueEvent(trx, deps.prefix, { ...base(scope, subject.id), type: 'rectification.rejected', data: { requestId, field: request.field } });
      return;
    }
    const value = deps.cipher.decrypt(request.new_value_enc, { table: 'rectification_requests', column: 'new_value_enc', id: request.id });
    const holder = RECTIFIABLE_FIELDS[request.field]!;
    if (holder === 'subjects') {
      const iinEnc = deps.cipher.encrypt(value, { table: 'subjects', column: 'iin_enc', id: subject.id });
      const replaced = await repo.replaceIin(trx, subject.id, iinEnc, iinBlindIndex(deps.config.blindIndexKey, value));
      if (!replaced) throw new ConflictError(scope.meta.locale, 'IIN_TAKEN', 'state.iinTaken');
      await repo.setRectificationStatus(trx, requestId, 'APPLIED', review);
      await enqueueEvent(trx, deps.prefix, {
        ...base(scope, subject.id),
        type: 'rectification.applied',
        data: { requestId, field: request.field, service: 'subjects' },
      });
      return;
    }
    await repo.setRectificationStatus(trx, requestId, 'APPROVED', review);
    // Phone and e-mail live in appeals, the only other holder of a rectifiable field.
    const handoff = await sealHandoff('appeals', requestId, { value }, deps.config.extra.appealsSealKey);
    await enqueueHandoffs(trx, deps.prefix, [handoff]);
    await enqueueEvent(trx, deps.prefix, {
      ...base(scope, subject.id),
      type: 'rectification.approved',
      data: { requestId, field: request.field, service: holder, value: handoff.ref },
    });
  });
}

/** Proposes erasure for every subject whose purposes are achieved and whose retention term passed. */
export async function sweepRetention(deps: Deps): Promise<number> {
  const due = await repo.subjectsDueForErasure(deps.db, deps.config.extra.retentionDays, 500);
  const system: RequestScope = {
    actor: { id: 'system:retention', roles: ['DPO'], creditorId: null },
    meta: { requestId: randomUUID(), locale: 'RU', ip: null, userAgent: null },
  };
  let proposed = 0;
  for (const subjectId of due) {
    try {
      await proposeErasure(
        deps,
        system,
        subjectId,
        deps.config.extra.retentionMethod,
        `Retention term of ${deps.config.extra.retentionDays} days after all purposes were achieved has passed (clause 4.6)`,
        true,
      );
      proposed += 1;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  return proposed;
}
