/**
 * `npm run audit:verify -- FILE --public-key PEMFILE [--public-key OLDER.pem] [--previous EARLIER-EXPORT]`
 *
 * Verifies an audit export offline: no network, no database, no project secret — only the file and
 * the audit's public checkpoint key(s) (a PEM file may hold several; give the retired ones too after
 * a rotation). Every entry's hash and link, gap-free seqs, every checkpoint's signature — those from
 * the audit's database and the one witnessed outside it alike —, and that a checkpoint covers the
 * last entry (entries no checkpoint covers were not written by the audit: it signs only its own
 * heads). With --previous, also that the log was not rewritten or cut since that export. Exit 0:
 * intact; 1: tampered (the first bad entry is named); 2: the command itself could not run.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { verifyExport, type LineSource } from '../services/audit/src/domain/export';
import type { Checkpoint } from '../services/audit/src/domain/chain';

function usage(message: string): never {
  console.error(`${message}\nusage: npm run audit:verify -- FILE --public-key PEMFILE [--public-key PEMFILE…] [--previous EARLIER-EXPORT]`);
  process.exit(2);
}

function publicKeys(files: string[]): KeyObject[] {
  const keys: KeyObject[] = [];
  for (const file of files) {
    const blocks = readFileSync(file, 'utf8').match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
    if (blocks.length === 0) usage(`${file}: no PEM public key in it`);
    for (const pem of blocks) {
      const key = createPublicKey(pem);
      if (key.asymmetricKeyType !== 'ed25519') usage(`${file}: an Ed25519 public key is required, not ${key.asymmetricKeyType}`);
      keys.push(key);
    }
  }
  return keys;
}

const lines =
  (file: string): LineSource =>
  () =>
    createInterface({ input: createReadStream(file), crlfDelay: Infinity });

async function lastCheckpoint(file: string): Promise<Checkpoint | null> {
  let last: Checkpoint | null = null;
  for await (const text of lines(file)()) {
    if (text.includes('"kind":"checkpoint"')) {
      const { kind: _, witnessed: __, ...cp } = JSON.parse(text) as Checkpoint & { kind: string; witnessed?: boolean };
      last = cp;
    }
  }
  return last;
}

async function main(): Promise<void> {
  let parsed: ReturnType<
    typeof parseArgs<{ allowPositionals: true; options: { 'public-key': { type: 'string'; multiple: true }; previous: { type: 'string' } } }>
  >;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { 'public-key': { type: 'string', multiple: true }, previous: { type: 'string' } } });
  } catch (err) {
    usage((err as Error).message);
  }
  const [file] = parsed.positionals;
  const keyFiles = parsed.values['public-key'] ?? [];
  if (!file) usage('no export file given');
  if (keyFiles.length === 0) usage('no --public-key given');
  const verdict = await verifyExport(lines(file), {
    keys: publicKeys(keyFiles),
    previous: parsed.values.previous ? await lastCheckpoint(parsed.values.previous) : null,
  });
  if (verdict.intact) {
    console.log(
      `intact: ${verdict.entries} entries, ${verdict.checkpoints} signed checkpoints, through entry ${verdict.through.seq} (signed ${verdict.through.signedAt} with key ${verdict.through.keyId}, origin ${verdict.origin})`,
    );
    console.log(
      verdict.witnessed
        ? `witnessed outside the audit's database: the checkpoint of entry ${verdict.witnessed.seq} (signed ${verdict.witnessed.signedAt})`
        : "no checkpoint in the file was witnessed outside the audit's database",
    );
    process.exit(0);
  }
  const where = verdict.seq ? `entry ${verdict.seq}` : verdict.line ? `line ${verdict.line}` : 'the file';
  console.log(`TAMPERED at ${where} (${verdict.reason}): ${verdict.message}`);
  process.exit(1);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
});
