import type { Deps } from '../config';
import type { CounterpartyContractResolvers, EmploymentResolvers } from '../generated/graphql';
import type { ConsentForm } from '../domain/registration';

type Locale = 'KK' | 'RU';

/** Employments and contracts: names, positions and numbers decrypted only when a field asks (the read was recorded by `Subject`). */
export function registrationResolvers(deps: Deps): { Employment: EmploymentResolvers; CounterpartyContract: CounterpartyContractResolvers } {
  const employment = (e: { id: string }, column: 'full_name_enc' | 'position_enc', value: string | null) =>
    value ? deps.cipher.decrypt(value, { table: 'employments', column, id: e.id }) : null;
  const contract = (c: { id: string }, column: 'full_name_enc' | 'contract_number_enc', value: string | null) =>
    value ? deps.cipher.decrypt(value, { table: 'contracts', column, id: c.id }) : null;
  return {
    Employment: {
      fullName: (e) => employment(e, 'full_name_enc', e.full_name_enc),
      position: (e) => employment(e, 'position_enc', e.position_enc),
      signedAt: (e) => e.signed_at,
      locale: (e) => e.locale as Locale,
      endedOn: (e) => e.ended_on,
      registeredBy: (e) => e.registered_by,
      consent: (e) => ({ id: e.consent_id }),
    },
    CounterpartyContract: {
      fullName: (c) => contract(c, 'full_name_enc', c.full_name_enc),
      contractNumber: (c) => contract(c, 'contract_number_enc', c.contract_number_enc),
      contractDate: (c) => c.contract_date,
      consentForm: (c) => c.consent_form as ConsentForm,
      consentDate: (c) => c.consent_date,
      endedOn: (c) => c.ended_on,
      locale: (c) => c.locale as Locale,
      registeredBy: (c) => c.registered_by,
      consent: (c) => ({ id: c.consent_id }),
    },
  };
}
