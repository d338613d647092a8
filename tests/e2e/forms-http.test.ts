import { t } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkField } from '../../gateway/src/forms/client';
import { text } from '../../gateway/src/forms/texts';
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

/** What a browser holds after showing a form page: the page's token and the cookie it is bound to. */
async function openForm(url: string): Promise<{ formToken: string; cookie: string }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const formToken = /name="formToken" value="([^"]+)"/.exec(await res.text())?.[1];
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  expect(formToken && cookie).toBeTruthy();
  return { formToken: formToken!, cookie: cookie! };
}

/** A post as the page's own browser makes it: its token, its cookie, and the headers of a same-origin form post. */
async function postFromPage(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const { formToken, cookie } = await openForm(url);
  return post(url, { ...fields, formToken }, { cookie, origin: new URL(url).origin, 'sec-fetch-site': 'same-origin', ...headers });
}

async function storedCount(s: System) {
  return {
    appeals: (await s.db('appeals').selectFrom('appeals').select('id').execute()).length,
    consents: (await s.db('consents').selectFrom('consents').select('id').execute()).length,
    submitted: (await s.platformDb('appeals').selectFrom('outbox').select('payload').execute()).filter(
      (r) => (r.payload as { type: string }).type === 'appeal.submitted',
    ).length,
  };
}

