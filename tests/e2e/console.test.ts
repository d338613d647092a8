import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Role } from '@pdp/shared';
import { makeIin } from '@pdp/shared/testing';
import type { BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser';
import { graphql } from '../support/client';
import { startSystem } from '../support/fixtures';
import { form, SUBMIT, settled } from '../support/intake';
import type { System } from '../support/system';

/**
 * The staff console in a real Chromium, through the real gateway, subgraphs, PostgreSQL, NATS and
 * the development OpenID provider: each role signs in with the authorization code flow and PKCE and
 * does its day; every route is checked with axe-core; nothing personal reaches a URL, browser
 * storage or the browser's console; a hostile description shows as text and runs nothing.
 */
const browser = await launchBrowser();
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let system: System;
let base = '';

const HOSTILE = '<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2"> javascript:window.__pwned=3 Коллектор звонит ночью';
const IIN = makeIin('1985-04-12', 'F', 4711);
const PHONE = '+7 701 555 44 33';

beforeAll(async () => {
  if (!browser) return;
  system = await startSystem();
  base = new URL('/console/', system.url).href;
});
afterAll(async () => {
  await browser?.close();
  await system?.destroy();
});

interface Watch {
  page: Page;
  context: BrowserContext;
  logs: string[];
  urls: string[];
}

/** A new browser profile signed in as `account` (granted `roles`), on the console's `path`. */
async function signedIn(account: string, roles: Role[], path: string, lang: 'kk' | 'ru' = 'kk'): Promise<Watch> {
  await system.accounts.grant(account, roles);
  const context = await browser!.newContext({ locale: lang === 'kk' ? 'kk-KZ' : 'ru-RU' });
  const page = await context.newPage();
  const logs: string[] = [];
  const urls: string[] = [];
  page.on('console', (m: ConsoleMessage) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(String(e)));
  page.on('request', (r) => urls.push(r.url()));
  page.on('dialog', (d) => {
    logs.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(`${base}${path.replace(/^\//, '')}?lang=${lang}`);
  await page.getByRole('button', { name: lang === 'kk' ? 'Кіру' : 'Войти' }).click();
  await page.locator('input[name="login"]').fill(account);
  await Promise.all([page.waitForURL((url) => url.href.startsWith(base) && !url.pathname.includes('callback')), page.locator('button[type="submit"]').click()]);
  return { page, context, logs, urls };
}

/** axe-core in the page: no serious or critical violation. */
async function accessible(page: Page, route: string): Promise<void> {
  await page.evaluate(`${axeSource};undefined`);
  const violations = (await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected above
    const result = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v: { id: string; impact: string; nodes: unknown[] }) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  })) as Array<{ id: string; impact: string }>;
  expect(
    violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
    route,
  ).toEqual([]);
}

/** Nothing personal in what the browser keeps or shows outside the page. */
async function leaksNothing(w: Watch, secrets: string[]): Promise<void> {
  const storage = await w.page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
  for (const secret of secrets) {
    expect(storage, 'browser storage').not.toContain(secret);
    for (const url of w.urls) expect(decodeURIComponent(url), 'a URL').not.toContain(secret);
    for (const log of w.logs) expect(log, 'the browser console').not.toContain(secret);
  }
  expect(storage).not.toMatch(/eyJ[\w-]+\.eyJ/); // no token (a JWT) anywhere a script could read it later
  expect(await w.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned ?? null)).toBeNull();
}

