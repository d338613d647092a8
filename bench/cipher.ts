/**
 * bench/cipher: what field encryption costs — one field opened on the read path, in format v2 (bound to
 * its row: associated data, a 16-byte tag enforced) next to the v1 decryption as it was before (no
 * associated data, any tag length), alternating in the same process; and the re-encryption job's rate
 * on a table of v1 rows (two values each) in a fresh database, batches of 200 as the services run it,
 * next to the same values opened and sealed again in the process alone (the cryptography without
 * the database).
 * `npm run bench -- cipher [rows]` (default 50 000; about 20 s).
 */
import { createDecipheriv, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createDb, createLogger, ensureDatabase, FieldCipher, FieldReencryption, randomKeySpec } from '@pdp/shared';
import { legacyCiphertext } from '@pdp/shared/testing';

interface Db {
  things: { id: string; phone_enc: string | null; description_enc: string | null };
}

/** A description of the length the forms get most. */
const TEXT = 'Коллектор звонит по ночам, угрожает родственникам и требует погасить долг. Прошу проверить.';
/** Many short rounds, each timing both: the ratio of each round's pair is robust to a load that drifts. */
const ROUNDS = 60;
const PER_ROUND = 5_000;

/** The v1 decryption as `FieldCipher.decrypt` was before format v2. */
function v1Decrypt(key: Buffer, sealed: string): string {
  const [, , iv, tag, body] = sealed.split('.');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body!, 'base64url')), decipher.final()]).toString('utf8');
}

function perField(spec: string) {
  const key = Buffer.from(spec.split(':')[1]!, 'base64');
  const cipher = new FieldCipher<Db>('appeals', spec);
  const at = { table: 'things', column: 'description_enc', id: randomUUID() } as const;
  const v1 = legacyCiphertext(spec, TEXT);
  const v2 = cipher.encrypt(TEXT, at);
  const runs = { v1: [] as number[], v2: [] as number[], ratio: [] as number[] };
  const time = (open: () => string) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < PER_ROUND; i += 1) if (open() !== TEXT) throw new Error('opened to something else');
    return Number(process.hrtime.bigint() - t) / PER_ROUND;
  };
  for (let round = 0; round < ROUNDS; round += 1) {
    // Alternating, so a change of the machine's load falls on both alike; the first round warms up.
    const [first, second] = round % 2 ? (['v2', 'v1'] as const) : (['v1', 'v2'] as const);
    const ns = { v1: 0, v2: 0 };
    for (const which of [first, second]) ns[which] = time(which === 'v1' ? () => v1Decrypt(key, v1) : () => cipher.decrypt(v2, at));
    if (round < 2) continue;
    runs.v1.push(ns.v1);
    runs.v2.push(ns.v2);
    runs.ratio.push(ns.v2 / ns.v1);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const v1Ns = Math.round(median(runs.v1));
  const v2Ns = Math.round(median(runs.v2));
  return { v1Ns, v2Ns, ratio: Number(median(runs.ratio).toFixed(2)), addedNs: v2Ns - v1Ns };
}

async function reencryption(spec: string, rows: number) {
  const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `bench_cipher_${Date.now().toString(36)}`;
  const db = createDb<Db>(await ensureDatabase(serverUrl, name), 4);
  try {
    await sql`create table things (id uuid primary key, phone_enc text, description_enc text)`.execute(db);
    // As the services' migrations make it.
    await sql`create table field_encryption (table_name text primary key, key_id text, completed_at timestamptz, legacy_retired_at timestamptz,
              pending bigint not null default 0, unreadable bigint not null default 0, updated_at timestamptz not null default now())`.execute(db);
    for (let lo = 0; lo < rows; lo += 5000) {
      const n = Math.min(5000, rows - lo);
      await db
        .insertInto('things')
        .values(
          Array.from({ length: n }, (_, i) => ({
            id: randomUUID(),
            phone_enc: legacyCiphertext(spec, `+7701${String(lo + i).padStart(7, '0')}`),
            description_enc: legacyCiphertext(spec, TEXT),
          })),
        )
        .execute();
    }
    await sql`vacuum (analyze) things`.execute(db);
    const cipher = new FieldCipher<Db>('appeals', spec, { legacyTables: ['things'] });
    const job = new FieldReencryption<Db>({
      service: 'appeals',
      db,
      cipher,
      columns: { things: { phone_enc: true, description_enc: true } },
      logger: createLogger('bench', 'warn'),
    });
    const sample = (await db.selectFrom('things').select(['id', 'phone_enc', 'description_enc']).limit(5000).execute()).flatMap((r) => [
      { value: r.phone_enc!, at: { table: 'things', column: 'phone_enc', id: r.id } as const },
      { value: r.description_enc!, at: { table: 'things', column: 'description_enc', id: r.id } as const },
    ]);
    const c0 = performance.now();
    for (const { value, at } of sample) cipher.reencrypt(value, at);
    const alone = sample.length / ((performance.now() - c0) / 1000);
    const t0 = performance.now();
    const [outcome] = await job.run();
    const seconds = (performance.now() - t0) / 1000;
    if (!outcome?.completed || outcome.reencrypted !== rows) throw new Error(`re-encryption incomplete: ${JSON.stringify(outcome)}`);
    const valuesPerSecond = Math.round((2 * rows) / seconds);
    return {
      rows,
      seconds: Number(seconds.toFixed(2)),
      rowsPerSecond: Math.round(rows / seconds),
      valuesPerSecond,
      cryptoAloneValuesPerSecond: Math.round(alone),
      ratio: Number((valuesPerSecond / alone).toFixed(2)),
    };
  } finally {
    await db.destroy();
    const admin = createDb<unknown>(serverUrl, 1);
    await sql`drop database if exists ${sql.id(name)}`.execute(admin);
    await admin.destroy();
  }
}

export async function cipherBench(rows: number) {
  const spec = randomKeySpec('k1');
  const field = perField(spec);
  console.error(`cipher: one field opened, v1 ${field.v1Ns} ns, v2 ${field.v2Ns} ns`);
  const job = await reencryption(spec, rows);
  console.error(`cipher: ${rows} rows re-encrypted in ${job.seconds} s`);
  return { perField: field, reencryption: job };
}
