import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ChainVerifier, checkpointSignatureValid, type Checkpoint, type ChainEntry } from './chain';

/**
 * The offline export of the audit (`npm run audit:export`): NDJSON, one object per line —
 * a header, then the entries in seq order with each checkpoint right after the entry it covers, and
 * last a checkpoint covering the last entry. Checkpoints come from the audit's database and from its
 * witness outside it (the newest one the audit published on the event stream, `witnessed: true`),
 * so a rewrite of the database alone contradicts a signed checkpoint in the file. When the audit
 * refused to sign its head (entries in its database it did not write), the export goes to the end of
 * the log without a last checkpoint (`throughSeq: null`), and the verifier names the first entry no
 * checkpoint covers. `verifyExport` needs nothing but the lines and the public key(s): no network, no
 * database, no project secret (`npm run audit:verify`).
 */
export const EXPORT_FORMAT = 'pdp-audit-export';
export const EXPORT_VERSION = 1;

const seq = z.string().regex(/^[1-9]\d{0,18}$/);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const instant = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

export const headerLine = z.object({
  kind: z.literal('header'),
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  origin: z.string(),
  exportedAt: z.string(),
  /** The entry the export goes to, covered by its last checkpoint; null when the audit refused to sign its head. */
  throughSeq: seq.nullable(),
  /** The checkpoint keys the audit listed (for people; the verifier trusts only the keys it is given). */
  keys: z.array(z.object({ keyId: z.string(), algorithm: z.string(), publicKeyPem: z.string() })),
});

export const entryLine = z.object({
  kind: z.literal('entry'),
  seq,
  hashVersion: z.number().int(),
  eventId: z.string(),
  type: z.string(),
  operation: z.string(),
  outcome: z.enum(['ALLOWED', 'DENIED']),
  source: z.string(),
  actorId: z.string(),
  actorRoles: z.array(z.string()),
  creditorId: z.string().nullable(),
  purpose: z.string().nullable(),
  subjectId: z.string().nullable(),
  correlationId: z.string().nullable(),
  clientKey: z.string().nullable(),
  resource: z.string().nullable(),
  resourceIds: z.array(z.string()),
  fields: z.array(z.string()),
  occurredAt: instant,
  recordedAt: instant,
  details: z.unknown(),
  prevHash: hex64,
  hash: hex64,
});

export const checkpointLine = z.object({
  kind: z.literal('checkpoint'),
  origin: z.string(),
  seq,
  hash: hex64,
  signedAt: instant,
  keyId: z.string(),
  signature: z.string(),
  /** Read from the audit's witness outside its database (the event stream), not only from the database. */
  witnessed: z.boolean().optional(),
});

export type ExportHeader = z.infer<typeof headerLine>;

export function entryOf(line: z.infer<typeof entryLine>): ChainEntry {
  const { kind: _, ...entry } = line;
  return entry as ChainEntry;
}

export function checkpointOf(line: z.infer<typeof checkpointLine>): Checkpoint {
  const { kind: _, witnessed: __, ...cp } = line;
  return cp;
}

export type ExportVerdict =
  | { intact: true; entries: number; checkpoints: number; through: Checkpoint; origin: string; witnessed: Checkpoint | null }
  | { intact: false; line: number | null; seq: string | null; reason: string; message: string };

export interface VerifyExportOptions {
  /** Public keys given to the verifier; a checkpoint must verify with one of them. */
  keys: readonly KeyObject[];
  /** The last checkpoint of an earlier export: this one must contain the same entry there. */
  previous?: Checkpoint | null;
}

/** Reads lines twice (checkpoints first, then entries in order), so it never holds the whole file. */
export type LineSource = () => AsyncIterable<string>;

const bad = (line: number | null, s: string | null, reason: string, message: string): ExportVerdict => ({ intact: false, line, seq: s, reason, message });

