import { useState } from 'preact/hooks';
import { run } from '../api/client';
import {
  AnswerAppealDocument,
  AppealPageDocument,
  AssignAppealDocument,
  ChangeAppealStatusDocument,
  CommentAppealDocument,
  ForwardAppealDocument,
  RegisterAppealDocument,
  WorklistDocument,
  type AppealFilter,
  type AppealKind,
  type AppealStatus,
  type ForwardedField,
  type PaperChannel,
} from '../generated/operations';
import { lang, words } from '../i18n';
import type { PageProps } from '../main';
import { ActionForm, Errors, Link, Loading, Pager, Table, useApi, when } from '../ui';

const STATUSES: AppealStatus[] = ['NEW', 'IN_PROGRESS', 'FORWARDED', 'ANSWERED', 'CLOSED'];
const KINDS: AppealKind[] = ['APPEAL', 'COMPLAINT', 'SCHEDULE_REQUEST'];
const PAGE = 50;

/** OPERATOR and DPO: the worklist — filters, cursor pages, the overdue ones marked, the count. */
export function WorklistPage({ me }: PageProps) {
  const w = words();
  const [filter, setFilter] = useState<AppealFilter>({});
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const list = useApi(WorklistDocument, { filter, first: PAGE, after }, [JSON.stringify(filter), after]);
  const overdue = new Set((list.data?.overdueAppeals ?? []).map((a) => a.id));

  const onFilter = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const next: AppealFilter = {};
    const status = String(data.get('status') ?? '');
    const kind = String(data.get('kind') ?? '');
    const assignee = String(data.get('assignee') ?? '').trim();
    const reference = String(data.get('reference') ?? '').trim();
    const overdueOnly = data.get('overdue') === 'on';
    if (status) next.status = [status as AppealStatus];
    if (kind) next.kind = [kind as AppealKind];
    if (assignee) next.assignee = assignee;
    if (reference) next.reference = reference;
    if (overdueOnly) next.overdue = true;
    setCursors([]);
    setFilter(next);
  };
  const connection = list.data?.appeals;
  return (
    <section>
      <h1>{w.routes.appeals}</h1>
      <form class="filters" onSubmit={onFilter} aria-label={w.actions.filter}>
        <label>
          {w.fields.status}
          <select name="status">
            <option value="">—</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {w.status[s]}
              </option>
            ))}
          </select>
        </label>
        <label>
          {w.fields.kind}
          <select name="kind">
            <option value="">—</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {w.kinds[k]}
              </option>
            ))}
          </select>
        </label>
        <label>
          {w.fields.assignee}
          <input name="assignee" autocomplete="off" />
        </label>
        <label>
          {w.fields.reference}
          <input name="reference" autocomplete="off" />
        </label>
        <label class="check">
          <input type="checkbox" name="overdue" /> {w.fields.overdue}
        </label>
        <button type="submit">{w.actions.filter}</button>
      </form>
      <Errors errors={list.errors} />
      {list.loading && !connection ? <Loading /> : null}
      {connection ? (
        <>
          <p class="count" role="status">
            {w.messages.total}: <strong>{connection.totalCount}</strong>
          </p>
          <Table
            caption={w.routes.appeals}
            rows={connection.edges.map((e) => e.node)}
            columns={[
              { title: w.fields.reference, cell: (a) => <Link href={`/console/appeals/${a.id}`}>{a.reference}</Link> },
              { title: w.fields.kind, cell: (a) => w.kinds[a.kind] },
              { title: w.fields.status, cell: (a) => w.status[a.status] },
              {
                title: w.fields.deadline,
                cell: (a) =>
                  overdue.has(a.id) ? (
                    <span class="overdue">
                      {a.deadline} — {w.messages.overdueMark}
                    </span>
                  ) : (
                    a.deadline
                  ),
              },
              { title: w.fields.assignee, cell: (a) => a.assignee ?? w.messages.none },
              { title: w.fields.submittedAt, cell: (a) => when(a.submittedAt) },
            ]}
          />
          <Pager cursors={cursors} setCursors={setCursors} pageInfo={connection.pageInfo} />
        </>
      ) : null}
      {me.roles.includes('OPERATOR') ? <RegisterPaperAppeal onDone={list.reload} /> : null}
    </section>
  );
}

