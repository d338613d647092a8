import { GraphQLError } from 'graphql';
import { t, type Locale, type MessageKey } from './i18n';

/**
 * Client-facing errors, each with a stable `extensions.code`. Messages come from the i18n table and
 * never contain the caller's input: an error must not echo personal data.
 */

/**
 * Every `extensions.code` a client may receive, from a subgraph or the gateway: the table of
 * docs/api.md lists exactly these (`packages/shared/test/error-codes.test.ts` checks both ways).
 */
export const ERROR_CODES = [
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'UNAVAILABLE',
  'SUBJECT_BLOCKED',
  'CONSENT_WITHDRAWAL_FORBIDDEN',
  'CONSENT_REQUIRED',
  'TRANSFER_FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'ALIAS_LIMIT',
  'TOKEN_LIMIT',
  'DIRECTIVE_LIMIT',
  'COST_LIMIT',
  'QUERY_TOO_DEEP',
  'INTROSPECTION_DISABLED',
  'RATE_LIMITED',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'METHOD_NOT_ALLOWED',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'INTERNAL_SERVER_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The `extensions.reason` of a CONFLICT: what in the record's state refused the action. */
export const CONFLICT_REASONS = [
  'TRANSITION_NOT_ALLOWED',
  'APPEAL_CLOSED',
  'BIN_TAKEN',
  'CONSENT_NOT_GRANTED',
  'CONSENT_WITHDRAWN',
  'CREDITOR_SUSPENDED',
  'CREDITOR_NOT_SUSPENDED',
  'GRANT_REVOKED',
  'ERASURE_ACT_OPEN',
  'OWN_PROPOSAL',
  'IIN_TAKEN',
  'NO_ACTIVE_EMPLOYMENT',
  'NO_ACTIVE_CONTRACT',
  'TEMPLATE_AWAITING_PAIR',
  'OBLIGATION_FULFILLED',
  'AUDIT_TAMPERED',
  // A subject, an erasure act or a rectification request not in the state the action needs: its state.
  'SUBJECT_ACTIVE',
  'SUBJECT_BLOCKED',
  'SUBJECT_DEPERSONALIZED',
  'SUBJECT_DESTROYED',
  'ACT_APPROVED',
  'ACT_REJECTED',
  'ACT_COMPLETED',
  'REQUEST_APPROVED',
  'REQUEST_REJECTED',
  'REQUEST_APPLIED',
] as const;
export type ConflictReason = (typeof CONFLICT_REASONS)[number];

/** The `extensions.reason` of a FORBIDDEN, when a program should know why (most have none). */
export const FORBIDDEN_REASONS = ['NO_GRANT', 'CREDITOR_SUSPENDED', 'OWN_GRANT', 'OWN_INCIDENT'] as const;
export type ForbiddenReason = (typeof FORBIDDEN_REASONS)[number];
export class BadUserInputError extends GraphQLError {
  constructor(field: string, key: MessageKey, locale: Locale, params?: Record<string, string | number>) {
    super(t(key, locale, params), { extensions: { code: 'BAD_USER_INPUT', field, messageKey: key } });
  }

  /**
   * Several bad fields at once: a resolver can throw one error only, so the first carries the others
   * in `extensions.also`, and the subgraph's response plugin (`expandErrors`) turns them into one
   * error per field before the response leaves the service.
   */
  static many(errors: BadUserInputError[]): BadUserInputError {
    const [first, ...rest] = errors;
    if (!first) throw new Error('BadUserInputError.many needs at least one error');
    if (rest.length > 0) {
      (first.extensions as Record<string, unknown>).also = rest.map((e) => ({ message: e.message, extensions: { ...e.extensions } }));
    }
    return first;
  }
}

export class UnauthenticatedError extends GraphQLError {
  constructor(locale: Locale, key: MessageKey = 'auth.unauthenticated') {
    super(t(key, locale), { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
}

/**
 * An operation that needs a token, called without one (the anonymous PUBLIC actor): UNAUTHENTICATED,
 * as the contract says, in the response of a request that was otherwise well formed (no HTTP status
 * of its own, unlike a bad token refused by the gateway with 401).
 */
export class TokenRequiredError extends GraphQLError {
  constructor(locale: Locale) {
    super(t('auth.unauthenticated', locale), { extensions: { code: 'UNAUTHENTICATED' } });
  }
}

/** Not allowed for this caller; `reason` (NO_GRANT, OWN_GRANT…) when a program should know why. */
export class ForbiddenError extends GraphQLError {
  constructor(locale: Locale, reason?: ForbiddenReason, key: MessageKey = 'auth.forbidden') {
    super(t(key, locale), { extensions: { code: 'FORBIDDEN', ...(reason ? { reason } : {}) } });
  }
}

export class NotFoundError extends GraphQLError {
  constructor(locale: Locale, resource: string) {
    super(t('notFound', locale), { extensions: { code: 'NOT_FOUND', resource } });
  }
}

export class SubjectBlockedError extends GraphQLError {
  constructor(locale: Locale) {
    super(t('subject.blocked', locale), { extensions: { code: 'SUBJECT_BLOCKED' } });
  }
}

/**
 * An action the current state does not allow. `reason` is a stable code for programs
 * (`CONFLICT_REASONS`); the message says it in the caller's language.
 */
/**
 * A refusal by a rule of the regulation, with its own stable code (`CONSENT_REQUIRED`,
 * `TRANSFER_FORBIDDEN`…) and any facts a program needs in `extensions` (e.g. `reason`).
 */
export class PolicyError extends GraphQLError {
  constructor(code: ErrorCode, key: MessageKey, locale: Locale, extensions: Record<string, unknown> = {}) {
    super(t(key, locale), { extensions: { code, ...extensions } });
  }
}

export class ConflictError extends GraphQLError {
  constructor(locale: Locale, reason: ConflictReason, key: MessageKey = 'state.conflict', params?: Record<string, string | number>) {
    super(t(key, locale, params), { extensions: { code: 'CONFLICT', reason } });
  }
}