export async function verifyExport(read: LineSource, opts: VerifyExportOptions): Promise<ExportVerdict> {
  // Pass 1: header and checkpoints, and what the last line is.
  let header: ExportHeader | null = null;
  const checkpoints: Checkpoint[] = [];
  let witnessed: Checkpoint | null = null;
  let lastEntry: string | null = null;
  // Seqs of the entries present: a "missing" one that is in the file was moved, not removed.
  const present = new Set<string>();
  let n = 0;
  for await (const text of read()) {
    n += 1;
    if (text.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return bad(n, null, 'MALFORMED', `line ${n} is not JSON`);
    }
    const kind = (raw as { kind?: unknown })?.kind;
    if (n === 1) {
      const parsed = headerLine.safeParse(raw);
      if (!parsed.success) return bad(1, null, 'MALFORMED', 'line 1 is not the header of an audit export');
      header = parsed.data;
      continue;
    }
    if (kind === 'checkpoint') {
      const parsed = checkpointLine.safeParse(raw);
      if (!parsed.success) return bad(n, null, 'MALFORMED', `line ${n} is not a checkpoint`);
      const cp = checkpointOf(parsed.data);
      checkpoints.push(cp);
      if (parsed.data.witnessed && (!witnessed || BigInt(cp.seq) > BigInt(witnessed.seq))) witnessed = cp;
    } else if (kind === 'entry') {
      const s = (raw as { seq?: unknown }).seq;
      lastEntry = typeof s === 'string' ? s : '?';
      if (typeof s === 'string') present.add(s);
    } else {
      return bad(n, null, 'MALFORMED', `line ${n} is neither an entry nor a checkpoint`);
    }
  }
  if (!header) return bad(null, null, 'MALFORMED', 'the file is empty');
  if (!lastEntry) return bad(null, null, 'MALFORMED', 'the export holds no entries');
  if (!/^\d+$/.test(lastEntry)) return bad(null, lastEntry, 'MALFORMED', 'the last entry has no seq');
  const end = BigInt(lastEntry);

  // The first entry's predecessor must be a signed checkpoint in the file (a partial export), or there is none.
  const keysFor = () => opts.keys;
  const origin = header.origin;
  let anchor: Checkpoint | null = null;
  let verifier: ChainVerifier | null = null;
  let entries = 0;
  n = 0;
  for await (const text of read()) {
    n += 1;
    if (n === 1 || text.trim() === '') continue;
    const raw = JSON.parse(text) as { kind?: string };
    if (raw.kind !== 'entry') continue;
    const parsed = entryLine.safeParse(raw);
    if (!parsed.success) return bad(n, (raw as { seq?: string }).seq ?? null, 'MALFORMED', `line ${n} is not an audit entry`);
    const entry = entryOf(parsed.data);
    if (!verifier) {
      if (entry.seq !== '1') {
        anchor = checkpoints.find((c) => BigInt(c.seq) === BigInt(entry.seq) - 1n) ?? null;
        if (!anchor || !opts.keys.some((k) => checkpointSignatureValid(anchor!, k))) {
          // Named by the entry before it: missing (a whole export that lost its first entries) or unanchored (a partial one).
          return bad(
            n,
            String(BigInt(entry.seq) - 1n),
            'SEQ_GAP',
            `the export starts at entry ${entry.seq} without a signed checkpoint of entry ${BigInt(entry.seq) - 1n}`,
          );
        }
      }
      verifier = new ChainVerifier(checkpoints, { keysFor, origin, anchor: anchor ? { seq: anchor.seq, hash: anchor.hash } : null });
    }
    entries += 1;
    if (!verifier.add(entry)) break;
  }
  const finding = verifier?.finish() ?? null;
  if (finding?.reason === 'SEQ_GAP' && present.has(finding.seq)) {
    return bad(null, finding.seq, 'OUT_OF_ORDER', `entry ${finding.seq} is not where it belongs: entries were reordered`);
  }
  if (finding) return bad(null, finding.seq, finding.reason, finding.detail);
  const through = checkpoints.filter((c) => BigInt(c.seq) === end).at(-1);
  if (!through) return uncovered(header, end, checkpoints);
  if (header.throughSeq === null || BigInt(header.throughSeq) !== end) {
    return bad(
      null,
      String(end + 1n),
      'TRUNCATED',
      `the export says it goes to entry ${header.throughSeq ?? 'the end of the log'}, but it ends at ${end}: cut off`,
    );
  }
  if (opts.previous) {
    const p = opts.previous;
    if (BigInt(p.seq) > BigInt(through.seq)) {
      return bad(
        null,
        String(BigInt(through.seq) + 1n),
        'TRUNCATED',
        `the previous export went to entry ${p.seq}; this one ends at ${through.seq}: cut off since`,
      );
    }
    const same = await hashAt(read, p.seq);
    if (same !== null && same !== p.hash)
      return bad(null, p.seq, 'CHECKPOINT_MISMATCH', `entry ${p.seq} differs from the previous export's checkpoint: the log was rewritten since`);
  }
  return { intact: true, entries, checkpoints: checkpoints.length, through, origin, witnessed };
}

/**
 * The last entries are covered by no checkpoint: the file was cut (it ends before the entry its
 * header names), or the audit never signed them — it signs only heads it wrote, so entries it did
 * not write stay unsigned, and the first of them is the first bad entry.
 */
function uncovered(header: ExportHeader, end: bigint, checkpoints: Checkpoint[]): ExportVerdict {
  if (header.throughSeq !== null && BigInt(header.throughSeq) > end) {
    return bad(null, String(end + 1n), 'TRUNCATED', `the export does not end with a checkpoint: cut off after entry ${end}`);
  }
  const signed = checkpoints.reduce((max, c) => (BigInt(c.seq) < end && BigInt(c.seq) > max ? BigInt(c.seq) : max), 0n);
  return bad(
    null,
    String(signed + 1n),
    'UNSIGNED',
    `entries ${signed + 1n}…${end} are covered by no checkpoint: the audit did not sign them (it signs only what it wrote)`,
  );
}

async function hashAt(read: LineSource, wanted: string): Promise<string | null> {
  for await (const text of read()) {
    if (!text.includes('"kind":"entry"') || !text.includes(`"seq":"${wanted}"`)) continue;
    const parsed = entryLine.safeParse(JSON.parse(text));
    if (parsed.success && parsed.data.seq === wanted) return parsed.data.hash;
  }
  return null;
}
