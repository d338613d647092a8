import { spawn } from 'node:child_process';
import { makeIin } from '@pdp/shared/testing';
import { describe } from 'vitest';
import { testEnv } from '../support/env';
import { Accounts } from '../support/identity';
import { expect, test } from '../support/fixtures';
import { SUBMIT } from '../support/intake';

const IIN = makeIin('1979-03-03', 'F', 7311);
const PHONE = '+77015550199';
const EMAIL = 'log.canary.7311@mail.kz';
const TEXT = 'КАНАРЕЙКА-описание-7311';
const CANARIES = [IIN, PHONE, '7015550199', EMAIL, TEXT];

/**
 * The platform runs in a child process at debug level; every malformed way of sending personal data
 * is tried against the gateway and straight against each subgraph; then no canary may appear in
 * anything the processes wrote.
 */
describe('log privacy', () => {
  test('no personal data from a malformed request reaches any log line', { timeout: 120_000 }, async () => {
    const { serverUrl, natsUrl, runPrefix, provider } = testEnv();
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/serve.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: {
        ...process.env,
        TEST_DATABASE_URL: serverUrl,
        TEST_NATS_URL: natsUrl,
        SYSTEM_LABEL: `${runPrefix}_logs_${process.pid}`,
        LOG_LEVEL: 'debug',
        TEST_PROVIDER: JSON.stringify(provider),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const urls = await new Promise<{ gateway: string; services: Record<string, string> }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`platform did not start:\n${output.slice(-2000)}`)), 90_000);
      const onData = () => {
        const line = output.split('\n').find((l) => l.startsWith('{"ready":true'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => reject(new Error(`platform exited (${code}):\n${output.slice(-2000)}`)));
    });

    const token = await new Accounts(() => urls.gateway, provider).tokenFor(['DPO', 'AUDITOR', 'CHAIRMAN', 'OPERATOR']);
    const form = { kind: 'APPEAL', iin: IIN, phone: PHONE, email: EMAIL, description: TEXT, privacyPolicyAccepted: true };
    const bodies: Array<[string, string, Record<string, string>]> = [];
    for (const url of [urls.gateway, ...Object.values(urls.services)]) {
      bodies.push([url, `{"query": "${SUBMIT.replace(/\n/g, ' ')}", "variables": {"input": ${JSON.stringify(form)}`, {}]);
      bodies.push([url, JSON.stringify({ query: SUBMIT, variables: { input: form }, pad: 'x'.repeat(300_000) }), {}]);
      bodies.push([url, JSON.stringify({ query: SUBMIT, variables: { input: form } }), { 'x-pdp-actor': `${IIN}.${EMAIL}.x` }]);
    }
    const gw = urls.gateway;
    const auth = { authorization: `Bearer ${token}` };
    bodies.push(
      [gw, JSON.stringify({ query: SUBMIT, variables: { input: { ...form, iin: Number(IIN) } } }), {}],
      [gw, JSON.stringify({ query: SUBMIT, variables: { input: { ...form, nickname: EMAIL } } }), {}],
      [
        gw,
        JSON.stringify({
          query: `mutation { submitAppeal(input: { kind: APPEAL, iin: ${IIN}, phone: "${PHONE}", email: "${EMAIL}", description: "${TEXT}", privacyPolicyAccepted: true }) { appeal { id } } }`,
        }),
        {},
      ],
      [gw, JSON.stringify({ query: `mutation { submitAppeal(input: { iin: "${IIN}" "${EMAIL}" }) }` }), {}],
      [gw, JSON.stringify({ query: `query A { subject(id: "${IIN}") { id } } query B { appeal(id: "${EMAIL}") { id } }` }), auth],
      [gw, JSON.stringify({ query: `{ subject(id: "${IIN}") { id } }` }), auth],
      [gw, JSON.stringify({ query: `{ appeal(id: "${EMAIL}") { id } }` }), auth],
      [gw, JSON.stringify({ query: `{ auditLog(subjectId: "${IIN}", afterSeq: "${PHONE}") { seq } }` }), auth],
      [gw, JSON.stringify({ query: `{ subjectByIin(iin: "${PHONE}") { id } }` }), auth],
      [gw, JSON.stringify({ query: `mutation { blockSubject(subjectId: "${IIN}", reason: "${TEXT}") { id } }` }), auth],
      [gw, JSON.stringify({ query: `{ subject(id: "${IIN}") { id } }` }), { authorization: `Bearer ${IIN}.${EMAIL}.sig` }],
    );
    for (const [url, body, headers] of bodies) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const text = await res.text();
      for (const canary of CANARIES) expect(text, `${url} answered with a canary`).not.toContain(canary);
    }
    // A good submission too: its data are stored (encrypted), never logged.
    await fetch(gw, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: SUBMIT, variables: { input: form } }) });
    await new Promise((r) => setTimeout(r, 1500));

    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(output).toContain('request refused'); // the malformed bodies were seen and logged
    expect(output).toContain('authentication failed');
    for (const canary of CANARIES) expect(output.includes(canary), `log output holds ${canary}`).toBe(false);
  });
});
