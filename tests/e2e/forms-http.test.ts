import { t } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkField } from '../../gateway/src/forms/client';
import { graphql } from '../support/client';
import { startSystem } from '../support/fixtures';
import { settled, SUBMIT } from '../support/intake';
import type { System } from '../support/system';

/**
 * The forms' HTTP side, without a browser: the page's checks are the API's (same rules, same words,
 * field by field), a plain post is a public `submitAppeal` through the gateway's own gate — the
 * person's browser is the consent's evidence and the public rate limit counts it — and the pages'
 * headers and assets.
 */
let system: System;
let base: string;
beforeAll(async () => {
  system = await startSystem();
  base = system.url.replace(/\/graphql$/, '');
});
afterAll(async () => {
  await system?.destroy();
});

const post = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });

describe('the public forms over HTTP', () => {
  it('the page checks every field with the API\'s own rules and messages', async () => {
    const iins = ['', '123', '12345678901a', '991332300010', '900517300018', '900517700019', makeIin('1990-05-17', 'M', 7)];
    const phones = ['', '12', '+7 916 000 00 00', '8 701 123 45 67', '+77011234567', '7011234567', '+7 (747) 111-22-33'];
    const emails = ['', 'nope', 'a@b', 'Aigerim@Mail.kz', ' x@mail.kz ', 'a@@mail.kz', `${'x'.repeat(250)}@mail.kz`];
    const descriptions = ['', '   ', 'short', 'x'.repeat(5001), 'Коллектор звонит по ночам.', '          a', 'Ровно десять'];
    const consent = [false, true, false, true, true, false, true];
    for (const locale of ['KK', 'RU'] as const) {
      for (let i = 0; i < iins.length; i += 1) {
        const input = { kind: 'APPEAL', iin: iins[i]!, phone: phones[i]!, email: emails[i]!, description: descriptions[i]!, privacyPolicyAccepted: consent[i]!, locale };
        const res = await graphql(system.url, SUBMIT, { input });
        const api = Object.fromEntries((res.errors ?? []).map((e) => [e.extensions?.field, e.message]));
        const page = Object.fromEntries(
          (['iin', 'phone', 'email', 'description', 'privacyPolicyAccepted'] as const).map((f) => [f, checkField(f, input[f], locale)]).filter(([, m]) => m !== null),
        );
        expect(page, `${locale} case ${i}`).toEqual(api);
      }
    }
  });

  it('a plain post is a public submitAppeal as the person: their browser is the consent\'s evidence', async () => {
    const iin = makeIin('1983-04-04', 'F', Math.floor(Math.random() * 9000));
    const res = await post(`${base}/forms/appeal?lang=kk`, { iin, phone: '+7 701 222 33 44', email: 'saule@mail.kz', description: 'Коллектор қорқытады.', privacyPolicyAccepted: 'true' }, { 'user-agent': 'FormsTest/1.0 (plain post)' });
    expect(res.status).toBe(200);
    const html = await res.text();
    const reference = /class="reference">([A-Z]{3}-\d{4}-\d{6})</.exec(html)?.[1];
    expect(reference).toMatch(/^APL-/);
    const token = await system.tokenFor(['DPO']);
    const appeal = await eventually(async () => {
      const r = await graphql(system.url, `query($ref: String!) { appeals(filter: { reference: $ref }) { edges { node { id locale channel } } } }`, { ref: reference }, { token });
      return r.data?.appeals.edges[0]?.node;
    }, 10_000, 'the appeal');
    expect(appeal).toMatchObject({ locale: 'KK', channel: 'collectors.kz/appeal' });
    const subjectId = await settled(system, appeal.id);
    const consents = await graphql(system.url, `query($id: ID!) { subject(id: $id) { consents { templateCode locale evidence { ip userAgent } } } }`, { id: subjectId }, { token });
    expect(consents.data.subject.consents).toEqual([{ templateCode: 'ANNEX2_APPLICANT', locale: 'KK', evidence: { ip: expect.stringMatching(/127\.0\.0\.1$/), userAgent: 'FormsTest/1.0 (plain post)' } }]);
  });

  it('pages and assets: strict headers, a 404 for an unknown form, the script compressed', async () => {
    for (const path of ['/forms/appeal', '/forms/complaint?lang=ru', '/forms/schedule?lang=kk']) {
      const res = await fetch(`${base}${path}`, { headers: { 'accept-language': 'kk-KZ,kk;q=0.9' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const html = await res.text();
      expect(html).toMatch(path.includes('ru') ? /<html lang="ru">/ : /<html lang="kk">/);
      expect(html).not.toMatch(/https?:\/\//); // nothing loaded, linked or posted elsewhere
      expect(html).not.toMatch(/<script>|\sstyle="|\son[a-z]+="/); // no inline script, style or handler
    }
    expect((await fetch(`${base}/forms/nothing`)).status).toBe(404);
    const js = await fetch(`${base}/forms/assets/form.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await js.text()).length).toBeGreaterThan(1000);
  });

  it('the gate\'s public rate limit counts the form posts of one address', async () => {
    const limited = await startSystem({ publicRatePerMinute: 3 });
    try {
      const url = `${limited.url.replace(/\/graphql$/, '')}/forms/complaint?lang=ru`;
      const good = () => ({ iin: makeIin('1970-01-01', 'M', Math.floor(Math.random() * 9000)), phone: '+77017776655', email: 'a@mail.kz', description: 'Коллектор звонит ночью.', privacyPolicyAccepted: 'true' });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await post(url, good())).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await post(url, good());
      expect(refused.status).toBe(429);
      expect(await refused.text()).toContain(t('rate.limited', 'RU'));
      expect(await limited.db('appeals').selectFrom('appeals').select('id').execute()).toHaveLength(3);
    } finally {
      await limited.destroy();
    }
  });
});
