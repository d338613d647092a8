import { iinSchema, isoDateSchema, pastDateSchema, textSchema } from '@pdp/shared';
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

export const counterpartyInput = z.object({
  iin: iinSchema,
  fullName: textSchema(3, 300),
  contractNumber: textSchema(1, 100),
  contractDate: pastDateSchema,
  consentForm: z.enum(CONSENT_FORMS),
  obligations: z.array(obligationInput).max(MAX_OBLIGATIONS, { message: 'list.tooLong' }),
  locale,
});
export type CounterpartyInput = z.output<typeof counterpartyInput>;

export const endEmploymentInput = z.object({ endedOn: pastDateSchema });

/** Where the data came from (3.1.3 keeps a source per datum): HR's or the contracts office's paper. */
export const REGISTRATION_SOURCES = { HR: 'HR', CONTRACTS: 'CONTRACTS' } as const;
