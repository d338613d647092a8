/**
 * Traces across the federation (issue 24, item 5). The platform as production runs it — each service
 * and the gateway its own process — with the standard OTEL_* variables pointing at an OTLP/HTTP
 * receiver in this test (`http/json`). One `submitAppeal` and one `blockSubject`, each sent with a
 * `traceparent` of the test's, must each come back as one connected trace: the gateway's span the
 * only child of the test's, every other span's parent among the trace's spans, and in it every
 * process the request reaches — the gateway, the subgraph, its statements, the outbox row's event,
 * the relay's publish and the handling of that event by each service that consumes it, the audit's
 * recording included. Distinctive personal data goes in with both requests, and no span anywhere
 * (nor its resource) holds any of it. Log lines written inside a trace carry its id.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, makeIin } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { graphql } from '../support/client';
import { testEnv } from '../support/env';
import { form, SUBMIT } from '../support/intake';
import { ProcessPlatform } from '../support/platform';

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
}
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
}

/** OTLP/HTTP with the JSON encoding (`/v1/traces`): every span received, and every body as it came. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly bodies: string[] = [];
  private server: Server | null = null;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (req.url === '/v1/traces' && req.method === 'POST') {
          this.bodies.push(text);
          this.take(JSON.parse(text));
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private take(body: {
    resourceSpans?: Array<{
      resource?: { attributes?: OtlpAttribute[] };
      scopeSpans?: Array<{
        spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[] }>;
      }>;
    }>;
  }): void {
    for (const rs of body.resourceSpans ?? []) {
      const resource = attributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            kind: s.kind,
            service: String(resource['service.name']),
            attributes: attributes(s.attributes),
          });
        }
      }
    }
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.boolValue ?? null]));
}

/** A `traceparent` of the test's own: the request's trace id is known before it is sent. */
function traceparent(): { header: string; traceId: string; spanId: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

const PROCESSES = ['gateway', 'subjects', 'appeals', 'consents', 'audit'];

/**
 * Waits until the trace holds `expected` (process → span names) and is connected; returns it. Spans
 * come from five processes in batches, so a parent may arrive after its child: connected in the end.
 */
async function connectedTrace(receiver: OtlpReceiver, root: { traceId: string; spanId: string }, expected: Record<string, string[]>): Promise<ReceivedSpan[]> {
  let problems: string[] = [];
  try {
    return await eventually(
      async () => {
        const spans = receiver.trace(root.traceId);
        const ids = new Set(spans.map((s) => s.spanId));
        problems = [];
        for (const [service, names] of Object.entries(expected)) {
          for (const name of names) if (!spans.some((s) => s.service === service && s.name === name)) problems.push(`no "${name}" span from ${service}`);
        }
        const roots = spans.filter((s) => !ids.has(s.parentSpanId));
        const strays = roots.filter((s) => s.parentSpanId !== root.spanId);
        if (strays.length > 0) problems.push(`spans whose parent is not in the trace: ${strays.map((s) => `${s.service}:${s.name}`).join(', ')}`);
        if (roots.length !== 1 || roots[0]?.service !== 'gateway') problems.push(`${roots.length} spans are children of the caller's`);
        return problems.length === 0 ? spans : null;
      },
      60_000,
      'the connected trace',
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${problems.join('; ')}`);
  }
}

describe('traces across the federation (OpenTelemetry, OTLP)', () => {
  const receiver = new OtlpReceiver();
  let platform: ProcessPlatform;
  // Personal data nobody else sends: each must be found in no span.
  const pd = {
    iin: makeIin('1979-03-21', 'F', 7310),
    phone: '+7 (705) 913-42-86',
    phoneDigits: '7059134286',
    email: 'Trace.Zhuldyz.Q7@example.kz',
    description: 'Коллектор Тлеубердиева звонит соседям — трассировка Q7X',
    reason: 'Нарушение условий обработки: Тлеубердиева Q7X',
  };

  beforeAll(async () => {
    await receiver.start();
    platform = await ProcessPlatform.start({
      provider: testEnv().provider,
      logLevel: 'info',
      env: {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
    });
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
    await receiver.stop();
  }, 60_000);

  test('one submitAppeal and one blockSubject each form a single connected trace across every process; no personal data in any span', async () => {
    const submitTrace = traceparent();
    const submitted = await graphql(
      platform.gatewayUrl,
      SUBMIT,
      { input: form({ iin: pd.iin, phone: pd.phone, email: pd.email, description: pd.description }) },
      { headers: { traceparent: submitTrace.header } },
    );
    expect(submitted.errors).toBeUndefined();
    const appealId = submitted.data.submitAppeal.appeal.id as string;

    const submitSpans = await connectedTrace(receiver, submitTrace, {
      gateway: ['POST /graphql', 'POST appeals'],
      appeals: ['POST /graphql', 'create appeal.submitted', 'publish appeal.submitted', 'process subject.appeal_linked'],
      subjects: ['process appeal.submitted', 'create subject.appeal_linked', 'publish subject.appeal_linked'],
      consents: ['process appeal.submitted', 'process subject.appeal_linked'],
      audit: ['process appeal.submitted', 'process subject.appeal_linked'],
    });
    expect(new Set(submitSpans.map((s) => s.service))).toEqual(new Set(PROCESSES));
    // The statements are there, as text without values: the appeal's INSERT and the audit's record.
    const statements = submitSpans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
    expect(statements.some((s) => s.service === 'appeals' && String(s.attributes['db.query.text']).startsWith('with'))).toBe(true);
    expect(statements.some((s) => s.service === 'audit' && /^insert into "?audit/i.test(String(s.attributes['db.query.text'])))).toBe(true);
    for (const s of statements) expect(String(s.attributes['db.query.text'])).not.toMatch(/'[^']/);

    const subjectId = await eventually(
      async () => (await platform.db('appeals').selectFrom('appeals').select('subject_id').where('id', '=', appealId).executeTakeFirst())?.subject_id ?? null,
      30_000,
      'the appeal linked to its subject',
    );
    const dpo = await platform.tokenFor(['DPO'], { sub: 'dpo-tracing' });
    const blockTrace = traceparent();
    const blocked = await graphql(
      platform.gatewayUrl,
      'mutation($id: ID!, $reason: String!) { blockSubject(subjectId: $id, reason: $reason) { id status } }',
      { id: subjectId, reason: pd.reason },
      { token: dpo, headers: { traceparent: blockTrace.header } },
    );
    expect(blocked.errors).toBeUndefined();
    const blockSpans = await connectedTrace(receiver, blockTrace, {
      gateway: ['POST /graphql', 'POST subjects'],
      subjects: ['POST /graphql', 'create subject.blocked', 'publish subject.blocked', 'process subject.block_applied'],
      appeals: ['process subject.blocked', 'create subject.block_applied'],
      consents: ['process subject.blocked', 'create subject.block_applied'],
      audit: ['process subject.blocked', 'process subject.block_applied'],
    });
    expect(new Set(blockSpans.map((s) => s.service))).toEqual(new Set(PROCESSES));

    // No personal data in any span, attribute or resource of the whole run (the raw bodies searched).
    await new Promise((r) => setTimeout(r, 1000));
    const everything = receiver.bodies.join('\n').toLowerCase();
    const needles = [pd.iin, pd.phone, pd.phoneDigits, pd.email, pd.email.toLowerCase(), 'тлеубердиева', 'трассировка', 'q7x'];
    for (const needle of needles) expect(everything.includes(needle.toLowerCase()), `"${needle}" found in a span`).toBe(false);

    // A log line written inside a trace carries its id: the gateway's line on a refused token.
    const refusedTrace = traceparent();
    const refused = await graphql(platform.gatewayUrl, '{ __typename }', {}, { token: 'not-a-token', headers: { traceparent: refusedTrace.header } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await eventually(
      async () =>
        platform
          .log('gateway')
          .split('\n')
          .some((line) => line.includes('authentication failed') && line.includes(`"trace_id":"${refusedTrace.traceId}"`)),
      10_000,
      'the log line with the trace id',
    );
    // The refusal goes to the audit straight from the gateway (no outbox): its recording is in the trace too.
    await connectedTrace(receiver, refusedTrace, { gateway: ['POST /graphql', 'publish request.refused'], audit: ['process request.refused'] });
  }, 180_000);
});
