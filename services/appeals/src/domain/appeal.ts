import { emailSchema, iinSchema, phoneSchema, textSchema, type MessageKey } from '@pdp/shared';
import { z } from 'zod';

export const APPEAL_KINDS = ['APPEAL', 'COMPLAINT', 'SCHEDULE_REQUEST'] as const;
export type AppealKind = (typeof APPEAL_KINDS)[number];
export type AppealStatus = 'NEW' | 'IN_PROGRESS' | 'FORWARDED' | 'ANSWERED' | 'CLOSED';
export type Locale = 'KK' | 'RU';

/** Each kind comes from its own form (Annexes 3–5) on its own site. */
export const FORMS: Record<AppealKind, { channel: string; referencePrefix: string }> = {
  APPEAL: { channel: 'collectors.kz/appeal', referencePrefix: 'APL' },
  COMPLAINT: { channel: 'stop-collector.kz/complaint', referencePrefix: 'CMP' },
  SCHEDULE_REQUEST: { channel: 'stop-collector.kz/schedule', referencePrefix: 'SCH' },
};

/** The consent the form's box gives (Annex 2: the applicant's consent, with the privacy policy). */
export const INTAKE_CONSENT_TEMPLATE = 'ANNEX2_APPLICANT';

export const DESCRIPTION_MIN = 10;
export const DESCRIPTION_MAX = 5000;

/** The public form, validated in the order a person reads it. */
export const submitAppealSchema = z.object({
  kind: z.enum(APPEAL_KINDS),
  iin: iinSchema,
  phone: phoneSchema,
  email: emailSchema,
  description: textSchema(DESCRIPTION_MIN, DESCRIPTION_MAX),
  privacyPolicyAccepted: z.literal(true, { message: 'privacy.notAccepted' satisfies MessageKey }),
  /** The PRIVACY_POLICY version the form showed (5.3): stored with the consent. */
  policyVersion: z.number().int().min(1).max(100_000).nullish(),
  locale: z.enum(['KK', 'RU']).nullish(),
});
export type SubmitAppeal = z.output<typeof submitAppealSchema>;

/**
 * The day a paper was signed: a real YYYY-MM-DD day, not after today in Kazakhstan (UTC+5). The same
 * rule as `pastDateSchema`, restated here because the public forms' browser bundle imports this file
 * and may take only the browser-safe part of @pdp/shared.
 */
const signedOnSchema = z
  .string()
  .trim()
  .refine(
    (v) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
      const d = new Date(`${v}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v && v >= '1900-01-01';
    },
    { message: 'date.invalid' satisfies MessageKey, abort: true },
  )
  .refine((v) => v <= new Date(Date.now() + 5 * 3600_000).toISOString().slice(0, 10), { message: 'date.future' satisfies MessageKey });

/** Appeals that reach the Chamber on paper or in person; an operator types them in. */
export const PAPER_CHANNELS = ['PAPER', 'IN_PERSON'] as const;
export type PaperChannel = (typeof PAPER_CHANNELS)[number];

/**
 * A paper or in-person appeal as the operator enters it: the signed Annex 2's reference is the
 * consent's evidence (never an IP); phone and e-mail are optional, a letter may have neither.
 */
export const registerAppealSchema = z.object({
  kind: z.enum(APPEAL_KINDS),
  iin: iinSchema,
  phone: phoneSchema.nullish(),
  email: emailSchema.nullish(),
  description: textSchema(DESCRIPTION_MIN, DESCRIPTION_MAX),
  channel: z.enum(PAPER_CHANNELS),
  consentDocument: textSchema(3, 200),
  /** The day the Annex 2 was signed: it picks the version signed, and is kept with the consent. */
  consentSignedOn: signedOnSchema,
  locale: z.enum(['KK', 'RU']),
});
export type RegisterAppeal = z.output<typeof registerAppealSchema>;

/** A note in an appeal's history. */
export const noteSchema = z.object({ note: textSchema(1, 4000) });

export function appealReference(kind: AppealKind, year: number, seq: number): string {
  return `${FORMS[kind].referencePrefix}-${year}-${String(seq).padStart(6, '0')}`;
}

/** An appeal as resolvers see it; contact fields stay encrypted until a staff field asks. */
export interface AppealRecord {
  id: string;
  reference: string | null;
  kind: AppealKind;
  status: AppealStatus;
  locale: Locale;
  subjectId: string | null;
  deadline: string;
  submittedAt: string;
  phoneEnc: string | null;
  emailEnc: string | null;
  descriptionEnc: string | null;
  /** Where it came from: a web form's address, PAPER or IN_PERSON. */
  channel: string;
  /** The staff member who entered a paper or in-person appeal. */
  enteredBy: string | null;
  assignee: string | null;
  answerEnc: string | null;
  forwardedTo: string | null;
  forwardedFields: ForwardedField[];
  forwardedAt: string | null;
  partnerResponseEnc: string | null;
  /** Sort key of the worklist (with the id): the exact timestamp text, for cursors. */
  submittedAtKey: string;
}

/** A page of a list: its records, their cursors, and the total when it was asked for. */
export interface Page<T> {
  nodes: T[];
  cursors: string[];
  hasNextPage: boolean;
  totalCount: number | null;
}
export type AppealPage = Page<AppealRecord>;

/** What an operator may hand to a creditor, field by field (4.5: no more than the purpose needs). */
export const FORWARDED_FIELDS = ['IIN', 'PHONE', 'EMAIL', 'DESCRIPTION'] as const;
export type ForwardedField = (typeof FORWARDED_FIELDS)[number];

/** The appeal workflow: each status and where it may go next. */
export const TRANSITIONS: Record<AppealStatus, AppealStatus[]> = {
  NEW: ['IN_PROGRESS', 'CLOSED'],
  IN_PROGRESS: ['FORWARDED', 'ANSWERED', 'CLOSED'],
  FORWARDED: ['IN_PROGRESS', 'ANSWERED'],
  ANSWERED: ['CLOSED', 'IN_PROGRESS'],
  CLOSED: [],
};

/** Status names as a person reads them. */
export const STATUS_NAMES: Record<AppealStatus, Record<Locale, string>> = {
  NEW: { KK: 'жаңа', RU: 'новое' },
  IN_PROGRESS: { KK: 'қаралуда', RU: 'в работе' },
  FORWARDED: { KK: 'кредиторға жіберілді', RU: 'передано кредитору' },
  ANSWERED: { KK: 'жауап берілді', RU: 'дан ответ' },
  CLOSED: { KK: 'жабылды', RU: 'закрыто' },
};

export function canMove(from: AppealStatus, to: AppealStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses in which an appeal still waits for the Chamber's answer, so its deadline matters. */
export const OPEN_STATUSES: AppealStatus[] = ['NEW', 'IN_PROGRESS', 'FORWARDED'];

export interface SubjectRef {
  id: string;
}

/** The access report as another subgraph hands it over: only its key. */
export interface AccessReportRef {
  subjectId: string;
}

/** Personal data an appeal holds (its `contact`), as listed in access records. */
export const APPEAL_PD_FIELDS = ['phone', 'email', 'description'];
