import type { Role } from './actor';

/**
 * Who may see whose data (clauses 1.3, 4.3, 4.4): the one permission table of the platform, as
 * "Contract, continued" states it. Two halves:
 *
 * - `OPERATIONS`: every Query and Mutation field of the supergraph, and every field of a type that
 *   holds personal data, with the roles that may call it. A root field without a row fails
 *   `tests/e2e/permissions.test.ts`; every subgraph asks `Guard.authorize` with these names.
 * - `CATEGORY_SCOPE`: the subject categories whose data a role's purpose covers. A staff read of a
 *   subject outside its scope is FORBIDDEN with reason PURPOSE; the CHAIRMAN sees categories, status
 *   and holdings but no PD values (the `*.pd` rows exclude it).
 */

export const SUBJECT_CATEGORIES = ['EMPLOYEE', 'COUNTERPARTY', 'APPLICANT', 'DEBTOR', 'RELATIVE', 'EMPLOYER'] as const;
export type SubjectCategory = (typeof SUBJECT_CATEGORIES)[number];

const ALL: readonly SubjectCategory[] = SUBJECT_CATEGORIES;

export const CATEGORY_SCOPE: Record<Role, readonly SubjectCategory[]> = {
  OPERATOR: ['APPLICANT', 'DEBTOR', 'RELATIVE', 'EMPLOYER'],
  HR: ['EMPLOYEE'],
  CONTRACTS: ['COUNTERPARTY'],
  DPO: ALL,
  AUDITOR: ALL,
  CHAIRMAN: ALL,
  PARTNER: [],
  OPS: [],
  PUBLIC: [],
};

const EVERYONE: readonly Role[] = ['PUBLIC', 'OPERATOR', 'DPO', 'CHAIRMAN', 'HR', 'CONTRACTS', 'AUDITOR', 'PARTNER', 'OPS'];
/** Staff whose purpose covers reading some subjects' PD (each within its categories). */
const PD_STAFF: readonly Role[] = ['OPERATOR', 'DPO', 'HR', 'CONTRACTS', 'AUDITOR'];
/** Staff who may look a subject up at all (the CHAIRMAN: status and categories, no PD values). */
const SUBJECT_READERS: readonly Role[] = [...PD_STAFF, 'CHAIRMAN'];
const APPEAL_STAFF: readonly Role[] = ['OPERATOR', 'DPO', 'AUDITOR'];
const APPEAL_WORKERS: readonly Role[] = ['OPERATOR', 'DPO'];
const ACT_READERS: readonly Role[] = ['DPO', 'CHAIRMAN', 'AUDITOR'];

