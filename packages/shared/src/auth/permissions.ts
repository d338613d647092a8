import type { Actor, Role } from './actor';

/**
 * Who may see whose data (clauses 1.3, 4.3, 4.4, 6.1.3): the one permission table of the platform, as
 * "Contract, continued" states it, and the visibility rules that go with it. Every subgraph's
 * request pipeline (`runtime.ts` → `guardArguments`) asks this module, and nothing else, who may do what:
 *
 * - `OPERATIONS`: every Query and Mutation field of the supergraph, and every field of a type that
 *   holds personal data, with the roles that may call it and, for a root field about one subject,
 *   where that subject is (for the record of a refused call). A root field without a row fails
 *   `tests/e2e/permissions.test.ts`. Root fields are authorized by the pipeline before their
 *   resolver runs; the other rows are asked by the field (or `_entities`) resolvers with `Guard.authorize`.
 * - `CATEGORY_SCOPE`, `PURPOSE_CATEGORIES`: the subject categories whose data a role's purpose
 *   covers, and the categories each purpose of processing is for. A staff read of a subject outside
 *   its scope is FORBIDDEN with reason PURPOSE; the CHAIRMAN sees categories, status and holdings but
 *   no PD values (the `*.pd` rows exclude it).
 * - `BLOCKED_READERS`, `BLOCKED_RECORD_READERS`: who still sees a blocked subject (6.1.3).
 * - `ROLE_PURPOSES`: the purpose each role's processing serves, recorded with each access.
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

/** Purposes of processing (clause 3.2), as subjects declares them and consents and the audit record them. */
export const PURPOSES = {
  LABOUR_RELATIONS: 'LABOUR_RELATIONS',
  CONTRACT_PERFORMANCE: 'CONTRACT_PERFORMANCE',
  APPEAL_HANDLING: 'APPEAL_HANDLING',
} as const;
export type Purpose = (typeof PURPOSES)[keyof typeof PURPOSES];

/** The categories whose data each purpose is for (3.2): who may see a purpose is who may see its category. */
export const PURPOSE_CATEGORIES: Readonly<Record<Purpose, readonly SubjectCategory[]>> = {
  LABOUR_RELATIONS: ['EMPLOYEE'],
  CONTRACT_PERFORMANCE: ['COUNTERPARTY'],
  APPEAL_HANDLING: ['APPLICANT', 'DEBTOR', 'RELATIVE', 'EMPLOYER'],
};

/** Who may still read a blocked subject's data (6.1.3): the DPO and the audit. */
export const BLOCKED_READERS: readonly Role[] = ['DPO', 'AUDITOR'];
/**
 * Who may still see a blocked subject's record in the registry — its status, categories, blocks and
 * holdings, no PD value: the DPO and the audit, and the CHAIRMAN, who decides the erasure acts that
 * often follow a block and reads no PD value of anyone (the `*.pd` rows).
 */
export const BLOCKED_RECORD_READERS: readonly Role[] = [...BLOCKED_READERS, 'CHAIRMAN'];

/**
 * The purpose each role's processing serves (3.2.x and the roles' duties), recorded with each access;
 * an actor with several roles serves the first listed.
 */
export const ROLE_PURPOSES: ReadonlyArray<readonly [Role, string]> = [
  ['DPO', 'SUBJECT_RIGHTS'],
  ['AUDITOR', 'CONTROL'],
  ['CHAIRMAN', 'SUBJECT_RIGHTS'],
  ['OPERATOR', PURPOSES.APPEAL_HANDLING],
  ['HR', PURPOSES.LABOUR_RELATIONS],
  ['CONTRACTS', PURPOSES.CONTRACT_PERFORMANCE],
  ['PARTNER', PURPOSES.APPEAL_HANDLING],
  ['OPS', 'OPERATIONS'],
  ['PUBLIC', PURPOSES.APPEAL_HANDLING],
];

export function purposeOfActor(actor: Pick<Actor, 'roles'>): string {
  return ROLE_PURPOSES.find(([role]) => actor.roles.includes(role))?.[1] ?? 'UNDECLARED';
}

const EVERYONE: readonly Role[] = ['PUBLIC', 'OPERATOR', 'DPO', 'CHAIRMAN', 'HR', 'CONTRACTS', 'AUDITOR', 'PARTNER', 'OPS'];
/** Staff whose purpose covers reading some subjects' PD (each within its categories). */
const PD_STAFF: readonly Role[] = ['OPERATOR', 'DPO', 'HR', 'CONTRACTS', 'AUDITOR'];
/** Staff who may look a subject up at all (the CHAIRMAN: status and categories, no PD values). */
const SUBJECT_READERS: readonly Role[] = [...PD_STAFF, 'CHAIRMAN'];
const APPEAL_STAFF: readonly Role[] = ['OPERATOR', 'DPO', 'AUDITOR'];
const APPEAL_WORKERS: readonly Role[] = ['OPERATOR', 'DPO'];
const ACT_READERS: readonly Role[] = ['DPO', 'CHAIRMAN', 'AUDITOR'];

