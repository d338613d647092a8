import { useState } from 'preact/hooks';
import { run } from '../api/client';
import {
  EndEmploymentDocument,
  FulfilObligationDocument,
  PersonByIinDocument,
  RegisterCounterpartyDocument,
  RegisterEmployeeDocument,
  type CounterpartyConsentForm,
  type PersonByIinQuery,
} from '../generated/operations';
import { lang, words } from '../i18n';
import type { PageProps } from '../main';
import { ActionForm, Table } from '../ui';

type Person = NonNullable<PersonByIinQuery['subjectByIin']>;
const today = () => new Date(Date.now() + 5 * 3600_000).toISOString().slice(0, 10);

/**
 * HR (3.1.1, 5.1) and CONTRACTS (3.1.2, 5.2): register an employee with the signed Annex 1 or a
 * counterparty with its contract and obligations; find one by IIN (a POST body) to end the
 * employment or mark an obligation fulfilled. Each role sees only its own category.
 */
export function PeoplePage({ me }: PageProps) {
  const w = words();
  const kk = lang() === 'kk';
  const hr = me.roles.includes('HR');
  const contracts = me.roles.includes('CONTRACTS');
  const [person, setPerson] = useState<Person | null>(null);
  const [searched, setSearched] = useState<string | null>(null);
  const find = async (iin: string) => {
    const outcome = await run(PersonByIinDocument, { iin, employments: hr, contracts }, 'query');
    if (outcome.ok) {
      setPerson(outcome.data.subjectByIin);
      setSearched(iin);
    }
    return outcome;
  };
  const locale = kk ? ('KK' as const) : ('RU' as const);
  return (
    <section>
      <h1>{w.routes.people}</h1>
      <ActionForm
        title={w.routes.subjects}
        submit={w.actions.search}
        fields={[{ name: 'iin', label: w.fields.iin, required: true }]}
        run={(v) => find(String(v.iin))}
      />
      {searched && !person ? <p role="status">{w.messages.empty}</p> : null}
      {person ? (
        <article class="panel">
          <h2>
            {w.fields.subject} <code>{person.id.slice(0, 8)}</code> — {person.status}
          </h2>
          {hr ? (
            <Table
              caption={kk ? 'Еңбек қатынастары' : 'Трудовые отношения'}
              rows={person.employments ?? []}
              columns={[
                { title: w.fields.fullName, cell: (e) => e.fullName ?? w.messages.none },
                { title: w.fields.position, cell: (e) => e.position ?? w.messages.none },
                { title: w.fields.date, cell: (e) => e.signedAt },
                {
                  title: w.actions.endEmployment,
                  cell: (e) =>
                    e.endedOn ?? (
                      <ActionForm
                        title={w.actions.endEmployment}
                        submit={w.actions.endEmployment}
                        fields={[{ name: 'endedOn', label: w.fields.date, type: 'date', value: today(), required: true }]}
                        run={(v) => run(EndEmploymentDocument, { subjectId: person.id, endedOn: String(v.endedOn) })}
                        onDone={() => void find(searched!)}
                      />
                    ),
                },
              ]}
            />
          ) : null}
          {contracts
            ? (person.contracts ?? []).map((c) => (
                <Table
                  key={c.id}
                  caption={`${kk ? 'Шарт' : 'Договор'} ${c.contractNumber ?? ''} (${c.contractDate})`}
                  rows={c.consent?.obligations ?? []}
                  columns={[
                    { title: w.fields.description, cell: (o) => o.description ?? w.messages.none },
                    { title: w.fields.deadline, cell: (o) => o.dueDate },
                    {
                      title: w.actions.fulfil,
                      cell: (o) =>
                        o.fulfilledAt ?? (
                          <ActionForm
                            title={w.actions.fulfil}
                            submit={w.actions.fulfil}
                            fields={[]}
                            run={() => run(FulfilObligationDocument, { obligationId: o.id })}
                            onDone={() => void find(searched!)}
                          />
                        ),
                    },
                  ]}
                />
              ))
            : null}
        </article>
      ) : null}
      {hr ? (
        <ActionForm
          title={kk ? 'Қызметкерді тіркеу (қол қойылған № 1 қосымша)' : 'Регистрация сотрудника (подписано Приложение 1)'}
          submit={w.actions.register}
          fields={[
            { name: 'iin', label: w.fields.iin, required: true },
            { name: 'fullName', label: w.fields.fullName, required: true },
            { name: 'position', label: w.fields.position, required: true },
            { name: 'consentDocument', label: kk ? 'Келісім құжаты (нөмірі, күні)' : 'Документ согласия (номер, дата)', required: true },
            { name: 'signedAt', label: w.fields.date, type: 'date', required: true },
          ]}
          run={(v) =>
            run(RegisterEmployeeDocument, {
              input: {
                iin: String(v.iin),
                fullName: String(v.fullName),
                position: String(v.position),
                consentDocument: String(v.consentDocument),
                signedAt: String(v.signedAt),
                locale,
              },
            })
          }
        />
      ) : null}
      {contracts ? (
        <ActionForm
          title={kk ? 'Контрагентті тіркеу' : 'Регистрация контрагента'}
          submit={w.actions.register}
          fields={[
            { name: 'iin', label: w.fields.iin, required: true },
            { name: 'fullName', label: w.fields.fullName, required: true },
            { name: 'contractNumber', label: kk ? 'Шарт нөмірі' : 'Номер договора', required: true },
            { name: 'contractDate', label: kk ? 'Шарт күні' : 'Дата договора', type: 'date', required: true },
            {
              name: 'consentForm',
              label: kk ? 'Келісім нысаны' : 'Форма согласия',
              type: 'select',
              options: [
                { value: 'CONTRACT_CLAUSE', label: kk ? 'Шарттың тармағы' : 'Пункт договора' },
                { value: 'SEPARATE_DOCUMENT', label: kk ? 'Жеке құжат' : 'Отдельный документ' },
              ],
            },
            { name: 'obligation', label: kk ? 'Міндеттеме' : 'Обязательство' },
            { name: 'dueDate', label: w.fields.deadline, type: 'date' },
          ]}
          run={(v) =>
            run(RegisterCounterpartyDocument, {
              input: {
                iin: String(v.iin),
                fullName: String(v.fullName),
                contractNumber: String(v.contractNumber),
                contractDate: String(v.contractDate),
                consentForm: v.consentForm as CounterpartyConsentForm,
                obligations: v.obligation ? [{ description: String(v.obligation), dueDate: String(v.dueDate) }] : [],
                locale,
              },
            })
          }
        />
      ) : null}
    </section>
  );
}
