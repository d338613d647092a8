import { useState } from 'preact/hooks';
import { run } from '../api/client';
import {
  AcknowledgeIncidentDocument,
  AuditKeysDocument,
  AuditSearchDocument,
  CloseIncidentDocument,
  ControlReportDocument,
  IncidentsDocument,
  ReportIncidentDocument,
  type AuditFilter,
} from '../generated/operations';
import { lang, words } from '../i18n';
import type { PageProps } from '../main';
import { ActionForm, Errors, Link, Loading, Pager, Table, useApi, when } from '../ui';

const today = () => new Date(Date.now() + 5 * 3600_000).toISOString().slice(0, 10);

/** AUDITOR (7.2.3–7.2.4): search the audit with pages; checkpoints and keys; the control report. */
export function AuditPage({ me }: PageProps) {
  const w = words();
  const [filter, setFilter] = useState<AuditFilter | null>(null);
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const entries = useApi(AuditSearchDocument, filter ? { filter, first: 50, after } : null, [JSON.stringify(filter), after]);
  const keys = useApi(AuditKeysDocument, me.roles.includes('AUDITOR') ? {} : null, []);
  const onSearch = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const next: AuditFilter = {};
    for (const name of ['subjectId', 'actorId', 'operation', 'source', 'from', 'to'] as const) {
      const value = String(data.get(name) ?? '').trim();
      if (value) next[name] = value;
    }
    setCursors([]);
    setFilter(next);
  };
  const page = entries.data?.auditEntries;
  return (
    <section>
      <h1>{w.routes.audit}</h1>
      <form class="filters" onSubmit={onSearch} aria-label={w.actions.search}>
        <label>
          {w.fields.subject}
          <input name="subjectId" autocomplete="off" />
        </label>
        <label>
          {w.fields.actor}
          <input name="actorId" autocomplete="off" />
        </label>
        <label>
          {w.fields.operation}
          <select name="operation">
            <option value="">—</option>
            {['COLLECT', 'STORE', 'MODIFY', 'ACCESS', 'TRANSFER', 'DEPERSONALIZE', 'BLOCK', 'UNBLOCK', 'DESTROY', 'DENIED'].map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <label>
          {w.fields.source}
          <select name="source">
            <option value="">—</option>
            {['gateway', 'subjects', 'appeals', 'consents', 'audit'].map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <label>
          {w.fields.from}
          <input name="from" type="date" />
        </label>
        <label>
          {w.fields.to}
          <input name="to" type="date" />
        </label>
        <button type="submit">{w.actions.search}</button>
      </form>
      <Errors errors={entries.errors} />
      {entries.loading && !page ? <Loading /> : null}
      {page ? (
        <>
          <Table
            caption={w.routes.audit}
            rows={page.edges.map((e) => e.node)}
            columns={[
              { title: w.fields.seq, cell: (e) => e.seq },
              { title: w.fields.when, cell: (e) => when(e.occurredAt) },
              { title: w.fields.operation, cell: (e) => e.operation },
              { title: w.fields.outcome, cell: (e) => e.outcome },
              { title: w.fields.source, cell: (e) => e.source },
              { title: w.fields.actor, cell: (e) => e.actorId },
              {
                title: w.fields.subject,
                cell: (e) => (e.subjectId ? <Link href={`/console/subjects/${e.subjectId}`}>{e.subjectId.slice(0, 8)}</Link> : w.messages.none),
              },
              { title: 'resource', cell: (e) => [e.resource, e.fields.join(', ')].filter(Boolean).join(': ') },
            ]}
          />
          <Pager cursors={cursors} setCursors={setCursors} pageInfo={page.pageInfo} />
        </>
      ) : null}
      {keys.data ? (
        <>
          <h2>{lang() === 'kk' ? 'Бақылау нүктелері мен кілттер' : 'Контрольные точки и ключи'}</h2>
          <Table
            caption={lang() === 'kk' ? 'Кілттер' : 'Ключи'}
            rows={keys.data.auditKeys}
            columns={[
              { title: 'keyId', cell: (k) => k.keyId },
              { title: 'alg', cell: (k) => k.algorithm },
              { title: 'signing', cell: (k) => (k.signing ? w.messages.yes : w.messages.no) },
            ]}
          />
          <Table
            caption={lang() === 'kk' ? 'Бақылау нүктелері' : 'Контрольные точки'}
            rows={keys.data.auditCheckpoints}
            columns={[
              { title: w.fields.seq, cell: (c) => c.seq },
              { title: w.fields.when, cell: (c) => when(c.signedAt) },
              { title: 'keyId', cell: (c) => c.keyId },
              { title: 'hash', cell: (c) => <code>{c.hash.slice(0, 16)}…</code> },
            ]}
          />
        </>
      ) : null}
      <ControlReportForm />
    </section>
  );
}

/** The control report for a period, printable, in Kazakh or Russian: opened as its own document. */
function ControlReportForm() {
  const w = words();
  const [html, setHtml] = useState<string | null>(null);
  return (
    <div class="panel">
      <ActionForm
        title={w.actions.controlReport}
        submit={w.actions.controlReport}
        fields={[
          { name: 'from', label: w.fields.from, type: 'date', value: today().slice(0, 8) + '01' },
          { name: 'to', label: w.fields.to, type: 'date', value: today() },
          {
            name: 'locale',
            label: w.fields.locale,
            type: 'select',
            value: lang() === 'kk' ? 'KK' : 'RU',
            options: [
              { value: 'KK', label: 'Қазақша' },
              { value: 'RU', label: 'Русский' },
            ],
          },
        ]}
        run={async (v) => {
          const outcome = await run(ControlReportDocument, { from: String(v.from), to: String(v.to), locale: v.locale === 'KK' ? 'KK' : 'RU' }, 'query');
          if (outcome.ok) setHtml(outcome.data.controlReport.document);
          return outcome;
        }}
      />
      {html ? (
        // The report is the audit's own self-contained HTML; shown sandboxed (no scripts), printable from the frame.
        <iframe class="report" title={w.actions.controlReport} sandbox="allow-modals" srcdoc={html} />
      ) : null}
      <p>
        {w.actions.download}: <code>npm run audit:export</code>
      </p>
    </div>
  );
}

/** DPO (7.2.2): incidents, acknowledged, reported to the authorized body, closed. */
export function IncidentsPage({ me }: PageProps) {
  const w = words();
  const list = useApi(IncidentsDocument, {}, []);
  const dpo = me.roles.includes('DPO');
  if (list.loading && !list.data) return <Loading />;
  return (
    <section>
      <h1>{w.routes.incidents}</h1>
      <Errors errors={list.errors} />
      {list.data?.incidents.length === 0 ? <p class="empty">{w.messages.empty}</p> : null}
      {list.data?.incidents.map((i) => (
        <article class="panel" key={i.id}>
          <h3>
            {i.rule} — {when(i.detectedAt)} {i.overdue ? <span class="overdue">{w.messages.overdueMark}</span> : null}
          </h3>
          <dl class="facts">
            <dt>{w.fields.status}</dt>
            <dd>{i.status}</dd>
            <dt>{w.fields.actor}</dt>
            <dd>{i.actorId}</dd>
            <dt>{w.fields.notifyBy}</dt>
            <dd>{i.notifyBy}</dd>
            {i.reference ? (
              <>
                <dt>{w.fields.reference}</dt>
                <dd>{i.reference}</dd>
              </>
            ) : null}
          </dl>
          {dpo && i.status === 'OPEN' ? (
            <ActionForm
              title={w.actions.acknowledge}
              submit={w.actions.acknowledge}
              fields={[]}
              run={() => run(AcknowledgeIncidentDocument, { id: i.id })}
              onDone={list.reload}
            />
          ) : null}
          {dpo && (i.status === 'OPEN' || i.status === 'ACKNOWLEDGED') ? (
            <ActionForm
              title={w.actions.report}
              submit={w.actions.report}
              fields={[
                { name: 'reference', label: w.fields.reference, required: true },
                // What the report to the authorized body states (Order 481).
                { name: 'details.contactName', label: lang() === 'kk' ? 'Жауапты тұлға' : 'Ответственное лицо', required: true },
                { name: 'details.contactPhone', label: lang() === 'kk' ? 'Оның телефоны' : 'Его телефон', required: true },
                { name: 'details.measures', label: lang() === 'kk' ? 'Қабылданған шаралар' : 'Принятые меры', type: 'textarea', required: true },
                {
                  name: 'details.subjectNotification',
                  label: lang() === 'kk' ? 'Субъектілерді хабардар ету' : 'Уведомление субъектов',
                  type: 'textarea',
                  required: true,
                },
              ]}
              run={(v) =>
                run(ReportIncidentDocument, {
                  id: i.id,
                  reference: String(v.reference),
                  details: {
                    contactName: String(v['details.contactName']),
                    contactPhone: String(v['details.contactPhone']),
                    measures: String(v['details.measures']),
                    subjectNotification: String(v['details.subjectNotification']),
                  },
                })
              }
              onDone={list.reload}
            />
          ) : null}
          {dpo && i.status !== 'CLOSED' ? (
            <ActionForm
              title={w.actions.close}
              submit={w.actions.close}
              fields={[{ name: 'note', label: w.fields.note, type: 'textarea', required: true }]}
              run={(v) => run(CloseIncidentDocument, { id: i.id, note: String(v.note) })}
              onDone={list.reload}
            />
          ) : null}
        </article>
      ))}
    </section>
  );
}