export const OPERATIONS = {
  // subjects
  'Query.subject': SUBJECT_READERS,
  'Query.subjectByIin': PD_STAFF,
  'Query.accessReport': ['DPO', 'AUDITOR', 'CHAIRMAN'],
  'Query.erasureAct': ACT_READERS,
  'Query.erasureActs': ACT_READERS,
  'Query.overdueRectifications': ['DPO'],
  'Query.rectificationRequests': ['DPO'],
  'Mutation.blockSubject': ['DPO'],
  'Mutation.unblockSubject': ['DPO'],
  'Mutation.proposeErasure': ['DPO'],
  'Mutation.approveErasure': ['CHAIRMAN'],
  'Mutation.rejectErasure': ['CHAIRMAN'],
  'Mutation.requestRectification': ['DPO', 'OPERATOR'],
  'Mutation.reviewRectification': ['DPO'],
  'Mutation.registerEmployee': ['HR'],
  'Mutation.endEmployment': ['HR'],
  'Mutation.registerCounterparty': ['CONTRACTS'],
  'Subject.pd': PD_STAFF,
  'Subject.blocks': ['DPO', 'AUDITOR', 'CHAIRMAN'],
  'Subject.appeals': APPEAL_STAFF,
  'Subject.consents': PD_STAFF,
  'Subject.auditTrail': ['AUDITOR', 'DPO'],
  'PartnerAppeal.iin': ['PARTNER'],

  // appeals
  'Query.appeal': APPEAL_STAFF,
  'Query.appeals': APPEAL_WORKERS,
  'Query.overdueAppeals': APPEAL_STAFF,
  'Query.creditors': APPEAL_WORKERS,
  'Query.partnerAppeals': ['PARTNER'],
  'Query.appealStatus': ['PUBLIC'],
  'Mutation.submitAppeal': ['PUBLIC'],
  'Mutation.registerAppeal': ['OPERATOR'],
  'Mutation.changeAppealStatus': APPEAL_WORKERS,
  'Mutation.commentAppeal': APPEAL_WORKERS,
  'Mutation.assignAppeal': APPEAL_WORKERS,
  'Mutation.answerAppeal': APPEAL_WORKERS,
  'Mutation.forwardAppeal': APPEAL_WORKERS,
  'Mutation.registerCreditor': ['DPO'],
  'Mutation.respondToAppeal': ['PARTNER'],
  'Appeal.pd': APPEAL_STAFF,

  // consents
  'Query.consentTemplate': EVERYONE,
  'Query.consentTemplates': EVERYONE,
  'Mutation.publishConsentTemplate': ['DPO'],
  'Mutation.fulfilObligation': ['CONTRACTS'],
  'Mutation.withdrawConsent': ['DPO'],
  'Mutation.setPublicationConsent': ['DPO'],
  'Consent.pd': PD_STAFF,

  // audit
  'Query.auditLog': ['AUDITOR', 'DPO'],
  'Query.verifyAuditChain': ['AUDITOR'],
  'Query.incidents': ['AUDITOR', 'DPO'],
  'Query.overdueIncidents': ['AUDITOR', 'DPO'],
  'Query.auditEntries': ['AUDITOR', 'DPO'],
  'Query.auditCheckpoints': ['AUDITOR'],
  'Query.auditKeys': ['AUDITOR'],
  'Query.auditWitness': ['AUDITOR'],
  'Query.controlReport': ['AUDITOR', 'DPO', 'CHAIRMAN'],
  'Mutation.acknowledgeIncident': ['DPO'],
  'Mutation.reportIncident': ['DPO'],
  'Mutation.closeIncident': ['DPO'],
  'Mutation.checkpointAudit': ['AUDITOR'],

  // the access registry (appeals): `me` answers any signed-in account, one without a grant too
  'Query.me': EVERYONE,
  'Query.accessGrants': ['DPO', 'AUDITOR', 'CHAIRMAN'],
  'Query.accessList': ['DPO', 'AUDITOR'],
  'Mutation.grantAccess': ['DPO'],
  'Mutation.revokeAccess': ['DPO'],
  'Mutation.suspendCreditor': ['DPO'],
  'Mutation.resumeCreditor': ['DPO'],
  // the calendar of deadlines (appeals): public, like the templates
  'Query.workingCalendar': EVERYONE,

  // operations
  'Query.platformHealth': ['OPS', 'DPO'],
  'Query.parkedEvents': ['OPS'],
  'Mutation.replayParkedEvent': ['OPS'],
} as const satisfies Record<string, readonly Role[]>;

export type Operation = keyof typeof OPERATIONS;

/** A record a service can name the subject of: the id is looked up by the service that holds it. */
export type SubjectVia = 'appeal' | 'erasureAct' | 'rectification' | 'consent' | 'obligation' | 'iin';

/**
 * Where a root field's subject is, for the record of a refused call (7.2.2: a denial must say whom
 * it was about, or a search by subject misses it): the argument (a dotted path into an input) that
 * holds the subject's id, or an id of a record `via` which the service finds the subject. Looked up
 * only when the call is refused.
 */
export type SubjectRef = { arg: string; via?: SubjectVia };

