import { useState } from 'preact/hooks';
import { run } from '../api/client';
import {
  AccessReportPageDocument,
  BlockSubjectDocument,
  FindSubjectDocument,
  ProposeErasureDocument,
  RectificationsDocument,
  ReviewRectificationDocument,
  SubjectPageDocument,
  UnblockSubjectDocument,
  WithdrawConsentDocument,
  type AccessReportPageQuery,
  type ErasureMethod,
} from '../generated/operations';
import { lang, words } from '../i18n';
import type { PageProps } from '../main';
import { navigate } from '../router';
import { ActionForm, Errors, Link, Loading, Table, useApi, when } from '../ui';

/** DPO: find a person by IIN — the IIN goes in the POST body of a GraphQL request, never in the URL. */
export function SubjectSearchPage(_: PageProps) {
  const w = words();
  const [missing, setMissing] = useState(false);
  return (
    <section>
      <h1>{w.routes.subjects}</h1>
      <ActionForm
        title={w.actions.search}
        submit={w.actions.search}
        fields={[{ name: 'iin', label: w.fields.iin, required: true }]}
        run={async (v) => {
          const outcome = await run(FindSubjectDocument, { iin: String(v.iin) }, 'query');
          if (outcome.ok) {
            const found = outcome.data.subjectByIin;
            setMissing(!found);
            if (found) navigate(`/console/subjects/${found.id}`);
          }
          return outcome;
        }}
      />
      {missing ? <p role="status">{w.messages.empty}</p> : null}
    </section>
  );
}

/** A subject's page: categories, purposes, sources, holdings, consents, blocks, rectifications; the DPO's actions. */
export function SubjectPage({ me, params }: PageProps) {
  const w = words();
  const page = useApi(SubjectPageDocument, { id: params.id! }, [params.id]);
  const [report, setReport] = useState<AccessReportPageQuery['accessReport'] | null>(null);
  if (page.loading && !page.data) return <Loading />;
  const s = page.data?.subject;
  if (!s) return <Errors errors={page.errors.length ? page.errors : [{ code: 'NOT_FOUND', field: null, message: w.notFound }]} />;
  const dpo = me.roles.includes('DPO');
  const reload = page.reload;
  return (
    <section>
      <h1>
        {w.fields.subject} <code>{s.id.slice(0, 8)}</code> — {s.status}
      </h1>
      <Errors errors={page.errors} />
      <dl class="facts">
        <dt>{w.fields.iin}</dt>
        <dd>{s.iin ?? w.messages.withheld}</dd>
        <dt>{w.fields.categories}</dt>
        <dd>{s.categories.join(', ')}</dd>
        <dt>{w.fields.purposes}</dt>
        <dd>{s.purposes.map((p) => `${p.code}: ${p.state}${p.achievedAt ? ` (${when(p.achievedAt)})` : ''}`).join('; ')}</dd>
        <dt>{w.fields.sources}</dt>
        <dd>{s.sources.map((x) => `${x.code}${x.reference ? ` (${x.reference})` : ''}`).join('; ')}</dd>
        {s.blockReceipts.length > 0 ? (
          <>
            <dt>{w.fields.blocks}</dt>
            <dd>{s.blockReceipts.map((r) => `${r.service}: ${r.blocked ? w.messages.blocked : '✓'} (${when(r.appliedAt)})`).join(', ')}</dd>
          </>
        ) : null}
      </dl>
      <Table
        caption={w.fields.consents}
        rows={s.consents}
        columns={[
          { title: w.fields.code, cell: (c) => `${c.templateCode} v${c.templateVersion}` },
          { title: w.fields.purposes, cell: (c) => c.purpose ?? w.messages.none },
          { title: w.fields.status, cell: (c) => c.status },
          { title: w.fields.when, cell: (c) => when(c.givenAt) },
          {
            title: w.actions.withdraw,
            cell: (c) =>
              dpo && c.status === 'ACTIVE' ? (
                <ActionForm
                  title={w.actions.withdraw}
                  submit={w.actions.withdraw}
                  danger
                  fields={[{ name: 'reason', label: w.fields.reason, required: true }]}
                  run={(v) => run(WithdrawConsentDocument, { consentId: c.id, reason: String(v.reason) })}
                  onDone={reload}
                />
              ) : (
                when(c.withdrawnAt)
              ),
          },
        ]}
      />
      <Table
        caption={w.fields.blocks}
        rows={s.blocks}
        columns={[
          { title: w.fields.when, cell: (b) => when(b.blockedAt) },
          { title: w.fields.actor, cell: (b) => b.blockedBy },
          { title: w.fields.reason, cell: (b) => b.reason },
          { title: w.actions.unblock, cell: (b) => (b.unblockedAt ? `${when(b.unblockedAt)} ${b.unblockedBy ?? ''}` : w.messages.none) },
        ]}
      />
      <Table
        caption={w.routes.rectifications}
        rows={s.rectifications}
        columns={[
          { title: 'field', cell: (r) => r.field },
          { title: w.fields.status, cell: (r) => r.status },
          { title: w.fields.deadline, cell: (r) => r.deadline },
        ]}
      />
      <Table
        caption={w.routes.erasureActs}
        rows={s.erasureActs}
        columns={[
          { title: w.fields.method, cell: (a) => a.method },
          { title: w.fields.status, cell: (a) => a.status },
          { title: w.fields.when, cell: (a) => when(a.proposedAt) },
        ]}
      />
      <Table
        caption={w.routes.appeals}
        rows={s.appeals}
        columns={[
          {
            title: w.fields.reference,
            cell: (a) => (me.roles.includes('OPERATOR') || dpo ? <Link href={`/console/appeals/${a.id}`}>{a.reference}</Link> : a.reference),
          },
          { title: w.fields.status, cell: (a) => w.status[a.status] },
        ]}
      />
      {dpo ? (
        <div class="actions">
          {s.status === 'ACTIVE' ? (
            <ActionForm
              title={w.actions.block}
              submit={w.actions.block}
              danger
              fields={[{ name: 'reason', label: w.fields.reason, type: 'textarea', required: true }]}
              run={(v) => run(BlockSubjectDocument, { subjectId: s.id, reason: String(v.reason) })}
              onDone={reload}
            />
          ) : null}
          {s.status === 'BLOCKED' ? (
            <ActionForm
              title={w.actions.unblock}
              submit={w.actions.unblock}
              fields={[{ name: 'reason', label: w.fields.reason, type: 'textarea', required: true }]}
              run={(v) => run(UnblockSubjectDocument, { subjectId: s.id, reason: String(v.reason) })}
              onDone={reload}
            />
          ) : null}
          <ActionForm
            title={w.actions.proposeErasure}
            submit={w.actions.proposeErasure}
            danger
            fields={[
              {
                name: 'method',
                label: w.fields.method,
                type: 'select',
                options: [
                  { value: 'DESTROY', label: lang() === 'kk' ? 'Жою' : 'Уничтожение' },
                  { value: 'DEPERSONALIZE', label: lang() === 'kk' ? 'Иесіздендіру' : 'Обезличивание' },
                ],
              },
              { name: 'grounds', label: w.fields.grounds, type: 'textarea', required: true },
            ]}
            run={(v) => run(ProposeErasureDocument, { subjectId: s.id, method: v.method as ErasureMethod, grounds: String(v.grounds) })}
            onDone={reload}
          />
        </div>
      ) : null}
      {me.roles.some((r) => r === 'DPO' || r === 'AUDITOR' || r === 'CHAIRMAN') ? (
        <div class="panel">
          <ActionForm
            title={w.actions.accessReport}
            submit={w.actions.accessReport}
            fields={[]}
            run={async () => {
              const outcome = await run(AccessReportPageDocument, { subjectId: s.id }, 'query');
              if (outcome.ok) setReport(outcome.data.accessReport);
              return outcome;
            }}
          />
          {report ? <AccessReportView report={report} /> : null}
        </div>
      ) : null}
    </section>
  );
}

