import { useState } from 'preact/hooks';
import { run } from '../api/client';
import { PartnerAppealsDocument, RespondToAppealDocument } from '../generated/operations';
import { words } from '../i18n';
import type { PageProps } from '../main';
import { ActionForm, Errors, Loading, useApi, when } from '../ui';

/** PARTNER: the appeals forwarded to its own creditor (only the fields it was given), and its responses. */
export function PartnerPage({ me }: PageProps) {
  const w = words();
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const list = useApi(PartnerAppealsDocument, { first: 20, after }, [after]);
  const page = list.data?.partnerAppeals;
  return (
    <section>
      <h1>
        {w.routes.partner}
        {me.creditor ? ` — ${me.creditor.name}` : ''}
      </h1>
      <Errors errors={list.errors} />
      {list.loading && !page ? <Loading /> : null}
      {page ? (
        <p role="status">
          {w.messages.total}: {page.totalCount}
        </p>
      ) : null}
      {page?.edges.map(({ node: a }) => (
        <article class="panel" key={a.id}>
          <h3>
            {w.kinds[a.kind]} {a.reference}
          </h3>
          <dl class="facts">
            <dt>{w.fields.status}</dt>
            <dd>{w.status[a.status]}</dd>
            <dt>{w.fields.deadline}</dt>
            <dd>{a.deadline}</dd>
            <dt>{w.fields.submittedAt}</dt>
            <dd>{when(a.forwardedAt)}</dd>
            {a.iin ? (
              <>
                <dt>{w.fields.iin}</dt>
                <dd>{a.iin}</dd>
              </>
            ) : null}
            {a.phone ? (
              <>
                <dt>{w.fields.phone}</dt>
                <dd>{a.phone}</dd>
              </>
            ) : null}
            {a.email ? (
              <>
                <dt>{w.fields.email}</dt>
                <dd>{a.email}</dd>
              </>
            ) : null}
          </dl>
          {a.description ? <p class="text description">{a.description}</p> : null}
          {a.response ? (
            <p class="text">
              {w.fields.response}: {a.response}
            </p>
          ) : (
            <ActionForm
              title={w.actions.respond}
              submit={w.actions.respond}
              fields={[{ name: 'response', label: w.fields.response, type: 'textarea', required: true }]}
              run={(v) => run(RespondToAppealDocument, { appealId: a.id, response: String(v.response) })}
              onDone={list.reload}
            />
          )}
        </article>
      ))}
      {page?.pageInfo.hasNextPage ? (
        <button type="button" onClick={() => setCursors([...cursors, page.pageInfo.endCursor!])}>
          {w.actions.next}
        </button>
      ) : null}
    </section>
  );
}