function RegisterPaperAppeal({ onDone }: { onDone: () => void }) {
  const w = words();
  const [reference, setReference] = useState<string | null>(null);
  return (
    <details class="panel">
      <summary>
        {w.actions.register}: {lang() === 'kk' ? 'қағаз немесе келу арқылы өтініш' : 'обращение на бумаге или на приёме'}
      </summary>
      <ActionForm
        title={lang() === 'kk' ? 'Қағаз өтінішті тіркеу (№ 2 қосымша қол қойылған)' : 'Регистрация обращения (подписано Приложение 2)'}
        submit={w.actions.register}
        fields={[
          { name: 'kind', label: w.fields.kind, type: 'select', options: KINDS.map((k) => ({ value: k, label: w.kinds[k]! })) },
          {
            name: 'channel',
            label: w.fields.channel,
            type: 'select',
            options: (['PAPER', 'IN_PERSON'] as PaperChannel[]).map((c) => ({ value: c, label: c })),
          },
          { name: 'iin', label: w.fields.iin, required: true },
          { name: 'phone', label: w.fields.phone },
          { name: 'email', label: w.fields.email },
          { name: 'description', label: w.fields.description, type: 'textarea', required: true },
          { name: 'consentDocument', label: lang() === 'kk' ? 'Келісім құжаты (нөмірі, күні)' : 'Документ согласия (номер, дата)', required: true },
          { name: 'consentSignedOn', label: lang() === 'kk' ? 'Келісімге қол қойылған күн' : 'Дата подписания согласия', type: 'date', required: true },
        ]}
        run={async (v) => {
          const outcome = await run(RegisterAppealDocument, {
            input: {
              kind: v.kind as AppealKind,
              channel: v.channel as PaperChannel,
              iin: String(v.iin),
              phone: v.phone ? String(v.phone) : null,
              email: v.email ? String(v.email) : null,
              description: String(v.description),
              consentDocument: String(v.consentDocument),
              consentSignedOn: String(v.consentSignedOn),
              locale: lang() === 'kk' ? 'KK' : 'RU',
            },
          });
          if (outcome.ok) setReference(outcome.data.registerAppeal.reference);
          return outcome;
        }}
        onDone={onDone}
      />
      {reference ? <p role="status">{reference}</p> : null}
    </details>
  );
}

const FORWARDABLE: ForwardedField[] = ['IIN', 'PHONE', 'EMAIL', 'DESCRIPTION'];

