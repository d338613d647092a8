import { useEffect } from 'preact/hooks';
import { run } from '../api/client';
import { HealthDocument, ParkedDocument, ReplayParkedDocument } from '../generated/operations';
import { words } from '../i18n';
import type { PageProps } from '../main';
import { ActionForm, Errors, Loading, Table, useApi, when } from '../ui';

/** OPS: the platform's health, refreshing on its own every 5 s; parked events and their replay. */
export function HealthPage({ me }: PageProps) {
  const w = words();
  const health = useApi(HealthDocument, {}, []);
  const parked = useApi(ParkedDocument, me.roles.includes('OPS') ? {} : null, []);
  useEffect(() => {
    const timer = setInterval(() => health.reload(), 5000);
    return () => clearInterval(timer);
  }, [health.reload]);
  if (health.loading && !health.data) return <Loading />;
  const services = health.data?.platformHealth.services ?? [];
  return (
    <section>
      <h1>{w.routes.health}</h1>
      <Errors errors={health.errors} />
      {health.data ? (
        <p role="status" class={health.data.platformHealth.ready ? 'ok' : 'overdue'}>
          {w.fields.ready}: {health.data.platformHealth.ready ? w.messages.yes : w.messages.no}
        </p>
      ) : null}
      <Table
        caption={w.routes.health}
        rows={services}
        columns={[
          { title: w.fields.service, cell: (s) => s.name },
          { title: w.fields.ready, cell: (s) => (s.ready ? w.messages.yes : <strong class="overdue">{w.messages.no}</strong>) },
          { title: 'instances', cell: (s) => s.instances },
          { title: w.fields.backlog, cell: (s) => s.outboxBacklog },
          { title: w.fields.parked, cell: (s) => s.parkedEvents },
          { title: w.fields.consumers, cell: (s) => s.consumers.map((c) => `${c.name}: ${c.pending + c.ackPending}`).join('; ') },
        ]}
      />
      {parked.data ? (
        <>
          <h2>{w.fields.parked}</h2>
          <Errors errors={parked.errors} />
          <Table
            caption={w.fields.parked}
            rows={parked.data.parkedEvents}
            columns={[
              { title: w.fields.service, cell: (p) => p.service },
              { title: 'consumer', cell: (p) => p.consumer },
              { title: 'type', cell: (p) => p.type ?? w.messages.none },
              { title: 'error', cell: (p) => p.error },
              { title: w.fields.when, cell: (p) => when(p.parkedAt) },
              {
                title: w.actions.replay,
                cell: (p) =>
                  p.resolvedAt ? (
                    (p.outcome ?? '')
                  ) : (
                    <ActionForm
                      title={w.actions.replay}
                      submit={w.actions.replay}
                      fields={[]}
                      run={() => run(ReplayParkedDocument, { service: p.service, id: p.id })}
                      onDone={parked.reload}
                    />
                  ),
              },
            ]}
          />
        </>
      ) : null}
    </section>
  );
}
