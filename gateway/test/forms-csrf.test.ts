import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_TOKEN_LIFETIME_MS, FormTokens } from '../src/forms/csrf';

/**
 * The forms' defence against cross-site posts (forms/csrf.ts) on a real Express server, directly
 * and behind a reverse proxy (`trust proxy`): which posts a browser's headers and the page token let
 * through. A clock the test moves stands in for the time a person leaves a page open.
 */
let now = Date.parse('2026-12-07T10:00:00Z');
const tokens = new FormTokens('an internal secret of at least thirty-two characters', FORM_TOKEN_LIFETIME_MS, () => now);
const servers: Server[] = [];

async function serve(trustProxy: boolean): Promise<string> {
  const app = express();
  app.set('trust proxy', trustProxy);
  app.get('/forms/:form', (req, res) => void res.json({ token: tokens.issue(req, res, req.params.form as 'appeal') }));
  app.post(
    '/forms/:form',
    express.urlencoded({ extended: false }),
    (req, res) => void res.json({ verdict: tokens.check(req, req.params.form as 'appeal', (req.body as Record<string, unknown>).formToken) }),
  );
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let direct: string;
let proxied: string;
beforeAll(async () => {
  direct = await serve(false);
  proxied = await serve(true);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function page(base: string, form = 'appeal', headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/forms/${form}`, { headers });
  const cookie = res.headers.get('set-cookie') ?? '';
  return { token: ((await res.json()) as { token: string }).token, cookie: cookie.split(';')[0]!, setCookie: cookie };
}

async function send(base: string, form: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/forms/${form}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  return ((await res.json()) as { verdict: string }).verdict;
}

describe('the public forms refuse cross-site posts', () => {
  it('a page sets an HttpOnly, SameSite cookie; over HTTPS behind a proxy it is a __Host- cookie', async () => {
    expect((await page(direct)).setCookie).toMatch(/^pdp-forms=[A-Za-z0-9_-]{22}; Max-Age=86400; Path=\/; Expires=.*; HttpOnly; SameSite=Lax$/);
    expect((await page(proxied, 'appeal', { 'x-forwarded-proto': 'https' })).setCookie).toMatch(
      /^__Host-pdp-forms=[A-Za-z0-9_-]{22}; .*Path=\/; .*HttpOnly; Secure; SameSite=Lax$/,
    );
  });

  it("the page's own post goes through, with or without the browser's headers; a post from elsewhere never", async () => {
    const { token, cookie } = await page(direct);
    const own = { cookie, origin: direct, 'sec-fetch-site': 'same-origin' };
    expect(await send(direct, 'appeal', { formToken: token }, own)).toBe('ok');
    // An old browser sends neither header: the token alone decides.
    expect(await send(direct, 'appeal', { formToken: token }, { cookie })).toBe('ok');
    // Under `Referrer-Policy: no-referrer` a browser sends `Origin: null` with its own post: Sec-Fetch-Site says whose it is.
    expect(await send(direct, 'appeal', { formToken: token }, { cookie, origin: 'null', 'sec-fetch-site': 'same-origin' })).toBe('ok');
    // Cross-site, even with a valid token and the cookie (a browser would not send them both, but a
    // token taken elsewhere must not make up for the origin).
    for (const headers of [
      { ...own, 'sec-fetch-site': 'cross-site' },
      { ...own, 'sec-fetch-site': 'same-site' },
      { cookie, origin: 'https://evil.example' },
      { cookie, origin: 'null' },
      { cookie, origin: direct.replace('127.0.0.1', 'localhost') },
      { cookie, origin: direct.replace('http:', 'https:') },
    ]) {
      expect(await send(direct, 'appeal', { formToken: token }, headers), JSON.stringify(headers)).toBe('cross-site');
    }
  });

  it("a missing, forged, another form's, another browser's, unbound or expired token is refused, each for what it is", async () => {
    const { token, cookie } = await page(direct);
    const other = await page(direct);
    const own = { cookie, origin: direct };
    expect(await send(direct, 'appeal', {}, own)).toBe('missing');
    expect(await send(direct, 'appeal', { formToken: '' }, own)).toBe('missing');
    const [issued, nonce, mac] = token.split('.') as [string, string, string];
    expect(await send(direct, 'appeal', { formToken: `${issued}.${nonce}.${'A'.repeat(43)}` }, own)).toBe('invalid');
    expect(await send(direct, 'appeal', { formToken: `${Number(issued) + 1}.${nonce}.${mac}` }, own)).toBe('invalid');
    expect(await send(direct, 'appeal', { formToken: `${issued}.${'B'.repeat(12)}.${mac}` }, own)).toBe('invalid');
    expect(await send(direct, 'appeal', { formToken: `${issued}.${mac}` }, own)).toBe('invalid');
    expect(await send(direct, 'complaint', { formToken: token }, own)).toBe('invalid');
    expect(await send(direct, 'appeal', { formToken: other.token }, own)).toBe('invalid');
    // No cookie of this browser (cookies off, another browser's page): the token binds to nothing here.
    expect(await send(direct, 'appeal', { formToken: token }, { origin: direct })).toBe('unbound');
    expect(await send(direct, 'appeal', { formToken: token }, { cookie: 'pdp-forms=not-a-binding', origin: direct })).toBe('unbound');
    now += FORM_TOKEN_LIFETIME_MS - 1000;
    expect(await send(direct, 'appeal', { formToken: token }, own)).toBe('ok');
    now += 2000;
    expect(await send(direct, 'appeal', { formToken: token }, own)).toBe('expired');
    // A new page keeps the browser's cookie and gives a fresh token of its own.
    const again = await page(direct, 'appeal', { cookie });
    expect(again.cookie).toBe(cookie);
    expect(again.token).not.toBe((await page(direct, 'appeal', { cookie })).token);
    expect(await send(direct, 'appeal', { formToken: again.token }, own)).toBe('ok');
  });

  it('behind a reverse proxy (TRUST_PROXY) the origin is the one the browser addressed', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'forms.collectors.kz' };
    const { token, cookie } = await page(proxied, 'appeal', forwarded);
    expect(
      await send(proxied, 'appeal', { formToken: token }, { ...forwarded, cookie, origin: 'https://forms.collectors.kz', 'sec-fetch-site': 'same-origin' }),
    ).toBe('ok');
    expect(await send(proxied, 'appeal', { formToken: token }, { ...forwarded, cookie, origin: 'http://forms.collectors.kz' })).toBe('cross-site');
    // Without trust in the proxy its headers are ignored: the gateway's own address is the origin.
    expect(await send(direct, 'appeal', { formToken: token }, { ...forwarded, cookie, origin: 'https://forms.collectors.kz' })).toBe('cross-site');
  });
});