/** An appeal: the person's contact, the description, the story, notes, and the operator's moves. */
export function AppealPage({ me, params }: PageProps) {
  const w = words();
  const page = useApi(AppealPageDocument, { id: params.id! }, [params.id]);
  if (page.loading && !page.data) return <Loading />;
  const appeal = page.data?.appeal;
  if (!appeal) return <Errors errors={page.errors.length ? page.errors : [{ code: 'NOT_FOUND', field: null, message: w.notFound }]} />;
  const open = appeal.status !== 'CLOSED';
  const reload = page.reload;
  return (
    <section>
      <h1>
        {w.kinds[appeal.kind]} {appeal.reference}
      </h1>
      <Errors errors={page.errors} />
      <dl class="facts">
        <dt>{w.fields.status}</dt>
        <dd>{w.status[appeal.status]}</dd>
        <dt>{w.fields.deadline}</dt>
        <dd>{appeal.deadline}</dd>
        <dt>{w.fields.submittedAt}</dt>
        <dd>{when(appeal.submittedAt)}</dd>
        <dt>{w.fields.channel}</dt>
        <dd>{appeal.channel}</dd>
        <dt>{w.fields.assignee}</dt>
        <dd>{appeal.assignee ?? w.messages.none}</dd>
        <dt>{w.fields.phone}</dt>
        <dd>{appeal.contact?.phone ?? w.messages.withheld}</dd>
        <dt>{w.fields.email}</dt>
        <dd>{appeal.contact?.email ?? w.messages.none}</dd>
        <dt>{w.fields.subject}</dt>
        <dd>{appeal.subject ? <Link href={`/console/subjects/${appeal.subject.id}`}>{appeal.subject.status}</Link> : w.messages.none}</dd>
        {appeal.forwardedTo ? (
          <>
            <dt>{w.fields.creditor}</dt>
            <dd>
              {appeal.forwardedTo.name} ({appeal.forwardedFields.join(', ')})
            </dd>
          </>
        ) : null}
        {appeal.answer ? (
          <>
            <dt>{w.fields.answer}</dt>
            <dd class="text">{appeal.answer}</dd>
          </>
        ) : null}
        {appeal.partnerResponse ? (
          <>
            <dt>{w.fields.response}</dt>
            <dd class="text">{appeal.partnerResponse}</dd>
          </>
        ) : null}
      </dl>
      <h2>{w.fields.description}</h2>
      <p class="text description">{appeal.contact?.description ?? w.messages.withheld}</p>
      <h2>{w.messages.history}</h2>
      <ol class="history">
        {appeal.history.map((h, i) => (
          <li key={i}>
            <time>{when(h.at)}</time> — {h.by}: {h.note ? <span class="text">{h.note}</span> : w.status[h.status]}
          </li>
        ))}
      </ol>
      {open ? (
        <div class="actions">
          {appeal.assignee !== me.account && (appeal.status === 'NEW' || appeal.status === 'IN_PROGRESS') ? (
            <ActionForm
              title={w.actions.take}
              submit={w.actions.take}
              fields={[]}
              run={async () => {
                // Taking an appeal: assigned to oneself, and a NEW one moves to IN_PROGRESS.
                const assigned = await run(AssignAppealDocument, { appealId: appeal.id, assignee: me.account });
                if (!assigned.ok || appeal.status !== 'NEW') return assigned;
                return run(ChangeAppealStatusDocument, { appealId: appeal.id, status: 'IN_PROGRESS' });
              }}
              onDone={reload}
            />
          ) : null}
          <ActionForm
            title={w.actions.addNote}
            submit={w.actions.addNote}
            fields={[{ name: 'note', label: w.fields.note, type: 'textarea', required: true }]}
            run={(v) => run(CommentAppealDocument, { appealId: appeal.id, note: String(v.note) })}
            onDone={reload}
          />
          {appeal.status === 'IN_PROGRESS' || appeal.status === 'FORWARDED' ? (
            <ActionForm
              title={w.actions.answer}
              submit={w.actions.answer}
              fields={[{ name: 'answer', label: w.fields.answer, type: 'textarea', required: true }]}
              run={(v) => run(AnswerAppealDocument, { appealId: appeal.id, answer: String(v.answer) })}
              onDone={reload}
            />
          ) : null}
          {appeal.status === 'IN_PROGRESS' ? (
            <ActionForm
              title={w.actions.forward}
              submit={w.actions.forward}
              fields={[
                {
                  name: 'creditorId',
                  label: w.fields.creditor,
                  type: 'select',
                  options: (page.data?.creditors ?? []).filter((c) => !c.suspendedAt).map((c) => ({ value: c.id, label: `${c.name} (${c.bin})` })),
                },
                { name: 'fields', label: w.fields.fieldsToForward, type: 'checkboxes', options: FORWARDABLE.map((f) => ({ value: f, label: f })) },
              ]}
              run={(v) => run(ForwardAppealDocument, { appealId: appeal.id, creditorId: String(v.creditorId), fields: v.fields as ForwardedField[] })}
              onDone={reload}
            />
          ) : null}
          {appeal.status === 'ANSWERED' ? (
            <ActionForm
              title={w.actions.close}
              submit={w.actions.close}
              fields={[]}
              run={() => run(ChangeAppealStatusDocument, { appealId: appeal.id, status: 'CLOSED' })}
              onDone={reload}
            />
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