describe('the public forms over HTTP', () => {
  it("the page checks every field with the API's own rules and messages", async () => {
    const iins = ['', '123', '12345678901a', '991332300010', '900517300018', '900517700019', makeIin('1990-05-17', 'M', 7)];
    const phones = ['', '12', '+7 916 000 00 00', '8 701 123 45 67', '+77011234567', '7011234567', '+7 (747) 111-22-33'];
    const emails = ['', 'nope', 'a@b', 'Aigerim@Mail.kz', ' x@mail.kz ', 'a@@mail.kz', `${'x'.repeat(250)}@mail.kz`];
    const descriptions = ['', '   ', 'short', 'x'.repeat(5001), 'Коллектор звонит по ночам.', '          a', 'Ровно десять'];
    const consent = [false, true, false, true, true, false, true];
    for (const locale of ['KK', 'RU'] as const) {
      for (let i = 0; i < iins.length; i += 1) {
        const input = {
          kind: 'APPEAL',
          iin: iins[i]!,
          phone: phones[i]!,
          email: emails[i]!,
          description: descriptions[i]!,
          privacyPolicyAccepted: consent[i]!,
          locale,
        };
        const res = await graphql(system.url, SUBMIT, { input });
        const api = Object.fromEntries((res.errors ?? []).map((e) => [e.extensions?.field, e.message]));
        const page = Object.fromEntries(
          (['iin', 'phone', 'email', 'description', 'privacyPolicyAccepted'] as const)
            .map((f) => [f, checkField(f, input[f], locale)])
            .filter(([, m]) => m !== null),
        );
        expect(page, `${locale} case ${i}`).toEqual(api);
      }
    }
  });

  it("a plain post is a public submitAppeal as the person: their browser is the consent's evidence", async () => {
    const iin = makeIin('1983-04-04', 'F', Math.floor(Math.random() * 9000));
    const res = await postFromPage(
      `${base}/forms/appeal?lang=kk`,
      { iin, phone: '+7 701 222 33 44', email: 'saule@mail.kz', description: 'Коллектор қорқытады.', privacyPolicyAccepted: 'true' },
      { 'user-agent': 'FormsTest/1.0 (plain post)' },
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    const reference = /class="reference">([A-Z]{3}-\d{4}-\d{6})</.exec(html)?.[1];
    expect(reference).toMatch(/^APL-/);
    const token = await system.tokenFor(['DPO']);
    const appeal = await eventually(
      async () => {
        const r = await graphql(
          system.url,
          `query($ref: String!) { appeals(filter: { reference: $ref }) { edges { node { id locale channel } } } }`,
          { ref: reference },
          { token },
        );
        return r.data?.appeals.edges[0]?.node;
      },
      10_000,
      'the appeal',
    );
    expect(appeal).toMatchObject({ locale: 'KK', channel: 'collectors.kz/appeal' });
    const subjectId = await settled(system, appeal.id);
    const consents = await graphql(
      system.url,
      `query($id: ID!) { subject(id: $id) { consents { templateCode locale evidence { ip userAgent } } } }`,
      { id: subjectId },
      { token },
    );
    expect(consents.data.subject.consents).toEqual([
      { templateCode: 'ANNEX2_APPLICANT', locale: 'KK', evidence: { ip: expect.stringMatching(/127\.0\.0\.1$/), userAgent: 'FormsTest/1.0 (plain post)' } },
    ]);
  });

  it('pages and assets: strict headers, a 404 for an unknown form, the script compressed', async () => {
    for (const path of ['/forms/appeal', '/forms/complaint?lang=ru', '/forms/schedule?lang=kk']) {
      const res = await fetch(`${base}${path}`, { headers: { 'accept-language': 'kk-KZ,kk;q=0.9' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
      );
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
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

  it("a post from another site is refused, in the person's language, and nothing is stored anywhere", async () => {
    const before = await storedCount(system);
    const url = `${base}/forms/complaint?lang=ru`;
    const page = await openForm(url);
    const entries = {
      iin: makeIin('1984-02-02', 'M', 5),
      phone: '+77015550011',
      email: 'victim@mail.kz',
      description: 'Заявление, составленное чужой страницей.',
      privacyPolicyAccepted: 'true',
    };
    // A hostile page's form: the browser says where it comes from; it may even carry the visitor's
    // cookie (SameSite=Lax keeps it back from a cross-site POST, an old browser might not) and a token.
    const attempts: Array<Record<string, string>> = [
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site', cookie: page.cookie },
      { origin: 'null', 'sec-fetch-site': 'cross-site', cookie: page.cookie },
      { origin: 'https://collectors.kz.evil.example', 'sec-fetch-site': 'same-site', cookie: page.cookie },
    ];
    for (const headers of attempts) {
      const res = await post(url, { ...entries, formToken: page.formToken }, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      const html = await res.text();
      expect(html).toContain(text('crossSite', 'RU'));
      expect(html).toContain('href="/forms/complaint?lang=ru"');
      // Never the form filled in with what that site sent, ready to be sent on.
      expect(html).not.toContain('victim@mail.kz');
      expect(html).not.toContain('name="formToken"');
    }
    const kk = await post(`${base}/forms/complaint?lang=kk`, entries, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(await kk.text()).toContain(text('crossSite', 'KK'));
    expect(await storedCount(system)).toEqual(before);
    // Each is a refused attempt in the audit, with no address or entry kept.
    const refused = await eventually(
      async () => {
        const rows = await system.db('audit').selectFrom('audit_log').selectAll().where('event_type', '=', 'request.refused').execute();
        const ours = rows.filter((r) => (r.details as { codes: string[] }).codes.includes('CROSS_SITE_POST'));
        return ours.length === attempts.length + 1 ? ours : undefined;
      },
      15_000,
      'the refusals in the audit',
    );
    expect(refused[0]).toMatchObject({ actor_id: 'anonymous', source: 'gateway', details: { status: 403 } });
    for (const secret of ['victim@mail.kz', '127.0.0.1', entries.iin]) expect(JSON.stringify(refused)).not.toContain(secret);
  });

  it("a post without the page's token, or with another's, is refused: the form again, entries kept, nothing stored", async () => {
    const before = await storedCount(system);
    const url = `${base}/forms/appeal?lang=kk`;
    const entries = {
      iin: makeIin('1991-09-09', 'F', 12),
      phone: '+77017770000',
      email: 'dana@mail.kz',
      description: 'Токенсіз жіберілген өтініш.',
      privacyPolicyAccepted: 'true',
    };
    const page = await openForm(url);
    const other = await openForm(url);
    const cases: Array<[Record<string, string>, Record<string, string>]> = [
      // Same origin, or a browser that sends no Origin at all: the token still decides.
      [entries, { cookie: page.cookie, origin: base, 'sec-fetch-site': 'same-origin' }],
      [entries, { cookie: page.cookie }],
      [{ ...entries, formToken: page.formToken }, {}],
      [{ ...entries, formToken: other.formToken }, { cookie: page.cookie }],
      [{ ...entries, formToken: `${page.formToken.slice(0, -4)}AAAA` }, { cookie: page.cookie }],
    ];
    let fresh = '';
    for (const [fields, headers] of cases) {
      const res = await post(url, fields, headers);
      expect(res.status).toBe(403);
      const html = await res.text();
      expect(html).toContain(text('tokenInvalid', 'KK'));
      // The person's entries are back in the form, with a fresh token to send them again.
      expect(html).toContain('value="dana@mail.kz"');
      expect(html).toContain('Токенсіз жіберілген өтініш.');
      fresh = /name="formToken" value="([^"]+)"/.exec(html)?.[1] ?? '';
      expect(fresh).not.toBe('');
      expect(fresh).not.toBe(page.formToken);
    }
    expect(await storedCount(system)).toEqual(before);
    // The refused page's fresh token works (the last one was bound to this browser's cookie): the
    // person sends again and the appeal is accepted.
    const again = await post(url, { ...entries, formToken: fresh }, { cookie: page.cookie, origin: base, 'sec-fetch-site': 'same-origin' });
    expect(again.status).toBe(200);
    expect(await again.text()).toMatch(/class="reference">APL-\d{4}-\d{6}</);
    expect(await storedCount(system)).toEqual({ appeals: before.appeals + 1, consents: expect.any(Number), submitted: before.submitted + 1 });
  });

  it("the gate's public rate limit counts the form posts of one address", async () => {
    const limited = await startSystem({ publicRatePerMinute: 3 });
    try {
      const url = `${limited.url.replace(/\/graphql$/, '')}/forms/complaint?lang=ru`;
      const good = () => ({
        iin: makeIin('1970-01-01', 'M', Math.floor(Math.random() * 9000)),
        phone: '+77017776655',
        email: 'a@mail.kz',
        description: 'Коллектор звонит ночью.',
        privacyPolicyAccepted: 'true',
      });
      // The page itself counts too (it reads the policy in force): one page, then its posts.
      const { formToken, cookie } = await openForm(url);
      const send = () => post(url, { ...good(), formToken }, { cookie, origin: new URL(url).origin });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await send()).status);
      expect(statuses).toEqual([200, 200, 429]);
      const refused = await send();
      expect(refused.status).toBe(429);
      expect(await refused.text()).toContain(t('rate.limited', 'RU'));
      expect(await limited.db('appeals').selectFrom('appeals').select('id').execute()).toHaveLength(2);
    } finally {
      await limited.destroy();
    }
  });
});
