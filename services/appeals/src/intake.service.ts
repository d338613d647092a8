import { randomUUID } from 'node:crypto';
import {
  addWorkingDays,
  BadUserInputError,
  blindIndex,
  eventHeader,
  handoffOutboxRows,
  parseInput,
  sealHandoff,
  signedOutboxRows,
  t,
  type RequestScope,
} from '@pdp/shared';
import { GraphQLError } from 'graphql';
import type { Deps } from './config';
import { insertAppeal, nextReferenceNumber } from './db/appeals.repository';
import {
  FORMS,
  INTAKE_CONSENT_TEMPLATE,
  appealReference,
  registerAppealSchema,
  submitAppealSchema,
  type AppealKind,
  type AppealRecord,
  type Locale,
} from './domain/appeal';

/** Purpose string of the appeals' own IIN index: it matches no other service's index of the same IIN. */
export const STATUS_LOOKUP_INDEX = 'appeal-status-iin';

/**
 * Public intake (Annexes 3–5), the web forms' door: anonymous callers only. A staff or partner
 * token is FORBIDDEN here (and recorded) — the consent would otherwise be recorded in the person's
 * name with the caller's IP as its evidence; staff enter paper appeals with `registerAppeal`.
 */
export async function submitAppeal(deps: Deps, scope: RequestScope, input: Record<string, unknown>, selection: ReadonlySet<string>): Promise<AppealRecord> {
  await deps.guard.authorize(scope, 'Mutation.submitAppeal');
  const requested = input.locale === 'KK' || input.locale === 'RU' ? (input.locale as Locale) : null;
  await checkReceipt(deps, scope, selection, requested ?? scope.meta.locale);
  const form = parseInput(submitAppealSchema, input, requested ?? scope.meta.locale);
  return accept(deps, scope, {
    ...form,
    locale: form.locale ?? scope.meta.locale,
    channel: FORMS[form.kind].channel,
    enteredBy: null,
    evidence: { ip: scope.meta.ip, userAgent: scope.meta.userAgent },
  });
}

/** What the public caller may read of the appeal it has just submitted: its receipt, nothing staff see. */
const RECEIPT = new Set([
  '__typename',
  'appeal',
  ...['__typename', 'id', 'reference', 'kind', 'status', 'deadline', 'submittedAt', 'locale', 'channel'].map((f) => `appeal.${f}`),
]);

/**
 * The answer to a submission is either the stored appeal's reference or a refusal with nothing
 * stored (docs/api.md, "submitAppeal"). A selection of more than the receipt — the applicant
 * (`subject`, another subgraph's: here its entity reference), contact data, history, the answer —
 * would have been refused field by field *after* the appeal and its consent were stored, and a
 * refused non-null field (`history`) nulled the whole payload: the person never saw the reference of
 * what was kept in their name. So such a selection is refused first (FORBIDDEN, recorded as a denied
 * attempt), and so is one without `appeal { reference }` (BAD_USER_INPUT); the appeal is not stored.
 */
async function checkReceipt(deps: Deps, scope: RequestScope, selection: ReadonlySet<string>, locale: Locale): Promise<void> {
  const beyond = [...selection].filter((path) => !RECEIPT.has(path));
  // The outermost refused fields only (`appeal.subject`, not also `appeal.subject.id`).
  const fields = beyond.filter((path) => !beyond.some((other) => path.startsWith(`${other}.`)));
  if (fields.length > 0) {
    await deps.guard.recordDenied(scope, 'Mutation.submitAppeal', 'ROLE');
    throw new GraphQLError(t('intake.receiptOnly', locale), { extensions: { code: 'FORBIDDEN', fields } });
  }
  if (!selection.has('appeal.reference')) throw new BadUserInputError('appeal.reference', 'intake.referenceRequired', locale);
}

/**
 * An appeal that came on paper or in person (OPERATOR): the operator types it in with the signed
 * Annex 2's reference, which becomes the consent's evidence; the record says who entered it.
 */
export async function registerAppeal(deps: Deps, scope: RequestScope, input: Record<string, unknown>): Promise<AppealRecord> {
  await deps.guard.authorize(scope, 'Mutation.registerAppeal');
  const requested = input.locale === 'KK' || input.locale === 'RU' ? (input.locale as Locale) : null;
  const form = parseInput(registerAppealSchema, input, requested ?? scope.meta.locale);
  return accept(deps, scope, {
    ...form,
    phone: form.phone ?? null,
    email: form.email ?? null,
    enteredBy: scope.actor.id,
    evidence: { ip: null, userAgent: null, document: form.consentDocument },
  });
}

interface Accepted {
  kind: AppealKind;
  iin: string;
  phone: string | null;
  email: string | null;
  description: string;
  locale: Locale;
  channel: string;
  enteredBy: string | null;
  evidence: { ip: string | null; userAgent: string | null; document?: string };
}

/**
 * Stores a validated appeal with its contact data encrypted, its first history line and, in the same
 * statement, the `appeal.submitted` event. The IIN is handed off sealed to subjects and the consent
 * evidence sealed to consents, outside the event stream (`handoff.ts`): the event carries only
 * references to them, so an erasure can remove every copy.
 */
async function accept(deps: Deps, scope: RequestScope, a: Accepted): Promise<AppealRecord> {
  const submittedAt = new Date();
  const id = randomUUID();
  const [identity, evidence] = await Promise.all([
    sealHandoff('subjects', id, { iin: a.iin }, deps.config.extra.subjectsSealKey),
    sealHandoff('consents', id, a.evidence, deps.config.extra.consentsSealKey),
  ]);
  const deadline = addWorkingDays(submittedAt, deps.config.extra.answerWorkingDays, deps.config.extra.calendar);
  // The number first, on its own: a sequence is not transactional anyway (a failed insert leaves a
  // gap either way), and the signed event must carry the reference.
  const reference = appealReference(a.kind, submittedAt.getUTCFullYear(), await nextReferenceNumber(deps.db));
  const { rows: eventRows } = signedOutboxRows(deps.prefix, [
    {
      ...eventHeader('appeals', scope),
      type: 'appeal.submitted',
      data: {
        appealId: id,
        reference,
        kind: a.kind,
        channel: a.channel,
        locale: a.locale,
        identity: identity.ref,
        consent: { templateCode: INTAKE_CONSENT_TEMPLATE, givenAt: submittedAt.toISOString(), evidence: evidence.ref },
      },
    },
  ]);
  // The hand-offs before the event that refers to them (the relay publishes in outbox order).
  return insertAppeal(
    deps.db,
    {
      id,
      reference,
      kind: a.kind,
      channel: a.channel,
      locale: a.locale,
      phoneEnc: a.phone ? deps.cipher.encrypt(a.phone, { table: 'appeals', column: 'phone_enc', id }) : null,
      emailEnc: a.email ? deps.cipher.encrypt(a.email, { table: 'appeals', column: 'email_enc', id }) : null,
      descriptionEnc: deps.cipher.encrypt(a.description, { table: 'appeals', column: 'description_enc', id }),
      deadline: deadline.toISOString().slice(0, 10),
      submittedAt,
      iinBidx: blindIndex(deps.config.blindIndexKey, STATUS_LOOKUP_INDEX, a.iin),
      enteredBy: a.enteredBy,
    },
    [...handoffOutboxRows(deps.prefix, [identity, evidence]), ...eventRows],
  );
}
