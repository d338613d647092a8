import { randomUUID } from 'node:crypto';
import {
  addWorkingDays,
  ConflictError,
  emailSchema,
  enqueueEvent,
  enqueueHandoffs,
  eventHeader,
  iinSchema,
  NotFoundError,
  parseInput,
  phoneSchema,
  sealHandoff,
  SubjectBlockedError,
  textSchema,
  type RequestScope,
} from '@pdp/shared';
import { z } from 'zod';
import type { Deps } from './config';
import * as repo from './db/rectification.repository';
import { iinBlindIndex } from './domain/identity';
import { canErase, RECTIFIABLE_FIELDS } from './domain/lifecycle';
import { lockedSubject } from './subject-lock';

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
      ...eventHeader('subjects', scope, input.subjectId),
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
      await enqueueEvent(trx, deps.prefix, {
        ...eventHeader('subjects', scope, subject.id),
        type: 'rectification.rejected',
        data: { requestId, field: request.field },
      });
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
        ...eventHeader('subjects', scope, subject.id),
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
      ...eventHeader('subjects', scope, subject.id),
      type: 'rectification.approved',
      data: { requestId, field: request.field, service: holder, value: handoff.ref },
    });
  });
}