describe.skipIf(!browser)('the staff console (Chromium, through the gateway and the provider)', () => {
  it('is one HTML shell for every console path, with a strict CSP, and its script is under 250 kB compressed', async () => {
    const page = await fetch(`${base}appeals/anything`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).not.toMatch(/<script>(?!<\/script>)/); // no inline script
    const script = html.match(/src="(\/console\/app\.js\?v=[\w-]+)"/)?.[1];
    const js = await fetch(new URL(script!, base), { headers: { 'accept-encoding': 'gzip' } });
    expect(js.headers.get('content-encoding')).toBe('gzip');
    const compressed = (await js.arrayBuffer()).byteLength;
    expect(compressed).toBeGreaterThan(1000);
    expect(compressed).toBeLessThanOrEqual(250 * 1024);
  });

  it("the OPERATOR's day: worklist, an appeal's page, take it, note it, answer it, close it — a hostile description stays text", async () => {
    const submitted = await graphql(system.url, SUBMIT, { input: form({ iin: IIN, phone: PHONE, description: HOSTILE }) });
    const { id, reference } = submitted.data.submitAppeal.appeal as { id: string; reference: string };
    await settled(system, id);

    const w = await signedIn('aigerim.op', ['OPERATOR'], '/appeals');
    const { page } = w;
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Өтініштер');
    // Only the routes an OPERATOR may use are offered.
    const nav = await page.getByRole('navigation').getByRole('link').allTextContents();
    expect(nav).toEqual(['Өтініштер', 'Кредиторлар']);
    await expect(page.getByRole('status').filter({ hasText: 'Барлығы' }).textContent()).resolves.toContain('1');
    await accessible(page, 'appeals');

    await page.getByLabel('Нөмірі', { exact: true }).fill(reference);
    await page.getByRole('button', { name: 'Сүзу' }).click();
    await page.getByRole('link', { name: reference }).click();
    await page.waitForURL(`${base}appeals/${id}`);
    await expect(page.locator('.description').textContent()).resolves.toBe(HOSTILE);
    expect(await page.locator('img').count()).toBe(0);
    await accessible(page, 'appeal');

    await page.getByRole('button', { name: 'Жұмысқа алу' }).click();
    await page.locator('dl.facts').getByText('Жұмыста').waitFor();
    await page.locator('dl.facts').getByText('aigerim.op').waitFor();
    const note = page.getByRole('form', { name: 'Ескертпе қосу' });
    const answer = page.getByRole('form', { name: 'Жауап беру' });
    await note.getByLabel('Ескертпе').fill('Қоңырау шалынды');
    await note.getByRole('button', { name: 'Ескертпе қосу' }).click();
    await page.locator('.history').getByText('Қоңырау шалынды').waitFor();
    // A refusal is the API's, in the page's language, at its field: an answer too short.
    await answer.getByLabel('Жауап').fill('   ');
    await answer.getByRole('button', { name: 'Жауап беру' }).click();
    await expect(answer.locator('.field.invalid .error').textContent()).resolves.toMatch(/[а-яәіңғүұқөһ]/i);
    await answer.getByLabel('Жауап').fill('Сіздің өтінішіңіз қаралды, кредиторға хабарланды.');
    await answer.getByRole('button', { name: 'Жауап беру' }).click();
    await page.getByRole('button', { name: 'Жабу' }).click();
    await page.locator('dl.facts').getByText('Жабық').waitFor();
    const stored = await graphql(
      system.url,
      'query($id: ID!) { appeal(id: $id) { status assignee history { status by note } } }',
      { id },
      { token: await system.tokenFor(['DPO']) },
    );
    expect(stored.data.appeal.status).toBe('CLOSED');
    expect(stored.data.appeal.assignee).toBe('aigerim.op');
    expect(stored.data.appeal.history.some((h: { note: string | null }) => h.note === 'Қоңырау шалынды')).toBe(true);

    await leaksNothing(w, [IIN, PHONE.replace(/\s/g, ''), 'eyJ']);
    await w.context.close();
  });

  it('the DPO finds a person by IIN in a POST body, blocks them with a reason; the CHAIRMAN approves an erasure act', async () => {
    const iin = makeIin('1979-11-02', 'M', 815);
    const submitted = await graphql(system.url, SUBMIT, { input: form({ iin }) });
    const subjectId = await settled(system, submitted.data.submitAppeal.appeal.id);

    const dpo = await signedIn('dana.dpo', ['DPO'], '/subjects', 'ru');
    await dpo.page.getByLabel('ИИН').fill(iin);
    await dpo.page.getByRole('button', { name: 'Найти' }).click();
    await dpo.page.waitForURL(`${base}subjects/${subjectId}`);
    await accessible(dpo.page, 'subject');
    await dpo.page.getByRole('form', { name: 'Заблокировать' }).getByLabel('Причина').fill('Жалоба на нарушение условий обработки');
    await dpo.page.getByRole('button', { name: 'Заблокировать' }).click();
    await dpo.page.getByRole('heading', { level: 1 }).getByText('BLOCKED').waitFor();
    await dpo.page.getByRole('form', { name: 'Предложить акт уничтожения' }).getByLabel('Основания').fill('Требование субъекта, п. 6.1.4');
    await dpo.page.getByRole('button', { name: 'Предложить акт уничтожения' }).click();
    await dpo.page.getByRole('form', { name: 'Предложить акт уничтожения' }).getByRole('status').waitFor();
    await leaksNothing(dpo, [iin]);
    await dpo.context.close();

    const chairman = await signedIn('nurlan.chair', ['CHAIRMAN'], '/erasure-acts');
    const card = chairman.page.locator('article.panel').filter({ hasText: 'Требование субъекта' });
    await card.getByText('BLOCKED').waitFor();
    await accessible(chairman.page, 'erasure-acts');
    await card.getByRole('button', { name: 'Бекіту' }).click();
    await chairman.page.getByText('Ештеңе жоқ.').waitFor();
    await chairman.context.close();
  });

  it('the AUDITOR searches the audit and prints the control report; OPS watches the health; signing out ends the session at the provider', async () => {
    const auditor = await signedIn('asel.audit', ['AUDITOR'], '/audit');
    await auditor.page.getByLabel('Әрекет етуші').fill('aigerim.op');
    await auditor.page.getByRole('button', { name: 'Іздеу' }).first().click();
    await auditor.page.locator('table').first().getByText('aigerim.op').first().waitFor();
    await accessible(auditor.page, 'audit');
    await auditor.page.getByRole('button', { name: 'Бақылау есебі' }).click();
    await expect(auditor.page.frameLocator('iframe.report').locator('h1').textContent()).resolves.toContain('Дербес деректерді қорғау');
    await auditor.context.close();

    const ops = await signedIn('erlan.ops', ['OPS'], '/health');
    await ops.page.getByRole('cell', { name: 'subjects', exact: true }).waitFor();
    await accessible(ops.page, 'health');
    await ops.page.getByRole('button', { name: 'Шығу' }).click();
    // The provider asks in the console's language, and sends the person back to the console.
    await ops.page.getByRole('heading', { name: 'Әзірлеу провайдерінен шығасыз ба?' }).waitFor();
    await Promise.all([ops.page.waitForURL((url) => url.href.startsWith(base)), ops.page.getByRole('button', { name: 'Иә, шығу' }).click()]);
    await ops.page.getByRole('button', { name: 'Кіру' }).click();
    // The provider forgot the session: it asks for the account again.
    await ops.page.locator('input[name="login"]').waitFor();
    await ops.context.close();
  });
});
