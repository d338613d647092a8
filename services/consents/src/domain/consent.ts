import { GraphQLError } from 'graphql';
import { t, type Locale as SharedLocale } from '@pdp/shared';

export type Locale = SharedLocale;

/** A consent as resolvers see it; evidence stays encrypted until a staff field asks. */
export interface ConsentRecord {
  id: string;
  subjectId: string | null;
  templateCode: string;
  templateVersion: number;
  locale: Locale;
  channel: string;
  givenAt: string;
  withdrawnAt: string | null;
  withdrawnBy: string | null;
  withdrawalReasonEnc: string | null;
  appealId: string | null;
  ipEnc: string | null;
  userAgentEnc: string | null;
  documentEnc: string | null;
  enteredBy: string | null;
  /** The subject categories it concerns: a role reads it only if its purpose covers one (4.3–4.4). */
  categories: string[];
  purposeCode: string | null;
  purposeReference: string | null;
  /** False for a recorded refusal (publication, 6.1.6). */
  granted: boolean;
}

export interface SubjectRef {
  id: string;
}

/** The access report as another subgraph hands it over: only its key. */
export interface AccessReportRef {
  subjectId: string;
}

export function consentStatus(c: { withdrawnAt: string | null }): 'ACTIVE' | 'WITHDRAWN' {
  return c.withdrawnAt ? 'WITHDRAWN' : 'ACTIVE';
}

/** Template codes (Contract, continued): the regulation's annexes and the texts added with them. */
export const TEMPLATE_CODES = ['ANNEX1_EMPLOYEE', 'ANNEX2_APPLICANT', 'PRIVACY_POLICY', 'COUNTERPARTY_CONTRACT', 'PUBLICATION'] as const;
export type TemplateCode = (typeof TEMPLATE_CODES)[number];

/** Purposes of clause 3.2, as subjects declares them. */
export const PURPOSES = { APPEAL_HANDLING: 'APPEAL_HANDLING', LABOUR_RELATIONS: 'LABOUR_RELATIONS', CONTRACT_PERFORMANCE: 'CONTRACT_PERFORMANCE' } as const;

export interface OpenObligation {
  id: string;
  dueDate: string;
}

/**
 * Art. 8(2) and clause 5.2: a consent cannot be withdrawn while an obligation it covers is
 * unfulfilled. The message names the open obligations by their count and due dates, in the caller's
 * language (their wording may hold personal data, so it stays out); `obligationIds` lists them.
 */
export class ConsentWithdrawalForbiddenError extends GraphQLError {
  constructor(locale: Locale, open: OpenObligation[]) {
    const dueDates = open.map((o) => o.dueDate).join(', ');
    super(t('consent.withdrawalForbidden', locale, { count: open.length, dueDates }), {
      extensions: { code: 'CONSENT_WITHDRAWAL_FORBIDDEN', obligationIds: open.map((o) => o.id), messageKey: 'consent.withdrawalForbidden' },
    });
  }
}

/**
 * Art. 8(2) and clause 6.1.5: an employee's consent to the processing of their data (Annex 1) cannot
 * be withdrawn while the employment lasts — labour law requires that processing. `reason: "LAW"`;
 * allowed once HR ended the employment (`endEmployment`).
 */
export class EmploymentConsentForbiddenError extends GraphQLError {
  constructor(locale: Locale) {
    super(t('consent.withdrawalForbiddenEmployment', locale), {
      extensions: { code: 'CONSENT_WITHDRAWAL_FORBIDDEN', reason: 'LAW', messageKey: 'consent.withdrawalForbiddenEmployment' },
    });
  }
}
