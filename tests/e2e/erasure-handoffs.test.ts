import { randomBytes, randomInt } from 'node:crypto';
import { FieldCipher, handoffStreamName, handoffSubject, isTombstone, streamName, unseal, type PdHolder, type SealKeyPair } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { connect, type JetStreamManager } from 'nats';
import { describe, vi } from 'vitest';
import { expect, test, type Gw } from '../support/fixtures';
import { form, SUBMIT } from '../support/intake';
import { SERVICE_NAMES, type System } from '../support/system';
import type { ConsentsDatabase } from '@pdp/consents';

/**
 * Every private seal key the platform of this test is started with, caught where the test system
 * makes them (it keeps them to itself).
 */
const keys = vi.hoisted(() => ({ seal: [] as SealKeyPair[] }));
vi.mock('@pdp/shared', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@pdp/shared')>();
  return {
    ...actual,
    generateSealKeyPair: async () => {
      const pair = await actual.generateSealKeyPair();
      keys.seal.push(pair);
      return pair;
    },
  };
});

const PROPOSE = `mutation($id: ID!) { proposeErasure(subjectId: $id, method: DESTROY, grounds: "Collected unlawfully: complaint No. 9") { id } }`;
const APPROVE = `mutation($id: ID!) { approveErasure(actId: $id) { status } }`;
const ACT = `query($id: ID!) { erasureAct(id: $id) { status } }`;
const REQUEST = `mutation($input: RectificationInput!) { requestRectification(input: $input) { id } }`;
const REVIEW = `mutation($id: ID!) { reviewRectification(requestId: $id, approve: true, note: "documents checked") { status } }`;

/** Compact JWE (five base64url parts) and field ciphertext (`v2.<keyId>.<iv>.<tag>.<body>`, or v1 before). */
const JWE = /[\w-]{8,}\.[\w-]*\.[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/g;
const FIELD = /(?<![\w-])v[12]\.[\w-]+\.[\w-]{16}\.[\w-]{22}\.[\w-]*/;

/** What is found of the person in a text: raw values, anything that opens with any seal key, any field ciphertext. */
async function leaks(where: string, text: string, pd: string[]): Promise<string[]> {
  const found: string[] = [];
  const lower = text.toLowerCase();
  for (const value of pd) if (lower.includes(value.toLowerCase())) found.push(`${where}: holds a raw value (#${pd.indexOf(value)})`);
  for (const jwe of text.match(JWE) ?? []) {
    for (const [i, pair] of keys.seal.entries()) {
      const opened = await unseal<unknown>(jwe, pair.privateJwk).then(JSON.stringify, () => null);
      if (opened !== null)
        found.push(`${where}: a JWE opens with seal key #${i}${pd.some((v) => opened.toLowerCase().includes(v.toLowerCase())) ? ' to the person’s data' : ''}`);
    }
  }
  // A field ciphertext opens only in the row it was sealed for (its place is bound into it), so it is
  // not tried here: outside its service's database none belongs anywhere, sealed or not.
  if (FIELD.test(text)) found.push(`${where}: holds a field ciphertext`);
  return found;
}

/** Every message left in every stream of this run (events, hand-offs, anything else), as text. */
async function streamTexts(jsm: JetStreamManager, system: System): Promise<Array<{ where: string; text: string }>> {
  const out: Array<{ where: string; text: string }> = [];
  const decoder = new TextDecoder();
  for await (const info of jsm.streams.list()) {
    const mine = info.config.name.startsWith(streamName(system.prefix)) || info.config.subjects?.some((s) => s.startsWith(`${system.prefix}.`));
    if (!mine || info.state.messages === 0) continue;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq += 1) {
      const msg = await jsm.streams.getMessage(info.config.name, { seq }).catch(() => null);
      if (!msg) continue; // deleted
      const headers = msg.header ? [...msg.header.keys()].map((k) => `${k}: ${msg.header.values(k).join(',')}`).join('\n') : '';
      out.push({ where: `${info.config.name}#${seq} ${msg.subject}`, text: `${msg.subject}\n${headers}\n${decoder.decode(msg.data)}` });
    }
  }
  return out;
}

/** Every outbox row and parked event of every service, as text. */
async function outboxTexts(system: System): Promise<Array<{ where: string; text: string }>> {
  const out: Array<{ where: string; text: string }> = [];
  for (const service of SERVICE_NAMES) {
    const db = system.platformDb(service);
    for (const row of await db.selectFrom('outbox').select(['seq', 'subject', 'payload']).execute()) {
      out.push({ where: `${service} outbox #${row.seq}`, text: `${row.subject}\n${JSON.stringify(row.payload)}` });
    }
    for (const row of await db.selectFrom('parked_events').select(['id', 'subject', 'payload', 'error']).execute()) {
      out.push({ where: `${service} parked #${row.id}`, text: `${row.subject}\n${row.payload}\n${row.error}` });
    }
  }
  return out;
}

