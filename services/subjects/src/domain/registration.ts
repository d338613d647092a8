import { iinSchema, isoDateSchema, pastDateSchema, textSchema, type MessageKey } from '@pdp/shared';
import { z } from 'zod';

/**
 * Employees and counterparties as HR and CONTRACTS enter them (3.1.1, 3.1.2): every field checked at
 * once, each problem an i18n key. Names, positions, contract numbers, document references and the
 * obligations' wording are personal data: they are stored encrypted and never put in an event.
 */
const locale = z.enum(['KK', 'RU']);

export const employeeInput = z.object({
  iin: iinSchema,
  fullName: textSchema(3, 300),
  position: textSchema(2, 300),
  /** The signed Annex 1's reference (number, date): the consent's evidence. */
  consentDocument: textSchema(3, 200),
  /** The day the Annex 1 was signed: it picks the template version the person signed. */
  signedAt: pastDateSchema,
  locale,
});
export type EmployeeInput = z.output<typeof employeeInput>;

export const CONSENT_FORMS = ['CONTRACT_CLAUSE', 'SEPARATE_DOCUMENT'] as const;
export type ConsentForm = (typeof CONSENT_FORMS)[number];

/** At most this many obligations per contract (each one can forbid withdrawing the consent, 5.2). */
export const MAX_OBLIGATIONS = 50;

export const obligationInput = z.object({
  description: textSchema(3, 1000),
  dueDate: isoDateSchema,
});

/**
 * A counterparty's consent is a clause of the contract (its evidence is the contract: number and
 * date) or a separate written consent (5.2), which keeps its own document and the day it was signed:
 * both required for SEPARATE_DOCUMENT, refused for CONTRACT_CLAUSE (they would say nothing true).
 */
export const counterpartyInput = z
  .object({
    iin: iinSchema,
    fullName: textSchema(3, 300),
    contractNumber: textSchema(1, 100),
    contractDate: pastDateSchema,
    consentForm: z.enum(CONSENT_FORMS),
    consentDocument: textSchema(3, 200).nullish(),
    consentDate: pastDateSchema.nullish(),
    obligations: z.array(obligationInput).max(MAX_OBLIGATIONS, { message: 'list.tooLong' }),
    locale,
  })
  .superRefine((v, ctx) => {
    const separate = v.consentForm === 'SEPARATE_DOCUMENT';
    for (const field of ['consentDocument', 'consentDate'] as const) {
      if (separate && !v[field]) ctx.addIssue({ code: 'custom', path: [field], message: 'text.required' satisfies MessageKey });
      if (!separate && v[field]) ctx.addIssue({ code: 'custom', path: [field], message: 'consent.onlySeparate' satisfies MessageKey });
    }
  });
export type CounterpartyInput = z.output<typeof counterpartyInput>;

export const endEmploymentInput = z.object({ endedOn: pastDateSchema });
export const endContractInput = z.object({ endedOn: pastDateSchema });

/** Where the data came from (3.1.3 keeps a source per datum): HR's or the contracts office's paper. */
export const REGISTRATION_SOURCES = { HR: 'HR', CONTRACTS: 'CONTRACTS' } as const;