function AccessReportView({ report }: { report: AccessReportPageQuery['accessReport'] }) {
  const w = words();
  const holdings = [report.subjectsHolding, report.appealsHolding, report.consentsHolding];
  return (
    <article class="printable">
      <h2>{w.actions.accessReport}</h2>
      <dl class="facts">
        <dt>{w.fields.status}</dt>
        <dd>{report.status ?? w.messages.none}</dd>
        <dt>{w.fields.categories}</dt>
        <dd>{report.categories.join(', ')}</dd>
        <dt>{w.fields.purposes}</dt>
        <dd>{report.purposes.map((p) => p.code).join(', ')}</dd>
        <dt>{w.fields.sources}</dt>
        <dd>{report.sources.map((x) => x.code).join(', ')}</dd>
        <dt>methods</dt>
        <dd>{report.methods.join('; ')}</dd>
        <dt>{w.fields.deadline}</dt>
        <dd>{report.storagePeriod}</dd>
      </dl>
      <Table
        caption={w.fields.holdings}
        rows={holdings}
        columns={[
          { title: w.fields.service, cell: (h) => h.service },
          { title: 'data', cell: (h) => h.dataItems.join(', ') },
          { title: 'records', cell: (h) => h.records },
          { title: w.fields.deadline, cell: (h) => h.processingPeriod },
        ]}
      />
      <button type="button" onClick={() => print()}>
        {w.actions.print}
      </button>
    </article>
  );
}

/** DPO (6.1.2): pending rectification requests, approved or refused. */
export function RectificationsPage(_: PageProps) {
  const w = words();
  const list = useApi(RectificationsDocument, {}, []);
  if (list.loading && !list.data) return <Loading />;
  return (
    <section>
      <h1>{w.routes.rectifications}</h1>
      <Errors errors={list.errors} />
      {list.data?.rectificationRequests.length === 0 ? <p class="empty">{w.messages.empty}</p> : null}
      {list.data?.rectificationRequests.map((r) => (
        <article class="panel" key={r.id}>
          <h3>
            {r.field} — <Link href={`/console/subjects/${r.subjectId}`}>{r.subjectId.slice(0, 8)}</Link>
          </h3>
          <p>
            {w.fields.deadline}: {r.deadline}; {r.requestedBy}, {when(r.requestedAt)}
          </p>
          <ul>
            {r.documents.map((d, i) => (
              <li key={i} class="text">
                {d}
              </li>
            ))}
          </ul>
          <ActionForm
            title={w.actions.review}
            submit={w.actions.approve}
            fields={[{ name: 'note', label: w.fields.note }]}
            run={(v) => run(ReviewRectificationDocument, { requestId: r.id, approve: true, note: String(v.note ?? '') || null })}
            onDone={list.reload}
          />
          <ActionForm
            title={w.actions.reject}
            submit={w.actions.reject}
            danger
            fields={[{ name: 'note', label: w.fields.note }]}
            run={(v) => run(ReviewRectificationDocument, { requestId: r.id, approve: false, note: String(v.note ?? '') || null })}
            onDone={list.reload}
          />
        </article>
      ))}
    </section>
  );
}
