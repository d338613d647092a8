import { z } from 'zod';
import { STAFF_ID } from '../validators';

/**
 * The catalog of domain events. Events carry ids and facts, never raw personal data: no IIN, names,
 * phones, e-mails or appeal text, and no ciphertext of them either. Personal data one service must
 * hand to another go outside the stream, sealed to that one recipient, as a hand-off (see
 * `handoff.ts`); the event carries only a reference to it. Documented in docs/events.md.
 */
export const SERVICES = ['subjects', 'appeals', 'consents', 'audit', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Operation kinds of clause 2.2; every audit entry has one. */
export const OPERATION_KINDS = ['COLLECT', 'STORE', 'MODIFY', 'ACCESS', 'TRANSFER', 'DEPERSONALIZE', 'BLOCK', 'UNBLOCK', 'DESTROY', 'DENIED'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

const uuid = z.uuid();
const appealKind = z.enum(['APPEAL', 'COMPLAINT', 'SCHEDULE_REQUEST']);
const locale = z.enum(['KK', 'RU']);
const erasureMethod = z.enum(['DESTROY', 'DEPERSONALIZE']);
/** A purpose code of clause 3.2 (APPEAL_HANDLING, LABOUR_RELATIONS, CONTRACT_PERFORMANCE). */
const purposeCode = z.string().regex(/^[A-Z_]{1,64}$/);
/** Services that hold a subject's personal data and confirm blocking and erasure with receipts. */
export const PD_HOLDERS = ['subjects', 'appeals', 'consents'] as const;
export type PdHolder = (typeof PD_HOLDERS)[number];
const holder = z.enum(PD_HOLDERS);
const blockVersion = z.number().int().positive().max(2_147_483_647);
/**
 * Every durable consumer of the event stream, by the service that owns it (`<service>-<purpose>`).
 * NATS lets each service's user fetch from, acknowledge on and create only its own durables (the
 * consumer's name is in every JetStream API subject: scripts/dev-nats.ts, operations.md), so a
 * service whose consumer is not listed here cannot consume at all: `startService` refuses to start
 * it. Adding a consumer? This is the place; docs/events.md describes each.
 */
export const DURABLE_CONSUMERS = {
  subjects: ['subjects-intake', 'subjects-receipts', 'subjects-erasure', 'subjects-purposes', 'subjects-consents', 'subjects-partners'],
  appeals: ['appeals-subject-link', 'appeals-lifecycle', 'appeals-consents'],
  consents: ['consents-intake', 'consents-lifecycle', 'consents-registrations', 'consents-receipts'],
  audit: ['audit-recorder'],
  gateway: [],
} as const satisfies Record<ServiceName, readonly string[]>;

export function isDurableOf(service: ServiceName, name: string): boolean {
  return (DURABLE_CONSUMERS[service] as readonly string[]).includes(name);
}

/** Why a consumer refused an event (`event.rejected`); see docs/events.md, "Signatures". */
export const REJECTION_REASONS = ['MALFORMED', 'WRONG_SUBJECT', 'WRONG_SOURCE', 'RECEIPT_MISMATCH', 'UNSIGNED', 'UNKNOWN_SIGNER', 'BAD_SIGNATURE'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];
/**
 * Why an attempt was denied (`access.denied`, `request.refused`): the caller's role (ROLE), a blocked
 * subject (BLOCKED), a partner outside its appeals (SCOPE), a category outside the role's purpose
 * (PURPOSE), an account with no grant in the access registry (NO_GRANT), a suspended creditor's
 * partner (CREDITOR_SUSPENDED), a DPO changing its own grant (OWN_GRANT), someone moving an incident
 * about their own actions (OWN_INCIDENT).
 */
export const DENIAL_REASONS = ['ROLE', 'BLOCKED', 'SCOPE', 'PURPOSE', 'NO_GRANT', 'CREDITOR_SUSPENDED', 'OWN_GRANT', 'OWN_INCIDENT'] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];

/**
 * A reference to personal data handed to one holder outside the event stream (`handoff.ts`): the
 * sealed hand-off is on `<prefix>.handoff.<to>.<id>`, and `sha256` (hex, over the compact JWE)
 * binds it to the event. Neither the digest of random ciphertext nor the ids are personal data.
 */
function handoff<To extends z.ZodType<PdHolder>>(to: To) {
  return z.object({ to, id: uuid, sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 digest (hex)') });
}
export const handoffRefSchema = handoff(holder);
export type HandoffRef = z.infer<typeof handoffRefSchema>;

/** Who acted for whom and why, on reads and refusals: the partner's creditor and the declared purpose. */
const accessContext = {
  purpose: z
    .string()
    .regex(/^[A-Z_]{1,64}$/)
    .optional(),
  creditorId: z.string().max(200).nullable().optional(),
};

/** A digest that binds staff text kept in a service (a reason) without copying it into the stream. */
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 digest (hex)');
/** Roles an account can be granted (PUBLIC is what a request without a token is, never a grant). */
const ACCOUNT_ROLES = ['OPERATOR', 'DPO', 'CHAIRMAN', 'HR', 'CONTRACTS', 'AUDITOR', 'PARTNER', 'OPS'] as const;

/** A count of audit entries or an incident's number (a positive 64-bit integer as text). */
const seqText = z.string().regex(/^[1-9]\d{0,18}$/);

function event<D extends z.ZodType>(source: ServiceName | 'any', operation: OperationKind, data: D, version = 1) {
  return { source, operation, data, version } as const;
}

export const EVENT_CATALOG = {
  'appeal.submitted': event(
    'appeals',
    'COLLECT',
    z.object({
      appealId: uuid,
      reference: z.string(),
      kind: appealKind,
      channel: z.string(),
      locale,
      /** `{ iin }` handed off to subjects (id = appealId). */
      identity: handoff(z.literal('subjects')),
      consent: z.object({
        templateCode: z.string(),
        givenAt: z.iso.datetime(),
        /** `{ ip, userAgent }` handed off to consents (id = appealId). */
        evidence: handoff(z.literal('consents')),
        /** The PRIVACY_POLICY version the web form showed when the box was ticked (5.3); absent: the one in force. */
        policyVersion: z.number().int().min(1).nullish(),
        /** The day a paper Annex 2 was signed (YYYY-MM-DD): it picks the version signed; absent for a web form. */
        signedOn: z.iso.date().nullish(),
      }),
    }),
    2,
  ),
  'subject.registered': event(
    'subjects',
    'COLLECT',
    z.object({
      subjectId: uuid,
      category: z.string(),
      source: z.string(),
      purposes: z.array(z.string()),
    }),
  ),
  'subject.appeal_linked': event(
    'subjects',
    'STORE',
    z.object({
      subjectId: uuid,
      appealId: uuid,
      newSubject: z.boolean(),
    }),
  ),
  'consent.recorded': event(
    'consents',
    'COLLECT',
    z.object({
      consentId: uuid,
      templateCode: z.string(),
      templateVersion: z.number().int(),
      locale,
      channel: z.string(),
      appealId: uuid.nullable(),
      /** Whether the template allows transfer to third parties (creditors): forwarding checks it. */
      thirdPartyTransfer: z.boolean().optional(),
      /** The purpose (3.2) the consent serves: APPEAL_HANDLING, LABOUR_RELATIONS, CONTRACT_PERFORMANCE; null for publication. */
      purpose: purposeCode.nullable().optional(),
      /** False for a recorded refusal (publication, 6.1.6); a consent otherwise. */
      granted: z.boolean().optional(),
    }),
  ),
  /** A consent withdrawn (6.1.5): every service stops the processing it covered (no forwarding, no partner view). */
  'consent.withdrawn': event(
    'consents',
    'MODIFY',
    z.object({
      consentId: uuid,
      templateCode: z.string(),
      /** The purpose it served and what for (the appeal, employment or contract id): subjects marks it achieved. */
      purpose: z.object({ code: purposeCode, reference: uuid }).nullable().optional(),
    }),
  ),
  /** A holder's receipt: it stopped the processing the withdrawn consent covered. */
  'consent.withdrawal_applied': event('any', 'MODIFY', z.object({ consentId: uuid, service: holder })),
  'consent.subject_linked': event('consents', 'STORE', z.object({ consentId: uuid, appealId: uuid })),
  /** HR registered an employee or candidate with the signed Annex 1 (3.1.1, 5.1); consents records the consent. */
  'employee.registered': event(
    'subjects',
    'COLLECT',
    z.object({
      subjectId: uuid,
      employmentId: uuid,
      consentId: uuid,
      locale,
      signedAt: z.iso.date(),
      /** `{ document }`, the signed Annex 1's reference, handed off to consents (id = employmentId). */
      evidence: handoff(z.literal('consents')),
    }),
  ),
  /** HR: the employment ended, its purpose (LABOUR_RELATIONS) is achieved. */
  'employment.ended': event('subjects', 'MODIFY', z.object({ subjectId: uuid, employmentId: uuid, endedOn: z.iso.date() })),
  /** CONTRACTS: the contract ended, its purpose (CONTRACT_PERFORMANCE) is achieved. */
  'contract.ended': event('subjects', 'MODIFY', z.object({ subjectId: uuid, contractId: uuid, endedOn: z.iso.date() })),
  /** CONTRACTS registered a counterparty with the contract (3.1.2, 5.2); consents records the consent and its obligations. */
  'counterparty.registered': event(
    'subjects',
    'COLLECT',
    z.object({
      subjectId: uuid,
      contractId: uuid,
      consentId: uuid,
      consentForm: z.enum(['CONTRACT_CLAUSE', 'SEPARATE_DOCUMENT']),
      locale,
      contractDate: z.iso.date(),
      /** The day a separate written consent (SEPARATE_DOCUMENT) was signed; absent for a contract clause. */
      consentDate: z.iso.date().nullish(),
      /** Ids and due dates only: the descriptions travel in the hand-off. */
      obligations: z.array(z.object({ id: uuid, dueDate: z.iso.date() })).max(50),
      /** `{ document, obligations: [{ id, description }] }` handed off to consents (id = contractId). */
      evidence: handoff(z.literal('consents')),
    }),
  ),
  /** A new version of a consent text (8.3), in force from `effectiveFrom`; no personal data. */
  'consent.template_published': event(
    'consents',
    'STORE',
    z.object({
      code: z.string().max(64),
      version: z.number().int().min(1),
      locale,
      effectiveFrom: z.iso.datetime(),
      /** The Chairman's order that approved the version (8.3): its number and date. */
      approvalOrder: z.object({ number: z.string().max(50), date: z.iso.date() }).optional(),
      /** True once the version exists in both languages: only then is it in force. */
      bothLanguages: z.boolean().optional(),
    }),
  ),
  /** An obligation that forbade withdrawing its consent (5.2) is fulfilled; none open means the contract is performed. */
  'obligation.fulfilled': event('consents', 'MODIFY', z.object({ obligationId: uuid, consentId: uuid, openObligations: z.number().int().min(0) })),
  'pd.accessed': event(
    'any',
    'ACCESS',
    z.object({
      resource: z.string(),
      resourceIds: z.array(z.string()).max(1000),
      fields: z.array(z.string()),
      operation: z.enum(OPERATION_KINDS),
      ...accessContext,
    }),
  ),
  'access.denied': event(
    'any',
    'DENIED',
    z.object({
      operation: z.string(),
      reason: z.enum(DENIAL_REASONS),
      ...accessContext,
    }),
  ),
  // `version`: the subject's blocks and unblocks numbered by subjects, so that a holder applies only
  // a newer one (see setBlocked); absent from the events written before 2026-12-05.
  'subject.blocked': event('subjects', 'BLOCK', z.object({ subjectId: uuid, version: blockVersion.optional() })),
  'subject.unblocked': event('subjects', 'UNBLOCK', z.object({ subjectId: uuid, version: blockVersion.optional() })),
  'subject.block_applied': event('any', 'BLOCK', z.object({ subjectId: uuid, blocked: z.boolean(), service: holder, version: blockVersion.optional() })),
  'erasure.proposed': event('subjects', 'STORE', z.object({ actId: uuid, method: erasureMethod, automatic: z.boolean() })),
  'erasure.approved': event('subjects', 'STORE', z.object({ actId: uuid, method: erasureMethod, services: z.array(holder) })),
  'erasure.rejected': event('subjects', 'STORE', z.object({ actId: uuid })),
  'erasure.receipt': event('any', 'DESTROY', z.object({ actId: uuid, method: erasureMethod, service: holder })),
  'erasure.completed': event('subjects', 'DESTROY', z.object({ actId: uuid, method: erasureMethod })),
  'rectification.approved': event(
    'subjects',
    'MODIFY',
    z.object({
      requestId: uuid,
      field: z.string(),
      service: holder,
      /** `{ value }` handed off to the holder of the field (id = requestId). */
      value: handoffRefSchema,
    }),
    2,
  ),
  'rectification.applied': event('any', 'MODIFY', z.object({ requestId: uuid, field: z.string(), service: holder })),
  /** A documented request to correct a field (6.1.2): the new value is collected, kept encrypted in subjects. */
  'rectification.requested': event('subjects', 'COLLECT', z.object({ requestId: uuid, field: z.string(), deadline: z.iso.date() })),
  'rectification.rejected': event('subjects', 'STORE', z.object({ requestId: uuid, field: z.string() })),
  'appeal.status_changed': event('appeals', 'MODIFY', z.object({ appealId: uuid, from: z.string(), to: z.string() })),
  'appeal.assigned': event('appeals', 'MODIFY', z.object({ appealId: uuid, assignee: z.string().regex(STAFF_ID) })),
  /** The Chamber's answer was written (the text itself stays encrypted in appeals). */
  'appeal.answered': event('appeals', 'STORE', z.object({ appealId: uuid })),
  /** A TRANSFER (2.2, 4.2): which fields of the appeal went to which creditor; never the values. */
  'appeal.forwarded': event(
    'appeals',
    'TRANSFER',
    z.object({
      appealId: uuid,
      creditorId: uuid,
      fields: z
        .array(z.enum(['IIN', 'PHONE', 'EMAIL', 'DESCRIPTION']))
        .min(1)
        .max(4),
    }),
  ),
  'appeal.partner_responded': event('appeals', 'COLLECT', z.object({ appealId: uuid, creditorId: uuid })),
  'creditor.registered': event('appeals', 'STORE', z.object({ creditorId: uuid, country: z.string().length(2) })),
  /**
   * The access registry (Law Art. 25(3)): who may do what. Account ids and roles are facts the audit
   * keeps; the grant's reason is staff text kept in appeals and bound here by its digest (the
   * display name, a person's name, never travels).
   */
  'access.granted': event(
    'appeals',
    'STORE',
    z.object({
      grantId: uuid,
      account: z.string().regex(STAFF_ID),
      roles: z.array(z.enum(ACCOUNT_ROLES)).min(1).max(8),
      creditorId: uuid.nullable(),
      /** The grant this one replaced (a change of roles is a new grant), if any. */
      replaces: uuid.nullable(),
      reasonSha256: sha256Hex,
    }),
  ),
  'access.revoked': event('appeals', 'MODIFY', z.object({ grantId: uuid, account: z.string().regex(STAFF_ID), reasonSha256: sha256Hex })),
  /** A creditor's suspension: its partner accounts can do nothing but `me` until it is resumed. */
  'creditor.suspended': event('appeals', 'MODIFY', z.object({ creditorId: uuid, suspensionId: uuid, reasonSha256: sha256Hex })),
  'creditor.resumed': event('appeals', 'MODIFY', z.object({ creditorId: uuid, suspensionId: uuid, reasonSha256: sha256Hex })),
  /**
   * A consumer refused a message that its owner did not produce unaltered (see signing.ts). Only
   * facts the verifier checked or chose: never the payload, never a claimed string that is not a
   * known type, service or uuid (a forger could put personal data there).
   */
  'event.rejected': event(
    'any',
    'DENIED',
    z.object({
      consumer: z.string().max(100),
      eventId: uuid.nullable(),
      type: z.string().max(100).nullable(),
      claimedSource: z.enum(SERVICES).nullable(),
      reason: z.enum(REJECTION_REASONS),
    }),
  ),
  /**
   * A request the gateway refused before any subgraph saw it (no or a bad token, a rate limit, a
   * query limit, an invalid query). Never the token, the query text or the address: `client` is a
   * keyed hash of the address (so repeated refusals of one client can be told apart), `fields` the
   * operation's root fields when the query could be read. `count` > 1 summarises refusals the
   * gateway could not send one by one (docs/security.md, "The audit log").
   */
  'request.refused': event(
    'gateway',
    'DENIED',
    z.object({
      codes: z
        .array(z.string().regex(/^[A-Z_]{2,40}$/))
        .min(1)
        .max(10),
      fields: z.array(z.string().regex(/^[_A-Za-z][_0-9A-Za-z]{0,63}$/)).max(20),
      status: z.number().int().min(400).max(599),
      client: z
        .string()
        .regex(/^[0-9a-f]{32}$/)
        .nullable(),
      count: z.number().int().min(1),
      /** Why: a token's problem (`EXPIRED`, `ISSUER`…) or a denial's reason (`NO_GRANT`…), when known. */
      reason: z
        .string()
        .regex(/^[A-Z_]{2,40}$/)
        .optional(),
      ...accessContext,
    }),
  ),
  /** A detection rule raised an incident (7.2.2); its evidence are audit entries (seqs). */
  'incident.raised': event(
    'audit',
    'STORE',
    z.object({
      incidentId: seqText,
      rule: z.string().regex(/^[A-Z_]{1,64}$/),
      notifyBy: z.iso.date(),
      evidence: z.array(seqText).max(100),
    }),
  ),
  /** An incident moved on its lifecycle; a report's reference is bound by its digest, not copied. */
  'incident.status_changed': event(
    'audit',
    'STORE',
    z.object({
      incidentId: seqText,
      from: z.enum(['OPEN', 'ACKNOWLEDGED', 'REPORTED', 'CLOSED']),
      to: z.enum(['OPEN', 'ACKNOWLEDGED', 'REPORTED', 'CLOSED']),
      referenceSha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .nullable(),
    }),
  ),
  /**
   * The audit signed a head of its chain (a checkpoint: docs/security.md, "The audit log") and
   * publishes it here too, outside its database, as a witness: a rewrite of the audit's database
   * alone contradicts the newest one. Hashes and a signature, no personal data. The audit does not
   * chain these into its own log.
   */
  'audit.checkpointed': event(
    'audit',
    'STORE',
    z.object({
      origin: z.string().regex(/^[\w.:/-]{1,100}$/),
      seq: seqText,
      hash: z.string().regex(/^[0-9a-f]{64}$/),
      signedAt: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      keyId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
      signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'an Ed25519 signature, base64'),
    }),
  ),
  /**
   * Ops replayed a parked event (`replayParkedEvent`): the service that had parked it judged and
   * applied it again, with this outcome. Never the payload: ids, the consumer, a catalog type.
   */
  'event.replayed': event(
    'any',
    'MODIFY',
    z.object({
      consumer: z.string().max(100),
      parkedId: z.string().regex(/^[1-9]\d{0,18}$/),
      eventId: uuid.nullable(),
      type: z.string().max(100).nullable(),
      outcome: z.enum(['APPLIED', 'DUPLICATE', 'FAILED', 'REJECTED']),
    }),
  ),
} as const;

/**
 * Receipts a holder sends about itself: `data.service` names the holder and must be the signed
 * `source`, or one holder could confirm an erasure for another.
 */
export const HOLDER_RECEIPTS = [
  'subject.block_applied',
  'erasure.receipt',
  'rectification.applied',
  'consent.withdrawal_applied',
] as const satisfies readonly (keyof typeof EVENT_CATALOG)[];

export type EventType = keyof typeof EVENT_CATALOG;
export type EventData<T extends EventType> = z.infer<(typeof EVENT_CATALOG)[T]['data']>;

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_CATALOG, type);
}
