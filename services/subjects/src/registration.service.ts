import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  coversCategories,
  enqueueEvents,
  enqueueHandoffs,
  eventHeader,
  ForbiddenError,
  kazakhstanMidnight,
  NotFoundError,
  parseInput,
  sealHandoff,
  SubjectBlockedError,
  type RequestScope,
} from '@pdp/shared';
import type { Transaction } from 'kysely';
import type { Deps } from './config';
import * as repo from './db/registration.repository';
import { achievePurpose, findOrRegisterSubject, loadSubjects, lockSubject } from './db/subjects.repository';
import type { Database } from './db/tables';
import { iinBlindIndex } from './domain/identity';
import { REGISTRATION_SOURCES, counterpartyInput, employeeInput, endEmploymentInput } from './domain/registration';
import { PURPOSES, type Category } from './domain/subject';

/**
 * Employees (3.1.1, 5.1) and counterparties (3.1.2, 5.2), registered by HR and CONTRACTS. subjects
 * owns the registry: it finds the person by the IIN's blind index or registers them, adds the
 * category, source and purpose, and keeps name, position and contract number encrypted. The consent
 * itself is recorded by consents: the signed document's reference (and a contract's obligations)
 * are handed off sealed to consents, outside the event stream, in the same transaction as the event
 * that refers to them. The consent appears there within moments, as an intake consent does.
 */

interface Enrolment {
  iin: string;
  category: Category;
  /** The employment or contract id: the reference of the source, the purpose and the hand-off. */
  id: string;
  purpose: string;
  source: string;
}

/** Finds or registers the person, refusing a blocked one (no change while processing is stopped, 6.1.3). */
async function enrol(deps: Deps, trx: Transaction<Database>, scope: RequestScope, e: Enrolment): Promise<{ id: string; created: boolean }> {
  const id = randomUUID();
  const found = await findOrRegisterSubject(trx, {
    id,
    iinBidx: iinBlindIndex(deps.config.blindIndexKey, e.iin),
    iinEncrypted: deps.cipher.encrypt(e.iin, { table: 'subjects', column: 'iin_enc', id }),
    category: e.category,
    source: { code: e.source, reference: e.id },
    purpose: { code: e.purpose, reference: e.id },
  });
  const locked = await lockSubject(trx, found.id);
  if (locked?.status === 'BLOCKED') throw new SubjectBlockedError(scope.meta.locale);
  return found;
}

function registered(scope: RequestScope, subjectId: string, category: Category, source: string, purpose: string) {
  return { ...eventHeader('subjects', scope, subjectId), type: 'subject.registered' as const, data: { subjectId, category, source, purposes: [purpose] } };
}

/** HR registers a candidate or employee with the signed Annex 1; returns the subject's id. */
export async function registerEmployee(deps: Deps, scope: RequestScope, raw: unknown): Promise<string> {
  const input = parseInput(employeeInput, raw, scope.meta.locale);
  const employmentId = randomUUID();
  const consentId = randomUUID();
  const evidence = await sealHandoff('consents', employmentId, { document: input.consentDocument }, deps.config.extra.consentsSealKey);
  return deps.db.transaction().execute(async (trx) => {
    const { id, created } = await enrol(deps, trx, scope, {
      iin: input.iin,
      category: 'EMPLOYEE',
      id: employmentId,
      purpose: PURPOSES.LABOUR_RELATIONS,
      source: REGISTRATION_SOURCES.HR,
    });
    await repo.insertEmployment(trx, {
      id: employmentId,
      subjectId: id,
      consentId,
      fullNameEnc: deps.cipher.encrypt(input.fullName, { table: 'employments', column: 'full_name_enc', id: employmentId }),
      positionEnc: deps.cipher.encrypt(input.position, { table: 'employments', column: 'position_enc', id: employmentId }),
      signedAt: input.signedAt,
      locale: input.locale,
      registeredBy: scope.actor.id,
    });
    await enqueueHandoffs(trx, deps.prefix, [evidence]);
    await enqueueEvents(trx, deps.prefix, [
      ...(created ? [registered(scope, id, 'EMPLOYEE', REGISTRATION_SOURCES.HR, PURPOSES.LABOUR_RELATIONS)] : []),
      {
        ...eventHeader('subjects', scope, id),
        type: 'employee.registered' as const,
        data: { subjectId: id, employmentId, consentId, locale: input.locale, signedAt: input.signedAt, evidence: evidence.ref },
      },
    ]);
    return id;
  });
}

