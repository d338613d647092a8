/**
 * `npm run audit:export -- --url <gateway>/graphql --token <AUDITOR JWT> --out FILE`
 *
 * Writes the whole audit log as NDJSON for offline verification (services/audit/src/domain/export.ts):
 * a header, every entry in seq order with each signed checkpoint after the entry it covers, and last
 * a checkpoint of the head made for this export. The token may also come from AUDIT_TOKEN (a command
 * line is visible to other users of the machine). Check the file with `npm run audit:verify`.
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
  const body = (await res.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (body.errors?.length || !body.data) {
    const e = body.errors?.[0];
    throw new Error(`the gateway refused: ${e?.extensions?.code ?? res.status} ${e?.message ?? ''}`);
  }
  return body.data;
}

async function main(): Promise<void> {
  // A checkpoint of the head now: the export ends with it, so every entry in it is covered by a signature.
  const { checkpointAudit: head } = await call<{ checkpointAudit: Checkpoint | null }>(`mutation { checkpointAudit { ${CHECKPOINT} } }`);
  if (!head) throw new Error('the audit log is empty');
  const { auditKeys } = await call<{ auditKeys: Array<{ keyId: string; algorithm: string; publicKeyPem: string }> }>('{ auditKeys { keyId algorithm publicKeyPem } }');

  const checkpoints: Checkpoint[] = [];
  for (let after = '0'; ; ) {
    const { auditCheckpoints: page } = await call<{ auditCheckpoints: Checkpoint[] }>(
      `query($after: ID, $first: Int) { auditCheckpoints(afterSeq: $after, first: $first) { ${CHECKPOINT} } }`,
      { after, first: PAGE },
    );
    checkpoints.push(...page.filter((c) => BigInt(c.seq) <= BigInt(head.seq)));
    if (page.length < PAGE || BigInt(page.at(-1)!.seq) >= BigInt(head.seq)) break;
    after = page.at(-1)!.seq;
  }

  const out = createWriteStream(values.out!);
  const write = async (line: unknown) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  };
  await write({ kind: 'header', format: EXPORT_FORMAT, version: EXPORT_VERSION, origin: head.origin, exportedAt: new Date().toISOString(), throughSeq: head.seq, keys: auditKeys });
  let entries = 0;
  let next = 0;
  for (let after: string | null = null; ; ) {
    const { auditEntries: page }: { auditEntries: { edges: Array<{ node: Record<string, unknown> & { seq: string; details: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } =
      await call(`query($after: String, $first: Int) { auditEntries(first: $first, after: $after) { edges { node { ${ENTRY} } } pageInfo { hasNextPage endCursor } } }`, {
        after,
        first: PAGE,
      });
    let done = false;
    for (const { node } of page.edges) {
      if (BigInt(node.seq) > BigInt(head.seq)) {
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
  out.end();
  await once(out, 'finish');
  console.error(`exported ${entries} entries and ${next} checkpoints through entry ${head.seq} to ${values.out}`);
  console.error(`head ${head.hash}, signed ${head.signedAt} with key ${head.keyId} (origin ${head.origin}); keep this line to check later exports against`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
