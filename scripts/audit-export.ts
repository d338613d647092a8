/**
 * `npm run audit:export -- --url <gateway>/graphql --token <AUDITOR JWT> --out FILE`
 *
 * Writes the whole audit log as NDJSON for offline verification (services/audit/src/domain/export.ts):
 * a header, every entry in seq order with each signed checkpoint after the entry it covers — those of
 * the audit's database and the newest one it published outside it (`auditWitness`, marked
 * `witnessed`) — and last a checkpoint of the head the audit wrote, made for this export. When the
 * audit refuses to sign its database's head (AUDIT_TAMPERED: entries it did not write), the export
 * goes to the end of the log without that checkpoint, and `npm run audit:verify` names the first bad
 * entry. The token may also come from AUDIT_TOKEN (a command line is visible to other users of the
 * machine). Exit 0: exported; 1: exported, but the audit refused to sign its head; 2: not exported.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { EXPORT_FORMAT, EXPORT_VERSION } from '../services/audit/src/domain/export';

const { values } = parseArgs({ options: { url: { type: 'string' }, token: { type: 'string' }, out: { type: 'string' } } });
const url = values.url;
const token = values.token ?? process.env.AUDIT_TOKEN;
if (!url || !token || !values.out) {
  console.error('usage: npm run audit:export -- --url <gateway>/graphql --token <AUDITOR JWT> --out FILE   (or AUDIT_TOKEN=…)');
  process.exit(2);
}

const ENTRY = `seq hashVersion eventId type operation outcome source actorId actorRoles creditorId purpose subjectId correlationId
  clientKey resource resourceIds fields occurredAt recordedAt details prevHash hash`;
const CHECKPOINT = 'seq hash signedAt keyId signature origin';
/** Entries and checkpoints per request: the most the audit gives in one page. */
const PAGE = 1000;

interface Checkpoint {
  seq: string;
  hash: string;
  signedAt: string;
  keyId: string;
  signature: string;
  origin: string;
}

class Refused extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extensions: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** One GraphQL call; a rate limit (429) is waited out as Retry-After says, since a long export makes many. */
async function call<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let res: Response;
  for (;;) {
    res = await fetch(url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    if (res.status !== 429) break;
    await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 5)));
  }
  const body = (await res.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } & Record<string, unknown> }> };
  if (body.errors?.length || !body.data) {
    const e = body.errors?.[0];
    throw new Refused(
      e?.extensions?.code ?? String(res.status),
      `the gateway refused: ${e?.extensions?.code ?? res.status} ${e?.message ?? ''}`,
      e?.extensions ?? {},
    );
  }
  return body.data;
}

/**
 * A checkpoint of the head the audit wrote, now; null when it refuses, because its database's head
 * is not that one (the export then goes to the end of the log, for the verifier to name where).
 */
async function headCheckpoint(): Promise<{ head: Checkpoint | null; refused: Record<string, unknown> | null }> {
  try {
    const { checkpointAudit: head } = await call<{ checkpointAudit: Checkpoint | null }>(`mutation { checkpointAudit { ${CHECKPOINT} } }`);
    if (!head) throw new Error('the audit log is empty');
    return { head, refused: null };
  } catch (err) {
    if (err instanceof Refused && err.code === 'CONFLICT' && err.extensions.reason === 'AUDIT_TAMPERED') return { head: null, refused: err.extensions };
    throw err;
  }
}

const same = (a: Checkpoint, b: Checkpoint) => a.seq === b.seq && a.hash === b.hash && a.signature === b.signature;

async function main(): Promise<void> {
  // A checkpoint of the head now: the export ends with it, so every entry in it is covered by a signature.
  const { head, refused } = await headCheckpoint();
  const { auditWitness: witness } = await call<{ auditWitness: Checkpoint | null }>(`{ auditWitness { ${CHECKPOINT} } }`);
  const { auditKeys } = await call<{ auditKeys: Array<{ keyId: string; algorithm: string; publicKeyPem: string }> }>(
    '{ auditKeys { keyId algorithm publicKeyPem } }',
  );
  // The end: that checkpoint, or a newer one already witnessed; every entry when the audit refused.
  const end = head && witness && BigInt(witness.seq) > BigInt(head.seq) ? witness : head;
  const through = end ? BigInt(end.seq) : null;

  const checkpoints: Array<Checkpoint & { witnessed?: true }> = [];
  for (let after = '0'; ; ) {
    const { auditCheckpoints: page } = await call<{ auditCheckpoints: Checkpoint[] }>(
      `query($after: ID, $first: Int) { auditCheckpoints(afterSeq: $after, first: $first) { ${CHECKPOINT} } }`,
      { after, first: PAGE },
    );
    checkpoints.push(...page.filter((c) => through === null || BigInt(c.seq) <= through));
    if (page.length < PAGE || (through !== null && BigInt(page.at(-1)!.seq) >= through)) break;
    after = page.at(-1)!.seq;
  }
  for (const extra of [end, witness]) {
    if (!extra || (through !== null && BigInt(extra.seq) > through)) continue;
    const stored = checkpoints.find((c) => same(c, extra));
    if (!stored) checkpoints.push(extra);
    if (extra === witness) Object.assign(stored ?? checkpoints.at(-1)!, { witnessed: true as const });
  }
  checkpoints.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0));

  const out = createWriteStream(values.out!);
  const write = async (line: unknown) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  };
  const origin = end?.origin ?? witness?.origin ?? checkpoints[0]?.origin ?? '';
  await write({
    kind: 'header',
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    origin,
    exportedAt: new Date().toISOString(),
    throughSeq: end?.seq ?? null,
    keys: auditKeys,
  });
  let entries = 0;
  let next = 0;
  for (let after: string | null = null; ; ) {
    const {
      auditEntries: page,
    }: {
      auditEntries: {
        edges: Array<{ node: Record<string, unknown> & { seq: string; details: string } }>;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    } = await call(
      `query($after: String, $first: Int) { auditEntries(first: $first, after: $after) { edges { node { ${ENTRY} } } pageInfo { hasNextPage endCursor } } }`,
      {
        after,
        first: PAGE,
      },
    );
    let done = false;
    for (const { node } of page.edges) {
      if (through !== null && BigInt(node.seq) > through) {
        done = true;
        break;
      }
      await write({ kind: 'entry', ...node, details: JSON.parse(node.details) });
      entries += 1;
      while (checkpoints[next] && BigInt(checkpoints[next]!.seq) <= BigInt(node.seq)) await write({ kind: 'checkpoint', ...checkpoints[next++] });
    }
    if (done || !page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  // Checkpoints beyond the last entry (the audit's own head, where the database was cut back).
  while (checkpoints[next]) await write({ kind: 'checkpoint', ...checkpoints[next++] });
  out.end();
  await once(out, 'finish');
  console.error(`exported ${entries} entries and ${next} checkpoints${end ? ` through entry ${end.seq}` : ''} to ${values.out}`);
  console.error(
    witness
      ? `newest checkpoint witnessed outside the audit's database: entry ${witness.seq}`
      : "no checkpoint witnessed outside the audit's database (the event stream holds none)",
  );
  if (end) {
    console.error(`head ${end.hash}, signed ${end.signedAt} with key ${end.keyId} (origin ${end.origin}); keep this line to check later exports against`);
    return;
  }
  console.error(
    `the audit refused to sign its head (AUDIT_TAMPERED, ${String(refused?.finding ?? '')} at entry ${String(refused?.firstInvalidSeq ?? '?')}): its database holds entries it did not write; the export goes to the end of the log — npm run audit:verify names the first bad entry`,
  );
  process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