/**
 * HR: the employment ended (or the candidacy closed). LABOUR_RELATIONS is achieved on that day, so
 * retention proposes the erasure act once the term has passed and nothing else needs the data (4.6).
 */
export async function endEmployment(deps: Deps, scope: RequestScope, subjectId: string, endedOnRaw: string): Promise<void> {
  const { endedOn } = parseInput(endEmploymentInput, { endedOn: endedOnRaw }, scope.meta.locale);
  await deps.db.transaction().execute(async (trx) => {
    const subject = await lockSubject(trx, subjectId);
    if (!subject) throw new NotFoundError(scope.meta.locale, 'Subject');
    const [record] = await loadSubjects(trx, [subjectId]);
    if (!coversCategories(scope.actor.roles, record?.categories ?? [])) {
      await deps.guard.recordDenied(scope, 'Mutation.endEmployment', 'PURPOSE', subjectId);
      throw new ForbiddenError(scope.meta.locale);
    }
    if (subject.status === 'BLOCKED') throw new SubjectBlockedError(scope.meta.locale);
    const ended = await repo.endEmployments(trx, subjectId, endedOn, scope.actor.id);
    if (ended.length === 0) throw new ConflictError(scope.meta.locale, 'NO_ACTIVE_EMPLOYMENT', 'state.employmentEnded');
    for (const employmentId of ended) {
      await achievePurpose(trx, subjectId, PURPOSES.LABOUR_RELATIONS, employmentId, kazakhstanMidnight(endedOn));
    }
    await enqueueEvents(
      trx,
      deps.prefix,
      ended.map((employmentId) => ({
        ...eventHeader('subjects', scope, subjectId),
        type: 'employment.ended' as const,
        data: { subjectId, employmentId, endedOn },
      })),
    );
  });
}

/** CONTRACTS registers a contract's individual with the form of consent and the contract's obligations. */
export async function registerCounterparty(deps: Deps, scope: RequestScope, raw: unknown): Promise<string> {
  const input = parseInput(counterpartyInput, raw, scope.meta.locale);
  const contractId = randomUUID();
  const consentId = randomUUID();
  const obligations = input.obligations.map((o) => ({ id: randomUUID(), ...o }));
  const evidence = await sealHandoff(
    'consents',
    contractId,
    { document: input.contractNumber, obligations: obligations.map(({ id, description }) => ({ id, description })) },
    deps.config.extra.consentsSealKey,
  );
  return deps.db.transaction().execute(async (trx) => {
    const { id, created } = await enrol(deps, trx, scope, {
      iin: input.iin,
      category: 'COUNTERPARTY',
      id: contractId,
      purpose: PURPOSES.CONTRACT_PERFORMANCE,
      source: REGISTRATION_SOURCES.CONTRACTS,
    });
    await repo.insertContract(trx, {
      id: contractId,
      subjectId: id,
      consentId,
      fullNameEnc: deps.cipher.encrypt(input.fullName, { table: 'contracts', column: 'full_name_enc', id: contractId }),
      contractNumberEnc: deps.cipher.encrypt(input.contractNumber, { table: 'contracts', column: 'contract_number_enc', id: contractId }),
      contractDate: input.contractDate,
      consentForm: input.consentForm,
      locale: input.locale,
      registeredBy: scope.actor.id,
    });
    await enqueueHandoffs(trx, deps.prefix, [evidence]);
    await enqueueEvents(trx, deps.prefix, [
      ...(created ? [registered(scope, id, 'COUNTERPARTY', REGISTRATION_SOURCES.CONTRACTS, PURPOSES.CONTRACT_PERFORMANCE)] : []),
      {
        ...eventHeader('subjects', scope, id),
        type: 'counterparty.registered' as const,
        data: {
          subjectId: id,
          contractId,
          consentId,
          consentForm: input.consentForm,
          locale: input.locale,
          contractDate: input.contractDate,
          obligations: obligations.map(({ id: obligationId, dueDate }) => ({ id: obligationId, dueDate })),
          evidence: evidence.ref,
        },
      },
    ]);
    return id;
  });
}