/** A record a service can name the subject of: the id is looked up by the service that holds it. */
export type SubjectVia = 'appeal' | 'erasureAct' | 'rectification' | 'consent' | 'obligation' | 'iin';

/**
 * Where a root field's subject is, for the record of a refused call (7.2.2: a denial must say whom
 * it was about, or a search by subject misses it): the argument (a dotted path into an input) that
 * holds the subject's id, or an id of a record `via` which the service finds the subject. Looked up
 * only when the call is refused.
 */
export type SubjectRef = { readonly arg: string; readonly via?: SubjectVia };

/** One row of the table: who may, and (a root field about one subject) where its subject is. */
export interface PermissionRow {
  readonly roles: readonly Role[];
  readonly subject?: SubjectRef;
}

export const OPERATIONS = {
  // subjects
  'Query.subject': { roles: SUBJECT_READERS, subject: { arg: 'id' } },
  'Query.subjectByIin': { roles: PD_STAFF, subject: { arg: 'iin', via: 'iin' } },
  'Query.accessReport': { roles: ['DPO', 'AUDITOR', 'CHAIRMAN'], subject: { arg: 'subjectId' } },
  'Query.erasureAct': { roles: ACT_READERS, subject: { arg: 'id', via: 'erasureAct' } },
  'Query.erasureActs': { roles: ACT_READERS, subject: { arg: 'subjectId' } },
  'Query.overdueRectifications': { roles: ['DPO'] },
  'Query.rectificationRequests': { roles: ['DPO'] },
  'Mutation.blockSubject': { roles: ['DPO'], subject: { arg: 'subjectId' } },
  'Mutation.unblockSubject': { roles: ['DPO'], subject: { arg: 'subjectId' } },
  'Mutation.proposeErasure': { roles: ['DPO'], subject: { arg: 'subjectId' } },
  'Mutation.approveErasure': { roles: ['CHAIRMAN'], subject: { arg: 'actId', via: 'erasureAct' } },
  'Mutation.rejectErasure': { roles: ['CHAIRMAN'], subject: { arg: 'actId', via: 'erasureAct' } },
  'Mutation.requestRectification': { roles: ['DPO', 'OPERATOR'], subject: { arg: 'input.subjectId' } },
  'Mutation.reviewRectification': { roles: ['DPO'], subject: { arg: 'requestId', via: 'rectification' } },
  'Mutation.registerEmployee': { roles: ['HR'] },
  'Mutation.endEmployment': { roles: ['HR'], subject: { arg: 'subjectId' } },
  'Mutation.registerCounterparty': { roles: ['CONTRACTS'] },
  'Mutation.endContract': { roles: ['CONTRACTS'], subject: { arg: 'subjectId' } },
  'Query.retentionRules': { roles: ['DPO', 'AUDITOR', 'CHAIRMAN'] },
  'Subject.pd': { roles: PD_STAFF },
  'Subject.blocks': { roles: ['DPO', 'AUDITOR', 'CHAIRMAN'] },
  'Subject.appeals': { roles: APPEAL_STAFF },
  'Subject.consents': { roles: PD_STAFF },
  'Subject.auditTrail': { roles: ['AUDITOR', 'DPO'] },
  'PartnerAppeal.iin': { roles: ['PARTNER'] },

  // appeals
  'Query.appeal': { roles: APPEAL_STAFF, subject: { arg: 'id', via: 'appeal' } },
  'Query.appeals': { roles: APPEAL_WORKERS },
  'Query.overdueAppeals': { roles: APPEAL_STAFF },
  'Query.creditors': { roles: APPEAL_WORKERS },
  'Query.partnerAppeals': { roles: ['PARTNER'] },
  'Query.appealStatus': { roles: ['PUBLIC'] },
  'Mutation.submitAppeal': { roles: ['PUBLIC'] },
  'Mutation.registerAppeal': { roles: ['OPERATOR'] },
  'Mutation.changeAppealStatus': { roles: APPEAL_WORKERS, subject: { arg: 'appealId', via: 'appeal' } },
  'Mutation.commentAppeal': { roles: APPEAL_WORKERS, subject: { arg: 'appealId', via: 'appeal' } },
  'Mutation.assignAppeal': { roles: APPEAL_WORKERS, subject: { arg: 'appealId', via: 'appeal' } },
  'Mutation.answerAppeal': { roles: APPEAL_WORKERS, subject: { arg: 'appealId', via: 'appeal' } },
  'Mutation.forwardAppeal': { roles: APPEAL_WORKERS, subject: { arg: 'appealId', via: 'appeal' } },
  'Mutation.registerCreditor': { roles: ['DPO'] },
  'Mutation.respondToAppeal': { roles: ['PARTNER'], subject: { arg: 'appealId', via: 'appeal' } },
  'Appeal.pd': { roles: APPEAL_STAFF },

  // consents
  'Query.consentTemplate': { roles: EVERYONE },
  'Query.consentTemplates': { roles: EVERYONE },
  'Mutation.publishConsentTemplate': { roles: ['DPO'] },
  'Mutation.fulfilObligation': { roles: ['CONTRACTS'], subject: { arg: 'obligationId', via: 'obligation' } },
  'Mutation.withdrawConsent': { roles: ['DPO'], subject: { arg: 'consentId', via: 'consent' } },
  'Mutation.setPublicationConsent': { roles: ['DPO'], subject: { arg: 'subjectId' } },
  'Consent.pd': { roles: PD_STAFF },

  // audit
  'Query.auditLog': { roles: ['AUDITOR', 'DPO'], subject: { arg: 'subjectId' } },
  'Query.verifyAuditChain': { roles: ['AUDITOR'] },
  'Query.incidents': { roles: ['AUDITOR', 'DPO'] },
  'Query.overdueIncidents': { roles: ['AUDITOR', 'DPO'] },
  'Query.auditEntries': { roles: ['AUDITOR', 'DPO'] },
  'Query.auditCheckpoints': { roles: ['AUDITOR'] },
  'Query.auditKeys': { roles: ['AUDITOR'] },
  'Query.auditWitness': { roles: ['AUDITOR'] },
  'Query.controlReport': { roles: ['AUDITOR', 'DPO', 'CHAIRMAN'] },
  'Mutation.acknowledgeIncident': { roles: ['DPO'] },
  'Mutation.reportIncident': { roles: ['DPO'] },
  'Mutation.reportBreach': { roles: ['DPO', 'OPS'] },
  'Mutation.closeIncident': { roles: ['DPO'] },
  'Mutation.checkpointAudit': { roles: ['AUDITOR'] },

  // the access registry (appeals): `me` answers any signed-in account, one without a grant too
  'Query.me': { roles: EVERYONE },
  'Query.accessGrants': { roles: ['DPO', 'AUDITOR', 'CHAIRMAN'] },
  'Query.accessList': { roles: ['DPO', 'AUDITOR'] },
  'Mutation.grantAccess': { roles: ['DPO'] },
  'Mutation.revokeAccess': { roles: ['DPO'] },
  'Mutation.suspendCreditor': { roles: ['DPO'] },
  'Mutation.resumeCreditor': { roles: ['DPO'] },
  // the calendar of deadlines (appeals): public, like the templates
  'Query.workingCalendar': { roles: EVERYONE },

  // operations
  'Query.platformHealth': { roles: ['OPS', 'DPO'] },
  'Query.parkedEvents': { roles: ['OPS'] },
  'Mutation.replayParkedEvent': { roles: ['OPS'] },
} as const satisfies Record<string, PermissionRow>;

