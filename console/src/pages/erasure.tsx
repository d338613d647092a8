import { run } from '../api/client';
import {
  ActSubjectDocument,
  ApproveErasureDocument,
  ErasureActsWaitingDocument,
  RejectErasureDocument,
  type ErasureActsWaitingQuery,
} from '../generated/operations';
import { lang, words } from '../i18n';
import type { PageProps } from '../main';
import { ActionForm, Errors, Loading, useApi, when } from '../ui';

type Act = ErasureActsWaitingQuery['erasureActs'][number];

/** CHAIRMAN (4.6): the acts waiting for a decision, each with the subject's status and categories; approve or reject. */
export function ErasureActsPage({ me }: PageProps) {
  const w = words();
  const acts = useApi(ErasureActsWaitingDocument, {}, []);
  if (acts.loading && !acts.data) return <Loading />;
  return (
    <section>
      <h1>{w.routes.erasureActs}</h1>
      <h2>{w.messages.waitingActs}</h2>
      <Errors errors={acts.errors} />
      {acts.data?.erasureActs.length === 0 ? <p class="empty">{w.messages.empty}</p> : null}
      {acts.data?.erasureActs.map((act) => (
        <ActCard key={act.id} act={act} decide={me.roles.includes('CHAIRMAN')} onDone={acts.reload} />
      ))}
    </section>
  );
}

function ActCard({ act, decide, onDone }: { act: Act; decide: boolean; onDone: () => void }) {
  const w = words();
  const subject = useApi(ActSubjectDocument, { id: act.subjectId }, [act.subjectId]);
  const s = subject.data?.subject;
  const report = subject.data?.accessReport;
  const holdings = report ? [report.subjectsHolding, report.appealsHolding, report.consentsHolding] : null;
  const methods = lang() === 'kk' ? { DESTROY: 'Жою', DEPERSONALIZE: 'Иесіздендіру' } : { DESTROY: 'Уничтожение', DEPERSONALIZE: 'Обезличивание' };
  return (
    <article class="panel">
      <h3>
        {methods[act.method]} — {when(act.proposedAt)}
      </h3>
      <dl class="facts">
        <dt>{w.fields.method}</dt>
        <dd>{methods[act.method]}</dd>
        <dt>{w.fields.grounds}</dt>
        <dd class="text">{act.grounds}</dd>
        <dt>{w.fields.actor}</dt>
        <dd>{act.automatic ? 'retention' : act.proposedBy}</dd>
        <dt>{w.fields.status}</dt>
        <dd>{s ? s.status : w.messages.none}</dd>
        <dt>{w.fields.categories}</dt>
        <dd>{s ? s.categories.join(', ') : w.messages.none}</dd>
        <dt>{w.fields.purposes}</dt>
        <dd>{s ? s.purposes.map((p) => `${p.code}: ${p.state}`).join(', ') : w.messages.none}</dd>
        <dt>{w.fields.holdings}</dt>
        <dd>{holdings ? holdings.map((h) => `${h.service}: ${h.records}`).join(', ') : w.messages.none}</dd>
      </dl>
      <Errors errors={subject.errors} />
      {decide ? (
        <div class="actions">
          <ActionForm
            title={w.actions.approve}
            submit={w.actions.approve}
            fields={[{ name: 'note', label: w.fields.note, type: 'textarea' }]}
            run={(v) => run(ApproveErasureDocument, { actId: act.id, note: String(v.note ?? '').trim() || null })}
            onDone={onDone}
          />
          <ActionForm
            title={w.actions.reject}
            submit={w.actions.reject}
            danger
            fields={[{ name: 'note', label: w.fields.note, type: 'textarea' }]}
            run={(v) => run(RejectErasureDocument, { actId: act.id, note: String(v.note ?? '').trim() || null })}
            onDone={onDone}
          />
        </div>
      ) : null}
    </article>
  );
}