async function scan(jsm: JetStreamManager, system: System, pd: string[]): Promise<string[]> {
  const texts = [...(await streamTexts(jsm, system)), ...(await outboxTexts(system))];
  return (await Promise.all(texts.map(({ where, text }) => leaks(where, text, pd)))).flat();
}

/** A hand-off (a sealed value) is in the stream; an erasure's marker, which holds no data, is not one. */
async function handoffExists(jsm: JetStreamManager, system: System, to: PdHolder, id: string): Promise<boolean> {
  return jsm.streams.getMessage(handoffStreamName(system.prefix), { last_by_subj: handoffSubject(system.prefix, to, id) }).then(
    (m) => !isTombstone(m.data),
    () => false,
  );
}

async function appealOf(system: System, appealId: string) {
  return system.db('appeals').selectFrom('appeals').select(['subject_id', 'phone_enc', 'email_enc']).where('id', '=', appealId).executeTakeFirst();
}

async function submit(gw: Gw, input: Record<string, unknown>, userAgent: string): Promise<string> {
  const res = await gw(SUBMIT, { input }, { headers: { 'user-agent': userAgent } });
  expect(res.errors).toBeUndefined();
  return res.data.submitAppeal.appeal.id;
}

describe('erasure reaches the hand-offs of personal data between services', () => {
  test('after DESTROY no message in any stream and no outbox row opens to the person, with any key', async ({ system, gw }) => {
    const nc = await connect({ servers: system.options.natsUrl });
    const jsm = await nc.jetstreamManager();
    try {
      const serial = randomInt(1, 9000);
      const iin = makeIin('1979-03-03', 'M', serial);
      const phoneDigits = `701${String(randomInt(1_000_000, 9_999_999))}`;
      const email = `canary.${randomBytes(4).toString('hex')}@mail.kz`;
      const newPhoneDigits = `702${String(randomInt(1_000_000, 9_999_999))}`;
      const newEmail = `canary.new.${randomBytes(4).toString('hex')}@mail.kz`;
      const userAgent = `LeakCanary/${randomBytes(6).toString('hex')}`;
      const pd = [iin, `+7${phoneDigits}`, phoneDigits, email, `+7${newPhoneDigits}`, newPhoneDigits, newEmail, userAgent, '127.0.0.1'];
      expect(keys.seal.length).toBeGreaterThanOrEqual(3);

      // Consents is down: the consent evidence handed to it waits in the hand-off stream.
      await system.stopService('consents');
      const first = await submit(gw, form({ iin, phone: `8 ${phoneDigits}`, email }), userAgent);
      const second = await submit(gw, form({ iin, phone: `8 ${phoneDigits}`, email, kind: 'COMPLAINT' }), userAgent);
      const subjectId = await eventually(async () => (await appealOf(system, first))?.subject_id, 15_000, 'first appeal linked');
      expect(await eventually(async () => (await appealOf(system, second))?.subject_id, 15_000, 'second appeal linked')).toBe(subjectId);

      // The event carries a reference and a digest, not the value; subjects erased what it read.
      const submitted = (await streamTexts(jsm, system)).filter((m) => m.where.includes('.events.appeal.submitted'));
      expect(submitted).toHaveLength(2);
      for (const m of submitted) expect(m.text).not.toMatch(new RegExp(JWE.source));
      for (const id of [first, second]) {
        await eventually(async () => !(await handoffExists(jsm, system, 'subjects', id)), 10_000, 'identity hand-off erased once stored');
        expect(await handoffExists(jsm, system, 'consents', id)).toBe(true);
      }
      // Control: the scan does find the person while a hand-off is there.
      const before = await scan(jsm, system, pd);
      for (const id of [first, second]) {
        expect(before.some((f) => f.includes(`handoff.consents.${id}`) && f.includes('seal key') && f.includes('person'))).toBe(true);
      }

      // A corrected phone reaches appeals and its hand-off goes once applied.
      const phoneReq = (
        await gw(REQUEST, { input: { subjectId, field: 'phone', newValue: `8 ${newPhoneDigits}`, documents: ['Statement No. 1'] } }, { as: 'DPO' })
      ).data.requestRectification.id;
      expect((await gw(REVIEW, { id: phoneReq }, { as: 'DPO' })).data.reviewRectification.status).toBe('APPROVED');
      const before2 = (await appealOf(system, first))?.phone_enc;
      await eventually(async () => (await appealOf(system, first))?.phone_enc !== before2, 15_000, 'phone corrected in appeals');
      await eventually(async () => !(await handoffExists(jsm, system, 'appeals', phoneReq)), 10_000, 'corrected phone hand-off erased once applied');

      // A corrected e-mail approved while appeals is down waits in the hand-off stream.
      // Granted while appeals, which keeps the access registry, is still up.
      await system.tokenFor(['CHAIRMAN']);
      await system.stopService('appeals');
      const emailReq = (await gw(REQUEST, { input: { subjectId, field: 'email', newValue: newEmail, documents: ['Statement No. 2'] } }, { as: 'DPO' })).data
        .requestRectification.id;
      expect((await gw(REVIEW, { id: emailReq }, { as: 'DPO' })).data.reviewRectification.status).toBe('APPROVED');
      await eventually(async () => handoffExists(jsm, system, 'appeals', emailReq), 10_000, 'corrected e-mail hand-off published');
      const control = await scan(jsm, system, pd);
      expect(control.some((f) => f.includes(`handoff.appeals.${emailReq}`) && f.includes('person'))).toBe(true);

      // DESTROY, decided while appeals and consents are down; they catch up on restart.
      const actId = (await gw(PROPOSE, { id: subjectId }, { as: 'DPO' })).data.proposeErasure.id;
      expect((await gw(APPROVE, { id: actId }, { as: 'CHAIRMAN' })).data.approveErasure.status).toBe('APPROVED');
      await system.startService('appeals');
      await system.startService('consents');
      await eventually(async () => (await gw(ACT, { id: actId }, { as: 'AUDITOR' })).data.erasureAct.status === 'COMPLETED', 30_000, 'act completed');

      const after = await scan(jsm, system, pd);
      expect(after).toEqual([]);
      for (const id of [first, second]) {
        for (const to of ['subjects', 'consents', 'appeals'] as const) expect(await handoffExists(jsm, system, to, id)).toBe(false);
      }
      expect(await handoffExists(jsm, system, 'appeals', emailReq)).toBe(false);
      // The e-mail correction found its hand-off erased (the marker) and applied nothing; the consents stored no evidence.
      const consents = await system
        .db('consents')
        .selectFrom('consents')
        .select(['ip_enc', 'user_agent_enc'])
        .where('appeal_id', 'in', [first, second])
        .execute();
      expect(consents.every((c) => c.ip_enc === null && c.user_agent_enc === null)).toBe(true);
    } finally {
      await nc.close();
    }
  });

  test('intake still hands the identity and the evidence over end to end, then erases the hand-offs', async ({ system, gw }) => {
    const nc = await connect({ servers: system.options.natsUrl });
    const jsm = await nc.jetstreamManager();
    try {
      const iin = makeIin('1991-11-11', 'F', randomInt(1, 9000));
      const appealId = await submit(gw, form({ iin }), 'HandoffProbe/1');
      const consent = await eventually(
        async () =>
          system
            .db('consents')
            .selectFrom('consents')
            .select(['id', 'ip_enc', 'user_agent_enc', 'subject_id'])
            .where('appeal_id', '=', appealId)
            .where('subject_id', 'is not', null)
            .executeTakeFirst(),
        15_000,
        'consent recorded and linked',
      );
      const cipher = new FieldCipher<ConsentsDatabase>('consents', system.fieldKeys);
      expect(cipher.decrypt(consent.user_agent_enc!, { table: 'consents', column: 'user_agent_enc', id: consent.id })).toBe('HandoffProbe/1');
      expect(consent.ip_enc).not.toBeNull();
      const found = await gw(`query($iin: String!) { subjectByIin(iin: $iin) { id } }`, { iin }, { as: 'DPO' });
      expect(found.data.subjectByIin.id).toBe(consent.subject_id);
      for (const to of ['subjects', 'consents'] as const) {
        await eventually(async () => !(await handoffExists(jsm, system, to, appealId)), 10_000, `${to} hand-off erased once stored`);
      }
      // The sender keeps no sealed copy once the hand-offs are published.
      const rows = await system.platformDb('appeals').selectFrom('outbox').select('subject').execute();
      expect(rows.filter((r) => r.subject.includes('.handoff.'))).toEqual([]);
    } finally {
      await nc.close();
    }
  });
});
