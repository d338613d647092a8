import { GraphQLError } from 'graphql';
import { t, type Locale, type MessageKey } from './i18n';

/**
 * Client-facing errors, each with a stable `extensions.code`. Messages come from the i18n table and
 * never contain the caller's input: an error must not echo personal data.
 */
export class BadUserInputError extends GraphQLError {
  constructor(field: string, key: MessageKey, locale: Locale) {
    super(t(key, locale), { extensions: { code: 'BAD_USER_INPUT', field, messageKey: key } });
  }
}

export class UnauthenticatedError extends GraphQLError {
  constructor(locale: Locale, key: MessageKey = 'auth.unauthenticated') {
    super(t(key, locale), { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
}

export class ForbiddenError extends GraphQLError {
  constructor(locale: Locale) {
    super(t('auth.forbidden', locale), { extensions: { code: 'FORBIDDEN' } });
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

export class ConflictError extends GraphQLError {
  constructor(locale: Locale, reason: string) {
    super(t('state.conflict', locale), { extensions: { code: 'CONFLICT', reason } });
  }
}
