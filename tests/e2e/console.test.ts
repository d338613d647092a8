import { mkdirSync, readFileSync } from 'node:fs';
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
  // Granted, and the gateway's view of the registry current, before the browser signs in.
  await system.accounts.tokenFor(roles, { sub: account });
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

/**
 * With CONSOLE_SCREENSHOTS=1, the page in both languages goes to docs/console/<name>-kk|ru.png (the
 * pictures in docs/console.md); otherwise nothing.
 */
async function shot(page: Page, name: string): Promise<void> {
  if (!process.env.CONSOLE_SCREENSHOTS) return;
  const dir = new URL('../../docs/console/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const original = await page.evaluate(() => document.documentElement.lang);
  for (const [label, lang] of [
    ['Қазақша', 'kk'],
    ['Русский', 'ru'],
  ] as const) {
    const button = page.getByRole('button', { name: label });
    if ((await button.count()) > 0) await button.first().click();
    await page.waitForLoadState('networkidle');
    await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
    await page.screenshot({ path: new URL(`${name}-${lang}.png`, dir).pathname, fullPage: true });
  }
  const back = page.getByRole('button', { name: original === 'kk' ? 'Қазақша' : 'Русский' });
  if ((await back.count()) > 0) await back.first().click();
  await page.waitForLoadState('networkidle');
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
    await shot(page, 'worklist');

    await page.getByLabel('Нөмірі', { exact: true }).fill(reference);
    await page.getByRole('button', { name: 'Сүзу' }).click();
    await page.getByRole('link', { name: reference }).click();
    await page.waitForURL(`${base}appeals/${id}`);
    await expect(page.locator('.description').textContent()).resolves.toBe(HOSTILE);
    expect(await page.locator('img').count()).toBe(0);
    await accessible(page, 'appeal');
    await shot(page, 'appeal');

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
    await shot(dpo.page, 'subject');
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
    await card
      .getByText(/subjects: \d/)
      .waitFor({ timeout: 10_000 })
      .catch(async (e: unknown) => {
        throw new Error(`${e}\n${await card.textContent()}`);
      });
    await accessible(chairman.page, 'erasure-acts');
    await shot(chairman.page, 'chairman-acts');
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
    await shot(auditor.page, 'audit-search');
    await auditor.page.getByRole('button', { name: 'Бақылау есебі' }).click();
    await expect(auditor.page.frameLocator('iframe.report').locator('h1').textContent()).resolves.toContain('Дербес деректерді қорғау');
    await auditor.context.close();

    const ops = await signedIn('erlan.ops', ['OPS'], '/health');
    await ops.page.getByRole('cell', { name: 'subjects', exact: true }).waitFor();
    await accessible(ops.page, 'health');
    await shot(ops.page, 'ops-health');
    await ops.page.getByRole('button', { name: 'Шығу' }).click();
    // The provider asks in the console's language, and sends the person back to the console.
    await ops.page.getByRole('heading', { name: 'Әзірлеу провайдерінен шығасыз ба?' }).waitFor();
    await Promise.all([ops.page.waitForURL((url) => url.href.startsWith(base)), ops.page.getByRole('button', { name: 'Иә, шығу' }).click()]);
    await ops.page.getByRole('button', { name: 'Кіру' }).click();
    // The provider forgot the session: it asks for the account again.
    await ops.page.locator('input[name="login"]').waitFor();
    await ops.context.close();
  });

  it('every route of every role passes axe-core in Kazakh and in Russian, and is reached from the keyboard alone', async () => {
    const routes = ['appeals', 'subjects', 'erasure-acts', 'rectifications', 'audit', 'incidents', 'health', 'access', 'creditors', 'templates'];
    const staff = await signedIn('saule.many', ['DPO', 'AUDITOR', 'OPS'], '/appeals', 'ru');
    for (const route of routes) {
      await staff.page.goto(`${base}${route}`);
      // A reload forgets the token (memory only): the provider's session signs the person in again.
      await staff.page.getByRole('button', { name: 'Войти' }).click();
      await staff.page.getByRole('navigation').waitFor();
      expect(staff.page.url()).toBe(`${base}${route}`);
      await staff.page.getByRole('heading', { level: 1 }).waitFor();
      await accessible(staff.page, `${route} (ru)`);
      await staff.page.getByRole('button', { name: 'Қазақша' }).click();
      await staff.page.locator('html[lang="kk"]').waitFor({ state: 'attached' });
      await staff.page.getByRole('navigation').waitFor();
      await staff.page.getByRole('heading', { level: 1 }).waitFor();
      await accessible(staff.page, `${route} (kk)`);
      await staff.page.getByRole('button', { name: 'Русский' }).click();
      await staff.page.locator('html[lang="ru"]').waitFor({ state: 'attached' });
      await staff.page.getByRole('navigation').waitFor();
      await shot(staff.page, route);
    }
    // From the keyboard alone: Tab through the header to the navigation; Enter follows the link, no reload.
    await staff.page.goto(`${base}health`);
    await staff.page.getByRole('button', { name: 'Войти' }).click();
    await staff.page.getByRole('navigation').waitFor();
    let reached = false;
    for (let i = 0; i < 30 && !reached; i += 1) {
      await staff.page.keyboard.press('Tab');
      reached = await staff.page.evaluate(() => document.activeElement?.tagName === 'A' && document.activeElement.textContent === 'Аудит');
    }
    expect(reached, 'the navigation is reached with Tab').toBe(true);
    await staff.page.keyboard.press('Enter');
    await staff.page.waitForURL(`${base}audit`);
    await staff.context.close();

    const partner = await signedIn('partner.kaspi', ['PARTNER'], '/partner');
    await partner.page.getByRole('heading', { level: 1 }).waitFor();
    expect(await partner.page.getByRole('navigation').getByRole('link').allTextContents()).toEqual(['Жіберілген өтініштер']);
    await accessible(partner.page, 'partner');
    await shot(partner.page, 'partner');
    // A page outside the role's purpose says so, and offers nothing to press.
    await partner.page.goto(`${base}audit`);
    await partner.page.getByRole('button', { name: 'Кіру' }).click();
    await partner.page.getByRole('navigation').waitFor();
    await partner.page.getByText('Бұл бет сіздің рөліңізге қолжетімсіз.').waitFor();
    await partner.context.close();
  });

  it('HR registers an employee with the signed Annex 1 and ends the employment; CONTRACTS a counterparty and its obligation', async () => {
    const employee = makeIin('1991-02-03', 'F', 2207);
    const hr = await signedIn('gulnar.hr', ['HR'], '/people', 'ru');
    const register = hr.page.getByRole('form', { name: 'Регистрация сотрудника (подписано Приложение 1)' });
    // Bad input first: every bad field named by the API, nothing stored.
    await register.getByLabel('ИИН').fill('123');
    await register.getByRole('button', { name: 'Зарегистрировать' }).click();
    await register.locator('.field.invalid').first().waitFor();
    expect(await register.locator('.field.invalid').count()).toBeGreaterThanOrEqual(2);
    await register.getByLabel('ИИН').fill(employee);
    await register.getByLabel('ФИО').fill('Жанар Сапарова');
    await register.getByLabel('Должность').fill('Бухгалтер');
    await register.getByLabel('Документ согласия (номер, дата)').fill('Согласие № 14 от 01.12.2026');
    await register.getByLabel('Дата', { exact: true }).fill('2026-12-01');
    await register.getByRole('button', { name: 'Зарегистрировать' }).click();
    await register.getByRole('status').waitFor();
    const find = hr.page.getByRole('form', { name: 'Поиск субъекта' });
    await find.getByLabel('ИИН').fill(employee);
    await find.getByRole('button', { name: 'Найти' }).click();
    await hr.page.getByRole('cell', { name: 'Бухгалтер' }).waitFor();
    await accessible(hr.page, 'people (HR)');
    await shot(hr.page, 'people-hr');
    await hr.page.getByRole('button', { name: 'Завершить трудовые отношения' }).click();
    await hr.page
      .getByRole('cell', { name: /^\d{4}-\d{2}-\d{2}$/ })
      .last()
      .waitFor();
    await leaksNothing(hr, [employee]);
    await hr.context.close();

    const counterparty = makeIin('1983-07-19', 'M', 3301);
    const contracts = await signedIn('marat.contracts', ['CONTRACTS'], '/people');
    const form = contracts.page.getByRole('form', { name: 'Контрагентті тіркеу' });
    await form.getByLabel('ЖСН', { exact: true }).fill(counterparty);
    await form.getByLabel('Аты-жөні').fill('Ерлан Мұратов');
    await form.getByLabel('Шарт нөмірі').fill('Д-77/2026');
    await form.getByLabel('Шарт күні', { exact: true }).fill('2026-11-20');
    await form.getByLabel('Міндеттеме').fill('Есепті тапсыру');
    await form.getByLabel('Мерзімі', { exact: true }).fill('2027-01-15');
    await form.getByRole('button', { name: 'Тіркеу' }).click();
    await form.getByRole('status').waitFor();
    const search = contracts.page.getByRole('form', { name: 'Субъектіні іздеу' });
    await search.getByLabel('ЖСН').fill(counterparty);
    // The consent and its obligations are recorded by consents from the event: a moment later.
    await expect
      .poll(
        async () => {
          await search.getByRole('button', { name: 'Іздеу' }).click();
          return contracts.page.getByRole('cell', { name: 'Есепті тапсыру' }).count();
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    await accessible(contracts.page, 'people (CONTRACTS)');
    await contracts.page.getByRole('button', { name: 'Орындалды' }).click();
    await contracts.page.getByRole('button', { name: 'Орындалды' }).waitFor({ state: 'detached' });
    await contracts.context.close();
  });
});
