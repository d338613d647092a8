import { useState } from 'preact/hooks';
import { run } from '../api/client';
import {
  AccessGrantsDocument,
  AccessListDocument,
  CreditorsDocument,
  GrantAccessDocument,
  RegisterCreditorDocument,
  ResumeCreditorDocument,
  RevokeAccessDocument,
  SuspendCreditorDocument,
  TemplatesDocument,
  type Role,
} from '../generated/operations';
import { lang, words } from '../i18n';
import type { PageProps } from '../main';
import { ActionForm, Errors, Loading, Table, useApi, when } from '../ui';

const ROLES: Role[] = ['OPERATOR', 'DPO', 'CHAIRMAN', 'HR', 'CONTRACTS', 'AUDITOR', 'PARTNER', 'OPS'];

/** The access registry (Law Art. 25(3)): grants, revocations, and who had access on a given day. */
export function AccessPage({ me }: PageProps) {
  const w = words();
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const grants = useApi(AccessGrantsDocument, { first: 50, after }, [after]);
  const creditors = useApi(CreditorsDocument, me.roles.includes('DPO') ? {} : null, []);
  const [on, setOn] = useState<string | null>(null);
  const list = useApi(AccessListDocument, on && (me.roles.includes('DPO') || me.roles.includes('AUDITOR')) ? { on } : null, [on]);
  const dpo = me.roles.includes('DPO');
  const page = grants.data?.accessGrants;
  return (
    <section>
      <h1>{w.routes.access}</h1>
      <Errors errors={grants.errors} />
      {grants.loading && !page ? <Loading /> : null}
      {page ? (
        <>
          <p role="status">
            {w.messages.total}: {page.totalCount}
          </p>
          <Table
            caption={w.routes.access}
            rows={page.edges.map((e) => e.node)}
            columns={[
              { title: w.fields.account, cell: (g) => `${g.displayName} (${g.account})` },
              { title: w.fields.roles, cell: (g) => `${g.roles.join(', ')}${g.creditor ? ` — ${g.creditor.name}` : ''}` },
              { title: w.fields.when, cell: (g) => `${when(g.grantedAt)} ${g.grantedBy}` },
              { title: w.fields.reason, cell: (g) => g.reason },
              {
                title: w.actions.revoke,
                cell: (g) =>
                  g.revokedAt ? (
                    when(g.revokedAt)
                  ) : dpo && g.account !== me.account ? (
                    <ActionForm
                      title={w.actions.revoke}
                      submit={w.actions.revoke}
                      danger
                      fields={[{ name: 'reason', label: w.fields.reason, required: true }]}
                      run={(v) => run(RevokeAccessDocument, { grantId: g.id, reason: String(v.reason) })}
                      onDone={grants.reload}
                    />
                  ) : (
                    w.messages.none
                  ),
              },
            ]}
          />
          {page.pageInfo.hasNextPage ? (
            <button type="button" onClick={() => setCursors([...cursors, page.pageInfo.endCursor!])}>
              {w.actions.next}
            </button>
          ) : null}
        </>
      ) : null}
      {dpo ? (
        <ActionForm
          title={w.actions.grant}
          submit={w.actions.grant}
          fields={[
            { name: 'account', label: w.fields.account, required: true },
            { name: 'displayName', label: w.fields.fullName, required: true },
            { name: 'roles', label: w.fields.roles, type: 'checkboxes', options: ROLES.map((r) => ({ value: r, label: r })) },
            {
              name: 'creditorId',
              label: w.fields.creditor,
              type: 'select',
              options: [{ value: '', label: '—' }, ...(creditors.data?.creditors ?? []).map((c) => ({ value: c.id, label: c.name }))],
            },
            { name: 'reason', label: w.fields.reason, required: true },
          ]}
          run={(v) =>
            run(GrantAccessDocument, {
              input: {
                account: String(v.account),
                displayName: String(v.displayName),
                roles: v.roles as Role[],
                creditorId: v.creditorId ? String(v.creditorId) : null,
                reason: String(v.reason),
              },
            })
          }
          onDone={grants.reload}
        />
      ) : null}
      {me.roles.includes('DPO') || me.roles.includes('AUDITOR') ? (
        <div class="panel">
          <ActionForm
            title={lang() === 'kk' ? 'Күнгі қолжетімділік тізімі' : 'Список допущенных на дату'}
            submit={w.actions.search}
            fields={[{ name: 'on', label: w.fields.on, type: 'date', required: true }]}
            run={async (v) => {
              setOn(String(v.on));
              return { ok: true, data: null };
            }}
          />
          <Errors errors={list.errors} />
          {list.data ? (
            <Table
              caption={`${w.routes.access} — ${on}`}
              rows={list.data.accessList}
              columns={[
                { title: w.fields.account, cell: (g) => `${g.displayName} (${g.account})` },
                { title: w.fields.roles, cell: (g) => g.roles.join(', ') },
                { title: w.fields.when, cell: (g) => when(g.grantedAt) },
              ]}
            />
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

/** Creditors: registered (BIN checked, country), suspended and resumed by the DPO. */
export function CreditorsPage({ me }: PageProps) {
  const w = words();
  const list = useApi(CreditorsDocument, {}, []);
  const dpo = me.roles.includes('DPO');
  return (
    <section>
      <h1>{w.routes.creditors}</h1>
      <Errors errors={list.errors} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data ? (
        <Table
          caption={w.routes.creditors}
          rows={list.data.creditors}
          columns={[
            { title: w.fields.name, cell: (c) => c.name },
            { title: w.fields.bin, cell: (c) => c.bin },
            { title: w.fields.country, cell: (c) => c.country },
            {
              title: w.fields.status,
              cell: (c) =>
                dpo ? (
                  <ActionForm
                    title={c.suspendedAt ? w.actions.resume : w.actions.suspend}
                    submit={c.suspendedAt ? w.actions.resume : w.actions.suspend}
                    danger={!c.suspendedAt}
                    fields={[{ name: 'reason', label: w.fields.reason, required: true }]}
                    run={(v) =>
                      c.suspendedAt
                        ? run(ResumeCreditorDocument, { creditorId: c.id, reason: String(v.reason) })
                        : run(SuspendCreditorDocument, { creditorId: c.id, reason: String(v.reason) })
                    }
                    onDone={list.reload}
                  />
                ) : c.suspendedAt ? (
                  when(c.suspendedAt)
                ) : (
                  w.messages.none
                ),
            },
          ]}
        />
      ) : null}
      {dpo ? (
        <ActionForm
          title={w.actions.register}
          submit={w.actions.register}
          fields={[
            { name: 'bin', label: w.fields.bin, required: true },
            { name: 'name', label: w.fields.name, required: true },
            { name: 'country', label: w.fields.country, required: true, value: 'KZ' },
          ]}
          run={(v) => run(RegisterCreditorDocument, { input: { bin: String(v.bin), name: String(v.name), country: String(v.country) } })}
          onDone={list.reload}
        />
      ) : null}
    </section>
  );
}

/** Consent templates in force, in both languages. */
export function TemplatesPage(_: PageProps) {
  const w = words();
  const list = useApi(TemplatesDocument, { locale: null }, []);
  return (
    <section>
      <h1>{w.routes.templates}</h1>
      <Errors errors={list.errors} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data ? (
        <Table
          caption={w.routes.templates}
          rows={list.data.consentTemplates}
          columns={[
            { title: w.fields.code, cell: (t) => t.code },
            { title: w.fields.version, cell: (t) => t.version },
            { title: w.fields.locale, cell: (t) => t.locale },
            { title: w.fields.name, cell: (t) => t.title },
            { title: w.fields.effectiveFrom, cell: (t) => t.effectiveFrom },
          ]}
        />
      ) : null}
    </section>
  );
}