export type Operation = keyof typeof OPERATIONS;
/** A root field of the supergraph (`Query.x`, `Mutation.y`): the request pipeline authorizes these. */
export type RootOperation = Extract<Operation, `Query.${string}` | `Mutation.${string}`>;

/** Finds the subject of a record a service holds (`SubjectVia`); null when there is none or the id is not one. */
export type SubjectFinders = Partial<Record<SubjectVia, (id: string) => Promise<string | null>>>;

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The subject a refused call was about, from its arguments and its row's `subject`. Never throws:
 * an argument that is not an id (the call was refused before its arguments were checked) is no subject.
 */
export async function subjectOfCall(operation: Operation, args: Record<string, unknown>, finders: SubjectFinders): Promise<string | null> {
  const ref: SubjectRef | undefined = (OPERATIONS[operation] as PermissionRow).subject;
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
  return OPERATIONS[operation].roles;
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

/** Whether one of the actor's roles covers a category the purpose (`PURPOSES`) is for; an unknown code is no one's. */
export function coversPurpose(roles: readonly Role[], code: string): boolean {
  const categories: readonly SubjectCategory[] = Object.hasOwn(PURPOSE_CATEGORIES, code) ? PURPOSE_CATEGORIES[code as Purpose] : [];
  return visibleCategories(roles, categories).length > 0;
}
