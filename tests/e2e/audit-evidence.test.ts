import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Role } from '@pdp/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash, type ChainEntry } from '../../services/audit/src/domain/chain';
import { quiescent, runAuditScript as run } from '../support/audit';
import { graphql } from '../support/client';
import { startSystem } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import type { System } from '../support/system';

type Line = { kind: string; seq?: string } & Record<string, unknown>;
const readLines = (file: string): Line[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
const writeLines = (file: string, lines: Line[]) => writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);

describe('the audit as evidence', () => {
  let system: System;
  let dir: string;
  const as = (role: Role, sub: string) => system.tokenFor([role], { sub });

  beforeAll(async () => {
    system = await startSystem({ audit: { checkpointEvery: 10 }, gateway: { limits: { actorRatePerMinute: 20 } } });
    dir = mkdtempSync(join(tmpdir(), 'pdp-audit-'));
  });
  afterAll(async () => {
    await system.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every refusal at the gateway is an entry: no token, a bad token, a rate limit, bad input — without token, address or query', async () => {
    const badToken = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2VjcmV0LXRoYXQtaXMtd3Jvbmc';
    for (let i = 0; i < 6; i += 1) {
      expect((await graphql(system.url, '{ consentTemplate(code: "ANNEX2_APPLICANT", locale: RU) { code } }', {}, { token: badToken })).status).toBe(401);
    }
    const operator = await as('OPERATOR', 'op-rate');
    const codes: string[] = [];
    for (let i = 0; i < 21; i += 1) {
      const res = await graphql(system.url, '{ consentTemplate(code: "ANNEX2_APPLICANT", locale: RU) { code } }', {}, { token: operator });
      if (res.errors) codes.push(res.errors[0]!.extensions!.code);
    }
    expect(codes).toEqual(['RATE_LIMITED']);
    const dpo = await as('DPO', 'dpo-typo');
    // Bad input is answered and stored nowhere; a query over the limits is a refused attempt.
    const missing = await graphql(system.url, 'query($id: ID!) { subject(id: $id) { id } }', {}, { token: dpo });
    expect(missing.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: consentTemplate(code: "ANNEX2_APPLICANT", locale: RU) { code }`).join(' ');
    expect((await graphql(system.url, `{ ${aliases} }`, {}, { token: dpo })).errors?.[0]?.extensions?.code).toBe('ALIAS_LIMIT');
    await quiescent(system);

    const refused = await system.db('audit').selectFrom('audit_log').selectAll().where('event_type', '=', 'request.refused').orderBy('seq').execute();
    expect(refused.map((r) => [r.actor_id, r.operation, r.outcome, r.source, (r.details as { codes: string[] }).codes.join()])).toEqual([
      ...Array.from({ length: 6 }, () => ['unauthenticated', 'DENIED', 'DENIED', 'gateway', 'UNAUTHENTICATED']),
      ['op-rate', 'DENIED', 'DENIED', 'gateway', 'RATE_LIMITED'],
      ['dpo-typo', 'DENIED', 'DENIED', 'gateway', 'ALIAS_LIMIT'],
    ]);
    expect(refused[6]).toMatchObject({
      actor_roles: ['OPERATOR'],
      purpose: 'APPEAL_HANDLING',
      fields: ['consentTemplate'],
      details: { status: 429, count: 1 },
    });
    expect(refused[7]).toMatchObject({ actor_roles: ['DPO'], fields: [], details: { status: 400, count: 1 } });
    // The same client, told apart by a keyed hash of its address; no address, token or query kept.
    expect(new Set(refused.map((r) => r.client_key)).size).toBe(1);
    expect(refused[0]!.client_key).toMatch(/^[0-9a-f]{32}$/);
    const stored = JSON.stringify(refused);
    for (const secret of ['127.0.0.1', badToken, 'consentTemplate(code', 'mallory']) expect(stored).not.toContain(secret);
    expect(new Set(refused.map((r) => r.correlation_id)).size).toBe(8);

    // Six failed logins from one client within minutes are an incident, with them as evidence.
    const incidents = await graphql(system.url, '{ incidents { rule actorId status notifyBy evidence } }', {}, { token: await as('DPO', 'dpo-1') });
    const repeated = incidents.data.incidents.find((i: { rule: string }) => i.rule === 'REPEATED_DENIALS');
    expect(repeated).toMatchObject({ actorId: 'unauthenticated', status: 'OPEN' });
    expect(repeated.evidence).toEqual(refused.slice(0, 6).map((r) => r.seq));
  });

  it('exported, the log verifies offline with only the public key; each kind of tampering is named', async () => {
    const { subjectId } = await intakeSubject(system);
    const dpo = await as('DPO', 'dpo-export');
    for (let i = 0; i < 12; i += 1) await graphql(system.url, 'query($id: ID!) { subject(id: $id) { id status } }', { id: subjectId }, { token: dpo });
    await quiescent(system);

    const file = join(dir, 'audit.ndjson');
    const exported = await run('audit-export', ['--url', system.url, '--out', file], { AUDIT_TOKEN: await as('AUDITOR', 'auditor-export') });
    expect(exported.out).toMatch(/exported \d+ entries/);
    expect(exported.code).toBe(0);
    const pem = join(dir, 'audit.pem');
    writeFileSync(pem, system.auditKey.publicKeyPem);

    const lines = readLines(file);
    expect(lines[0]).toMatchObject({ kind: 'header', format: 'pdp-audit-export', origin: `pdp.audit/${system.prefix}` });
    const entries = lines.filter((l) => l.kind === 'entry');
    expect(lines.at(-1)).toMatchObject({ kind: 'checkpoint', seq: entries.at(-1)!.seq });
    expect(entries.length).toBeGreaterThan(20);

    const variant = (name: string, change: (l: Line[]) => Line[]) => {
      const path = join(dir, `${name}.ndjson`);
      writeLines(path, change(structuredClone(lines)));
      return path;
    };
    const at = (l: Line[], seq: string) => l.findIndex((x) => x.kind === 'entry' && x.seq === seq);
    const otherKey = join(dir, 'other.pem');
    writeFileSync(otherKey, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }));

    const cases: Array<[string, string[], number, RegExp]> = [
      ['intact', [file, '--public-key', pem], 0, /^intact: \d+ entries, \d+ signed checkpoints, through entry \d+/],
      ['edited', [variant('edited', (l) => ((l[at(l, '5')]!.actorId = 'someone-else'), l)), '--public-key', pem], 1, /TAMPERED at entry 5 \(HASH_MISMATCH\)/],
      ['removed', [variant('removed', (l) => l.filter((_, i) => i !== at(l, '6'))), '--public-key', pem], 1, /TAMPERED at entry 6 \(SEQ_GAP\)/],
      [
        'reordered',
        [
          variant('reordered', (l) => {
            const [a, b] = [at(l, '7'), at(l, '8')];
            [l[a], l[b]] = [l[b]!, l[a]!];
            return l;
          }),
          '--public-key',
          pem,
        ],
        1,
        /TAMPERED at entry 7 \(OUT_OF_ORDER\)/,
      ],
      // The first bad entry named is the first one missing.
      [
        'cut',
        [variant('cut', (l) => l.slice(0, -3)), '--public-key', pem],
        1,
        new RegExp(
          `TAMPERED at entry ${
            Number(
              lines
                .slice(0, -3)
                .filter((x) => x.kind === 'entry')
                .at(-1)!.seq,
            ) + 1
          } \\(TRUNCATED\\)`,
        ),
      ],
      ['first removed', [variant('first-removed', (l) => l.filter((_, i) => i !== at(l, '1'))), '--public-key', pem], 1, /TAMPERED at entry 1 \(SEQ_GAP\)/],
      [
        'cut-at-checkpoint',
        [variant('cut-at-checkpoint', (l) => l.slice(0, l.findIndex((x) => x.kind === 'checkpoint' && x.seq === '20') + 1)), '--public-key', pem],
        1,
        /TAMPERED at entry 21 \(TRUNCATED\)/,
      ],
      ['rewritten', [variant('rewritten', (l) => rewrite(l, '13')), '--public-key', pem], 1, /TAMPERED at entry 11 \(CHECKPOINT_MISMATCH\)/],
      ['other-key', [file, '--public-key', otherKey], 1, /TAMPERED at entry 10 \(CHECKPOINT_SIGNATURE\)/],
    ];
    const results = await Promise.all(cases.map(([, args]) => run('audit-verify', args)));
    results.forEach((r, i) => {
      const [name, , code, pattern] = cases[i]!;
      expect({ name, code: r.code, out: r.out }).toMatchObject({ name, code, out: expect.stringMatching(pattern) });
    });

    // A later export must extend this one: checked with --previous.
    await graphql(system.url, 'query($id: ID!) { subject(id: $id) { id } }', { id: subjectId }, { token: dpo });
    await quiescent(system);
    const later = join(dir, 'later.ndjson');
    expect((await run('audit-export', ['--url', system.url, '--out', later], { AUDIT_TOKEN: await as('AUDITOR', 'auditor-export') })).code).toBe(0);
    const [extends_, forked] = await Promise.all([
      run('audit-verify', [later, '--public-key', pem, '--previous', file]),
      run('audit-verify', [later, '--public-key', pem, '--previous', variant('forked', (l) => ((l.at(-1)!.hash = '0'.repeat(64)), l))]),
    ]);
    expect(extends_).toMatchObject({ code: 0 });
    expect(forked.code).toBe(1);
    expect(forked.out).toMatch(/rewritten since/);
  });
});

/** An edit of one entry with every later hash and link recomputed, checkpoints left as signed. */
function rewrite(lines: Line[], seq: string): Line[] {
  let prev: string | null = null;
  for (const line of lines) {
    if (line.kind !== 'entry') continue;
    if (BigInt(line.seq!) < BigInt(seq)) continue;
    if (line.seq === seq) line.actorId = 'someone-else';
    if (prev) line.prevHash = prev;
    const { kind: _, ...entry } = line;
    line.hash = entryHash(entry as unknown as ChainEntry);
    prev = line.hash as string;
  }
  return lines;
}