export const SUBJECT_OF: Partial<Record<Operation, SubjectRef>> = {
  'Query.subject': { arg: 'id' },
  'Query.subjectByIin': { arg: 'iin', via: 'iin' },
  'Query.accessReport': { arg: 'subjectId' },
  'Query.erasureAct': { arg: 'id', via: 'erasureAct' },
  'Query.erasureActs': { arg: 'subjectId' },
  'Mutation.blockSubject': { arg: 'subjectId' },
  'Mutation.unblockSubject': { arg: 'subjectId' },
  'Mutation.proposeErasure': { arg: 'subjectId' },
  'Mutation.approveErasure': { arg: 'actId', via: 'erasureAct' },
  'Mutation.rejectErasure': { arg: 'actId', via: 'erasureAct' },
  'Mutation.requestRectification': { arg: 'input.subjectId' },
  'Mutation.reviewRectification': { arg: 'requestId', via: 'rectification' },
  'Mutation.endEmployment': { arg: 'subjectId' },
  'Query.appeal': { arg: 'id', via: 'appeal' },
  'Mutation.changeAppealStatus': { arg: 'appealId', via: 'appeal' },
  'Mutation.commentAppeal': { arg: 'appealId', via: 'appeal' },
  'Mutation.assignAppeal': { arg: 'appealId', via: 'appeal' },
  'Mutation.answerAppeal': { arg: 'appealId', via: 'appeal' },
  'Mutation.forwardAppeal': { arg: 'appealId', via: 'appeal' },
  'Mutation.respondToAppeal': { arg: 'appealId', via: 'appeal' },
  'Mutation.withdrawConsent': { arg: 'consentId', via: 'consent' },
  'Mutation.fulfilObligation': { arg: 'obligationId', via: 'obligation' },
  'Mutation.setPublicationConsent': { arg: 'subjectId' },
  'Query.auditLog': { arg: 'subjectId' },
};

/** Finds the subject of a record a service holds (`SubjectVia`); null when there is none or the id is not one. */
export type SubjectFinders = Partial<Record<SubjectVia, (id: string) => Promise<string | null>>>;

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The subject a refused call was about, from its arguments and the row's `SUBJECT_OF`. Never throws:
 * an argument that is not an id (the call was refused before its arguments were checked) is no subject.
 */
export async function subjectOfCall(operation: Operation, args: Record<string, unknown>, finders: SubjectFinders): Promise<string | null> {
  const ref = SUBJECT_OF[operation];
  if (!ref) return null;
  const value = ref.arg.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), args);
  if (typeof value !== 'string') return null;
  if (!ref.via) return UUID_TEXT.test(value) ? value : null;
  if (ref.via !== 'iin' && !UUID_TEXT.test(value)) return null;
  try {
    return (await finders[ref.via]?.(value)) ?? null;
  } catch {
    return null;
  }
}

/**
 * Rows open to every role, PUBLIC included, that still need a signed-in account: an account with no
 * grant (the gateway passes it on as PUBLIC under its own name) may ask, a request without a token
 * is UNAUTHENTICATED.
 */
export const SIGNED_IN_ONLY: ReadonlySet<Operation> = new Set<Operation>(['Query.me']);

export function isOperation(name: string): name is Operation {
  return Object.hasOwn(OPERATIONS, name);
}

export function rolesFor(operation: Operation): readonly Role[] {
  return OPERATIONS[operation];
}

/**
 * The categories among `categories` that one of the actor's roles covers: HR learns that a person is
 * an employee, not that the same person also filed a complaint (clauses 4.3, 4.4).
 */
export function visibleCategories<C extends string>(roles: readonly Role[], categories: readonly C[]): C[] {
  return categories.filter((c) => roles.some((role) => (CATEGORY_SCOPE[role] as readonly string[]).includes(c)));
}

/**
 * Whether one of the actor's roles covers a subject with these categories. A role whose purpose
 * covers every category (DPO, AUDITOR, CHAIRMAN) also sees a subject with none left (an erased one's
 * tombstone).
 */
export function coversCategories(roles: readonly Role[], categories: readonly string[]): boolean {
  return roles.some((role) => CATEGORY_SCOPE[role] === ALL || CATEGORY_SCOPE[role].some((c) => categories.includes(c)));
}
