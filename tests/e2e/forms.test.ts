import { mkdirSync } from 'node:fs';
import { t, type Locale } from '@pdp/shared';
import { makeIin } from '@pdp/shared/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMS, FORM_KINDS, PAGE } from '../../gateway/src/forms/texts';
import { launchBrowser } from '../support/browser';
import { graphql } from '../support/client';
import { startSystem } from '../support/fixtures';
import type { System } from '../support/system';

/**
 * The public forms (Annexes 3–5) in a real headless Chromium: each form in each language, a bad IIN
 * shown at its field, every bad field at once, a good submission showing its reference and deadline
 * and the appeal then in the operator's worklist — with JavaScript on and off. One browser and one
 * platform for the file. `UPDATE_SCREENSHOTS=1` rewrites docs/forms/<form>-<lang>.png.
 */
const browser = await launchBrowser();
let system: System;
let base: string;
const shots = new URL('../../docs/forms/', import.meta.url);

beforeAll(async () => {
  if (!browser) return;
  system = await startSystem();
  base = system.url.replace(/\/graphql$/, '');
});
afterAll(async () => {
  await browser?.close();
  await system?.destroy();
});

const LANGS: Array<[Locale, 'kk' | 'ru']> = [
  ['KK', 'kk'],
  ['RU', 'ru'],
];

/** A page that records every request it makes and every console error (a CSP violation is one). */
async function open(path: string, javaScriptEnabled = true) {
  const context = await browser!.newContext({ javaScriptEnabled, viewport: { width: 820, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  const response = await page.goto(`${base}${path}`);
  return { page, response: response!, requests, problems, close: () => context.close() };
}

async function fillValid(page: Page, overrides: Partial<Record<'iin' | 'phone' | 'email' | 'description', string>> = {}) {
  await page.locator('#iin').fill(overrides.iin ?? makeIin('1991-07-12', 'F', Math.floor(Math.random() * 9000)));
  await page.locator('#phone').fill(overrides.phone ?? '8 701 555 44 33');
  await page.locator('#email').fill(overrides.email ?? 'dana@mail.kz');
  await page.locator('#description').fill(overrides.description ?? 'Коллектор звонит родственникам по ночам.');
  await page.locator('#privacyPolicyAccepted').check();
}

async function inWorklist(reference: string) {
  const token = await system.tokenFor(['OPERATOR']);
  const res = await graphql(
    system.url,
    `query($ref: String!) { appeals(filter: { reference: $ref }) { totalCount edges { node { reference kind status } } } }`,
    { ref: reference },
    { token },
  );
  return res.data?.appeals;
}

describe.skipIf(!browser)('the public forms in a browser', () => {
  it("each form in each language: the Annex's fields and notes, the policy in force, labels, a strict CSP, nothing from elsewhere", async () => {
    const token = await system.tokenFor(['DPO']);
    for (const slug of FORM_KINDS) {
      for (const [locale, lang] of LANGS) {
        const { page, response, requests, problems, close } = await open(`/forms/${slug}?lang=${lang}`);
        expect(response.status()).toBe(200);
        expect(response.headers()['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);
        expect(await page.getAttribute('html', 'lang')).toBe(lang);
        expect(await page.locator('h1').textContent()).toBe(FORMS[slug].heading[locale]);
        for (const note of FORMS[slug].notes) await expect(page.getByText(note[locale], { exact: true }).isVisible()).resolves.toBe(true);
        // Every field is found by its label, as a screen reader announces it.
        for (const label of [PAGE.iin, PAGE.phone, PAGE.email, PAGE.description]) expect(await page.getByLabel(label[locale], { exact: true }).count()).toBe(1);
        expect(
          await page.getByRole('checkbox', { name: `${PAGE.consentBefore[locale]}${PAGE.consentLink[locale]}${PAGE.consentAfter[locale]}`.trim() }).count(),
        ).toBe(1);
        expect(await page.getByRole('button', { name: FORMS[slug].submit[locale] }).count()).toBe(1);
        // The privacy policy in force, from consents.
        const policy = (
          await graphql(system.url, `query($l: Locale!) { consentTemplate(code: "PRIVACY_POLICY", locale: $l) { title body } }`, { l: locale }, { token })
        ).data.consentTemplate;
        await page.locator('#privacy summary').click();
        expect(await page.locator('#privacy summary').textContent()).toBe(policy.title);
        expect(await page.locator('#privacy .policy').textContent()).toContain(policy.body.split('\n\n')[1]);
        await page.waitForLoadState('networkidle');
        expect(
          requests.every((u) => u.startsWith(base)),
          requests.join('\n'),
        ).toBe(true);
        expect(problems).toEqual([]);
        if (process.env.UPDATE_SCREENSHOTS) {
          mkdirSync(shots, { recursive: true });
          await page.locator('#privacy summary').click(); // closed again: the form as a person first sees it
          await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
          await page.screenshot({ path: new URL(`${slug}-${lang}.png`, shots).pathname, fullPage: true });
        }
        await close();
      }
    }
  });

  it('JavaScript on: a bad IIN is shown at its field on leaving it; sending shows every bad field at once and sends nothing', async () => {
    const { page, requests, problems, close } = await open('/forms/appeal?lang=kk');
    await page.locator('#iin').fill('123');
    await page.locator('#phone').focus();
    await expect(page.locator('#iin-error').isVisible()).resolves.toBe(true);
    expect(await page.locator('#iin-error .error-text').textContent()).toBe(t('iin.length', 'KK'));
    expect(await page.getAttribute('#iin', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#iin', 'aria-describedby')).toContain('iin-error');
    // Corrected, the message goes as the person types.
    await page.locator('#iin').fill(makeIin('1990-05-17', 'M', 42));
    await expect(page.locator('#iin-error').isHidden()).resolves.toBe(true);
    await page.locator('#iin').fill('900517300018');
    await page.locator('#email').fill('nope');
    const before = requests.length;
    await page.getByRole('button', { name: FORMS.appeal.submit.KK }).click();
    const summary = page.locator('#error-summary');
    await expect(summary.isVisible()).resolves.toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('error-summary');
    const expected = [t('iin.checksum', 'KK'), t('phone.invalid', 'KK'), t('email.invalid', 'KK'), t('text.required', 'KK'), t('privacy.notAccepted', 'KK')];
    expect(await summary.locator('li').allTextContents()).toEqual(expected);
    for (const [field, message] of [
      ['iin', expected[0]],
      ['phone', expected[1]],
      ['email', expected[2]],
      ['description', expected[3]],
      ['privacyPolicyAccepted', expected[4]],
    ]) {
      expect(await page.locator(`#${field}-error .error-text`).textContent(), field).toBe(message);
    }
    expect(await page.title()).toMatch(/^Қате: /);
    expect(requests.slice(before).filter((u) => u.endsWith('/graphql'))).toEqual([]);
    expect(problems).toEqual([]);
    await close();
  });

  it('JavaScript on: a good submission shows its reference and deadline, and the appeal is then in the worklist', async () => {
    const { page, close } = await open('/forms/schedule?lang=ru');
    await fillValid(page);
    await page.getByRole('button', { name: FORMS.schedule.submit.RU }).click();
    const reference = (await page.locator('.panel .reference').textContent({ timeout: 10_000 }))!;
    expect(reference).toMatch(/^SCH-\d{4}-\d{6}$/);
    expect(await page.locator('.panel .deadline').textContent()).toMatch(/^\d{2}\.\d{2}\.\d{4}$/);
    expect(await page.locator('.panel h1').textContent()).toBe(FORMS.schedule.accepted.RU);
    expect(await inWorklist(reference)).toEqual({ totalCount: 1, edges: [{ node: { reference, kind: 'SCHEDULE_REQUEST', status: 'NEW' } }] });
    await close();
  });

  it("JavaScript off: a plain post shows the API's answer at every bad field, keeps what was typed, and then accepts", async () => {
    const { page, close } = await open('/forms/complaint?lang=ru', false);
    await page.locator('#iin').fill('991332300010');
    await page.locator('#email').fill('dana@mail.kz');
    const [bad] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: FORMS.complaint.submit.RU }).click()]);
    expect(bad?.status()).toBe(422);
    expect(await page.title()).toMatch(/^Ошибка: /);
    const summary = await page.locator('#error-summary li').allTextContents();
    expect(summary).toEqual([t('iin.birthDate', 'RU'), t('phone.invalid', 'RU'), t('text.required', 'RU'), t('privacy.notAccepted', 'RU')]);
    expect(await page.locator('#iin-error .error-text').textContent()).toBe(t('iin.birthDate', 'RU'));
    expect(await page.inputValue('#email')).toBe('dana@mail.kz');
    expect(await page.locator('#email-error').isHidden()).toBe(true);

    await fillValid(page, { iin: makeIin('1979-11-30', 'M', Math.floor(Math.random() * 9000)) });
    const [good] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: FORMS.complaint.submit.RU }).click()]);
    expect(good?.status()).toBe(200);
    const reference = (await page.locator('.panel .reference').textContent())!;
    expect(reference).toMatch(/^CMP-\d{4}-\d{6}$/);
    expect(await page.locator('.panel .deadline').textContent()).toMatch(/^\d{2}\.\d{2}\.\d{4}$/);
    expect((await inWorklist(reference))?.totalCount).toBe(1);
    await close();
  });

  it("a hostile site's form posting to ours, with or without JavaScript, is refused and nothing is stored", async () => {
    const count = async () => ({
      appeals: (await system.db('appeals').selectFrom('appeals').select('id').execute()).length,
      consents: (await system.db('consents').selectFrom('consents').select('id').execute()).length,
    });
    const before = await count();
    for (const javaScriptEnabled of [true, false]) {
      const context = await browser!.newContext({ javaScriptEnabled });
      const page = await context.newPage();
      // The visitor has seen the real form before: the browser holds its cookie.
      await page.goto(`${base}/forms/complaint?lang=ru`);
      // Another site (served by the browser's own routing: no network) with a form aimed at ours.
      const fields = {
        iin: makeIin('1985-06-06', 'F', 31),
        phone: '+77019998877',
        email: 'victim@mail.kz',
        description: 'Жалоба, которую составила чужая страница.',
        privacyPolicyAccepted: 'true',
      };
      const hidden = Object.entries(fields)
        .map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`)
        .join('');
      await page.route('http://hostile.test/**', (route) =>
        route.fulfill({
          contentType: 'text/html',
          body: `<!doctype html><form id="f" method="post" action="${base}/forms/complaint?lang=ru">${hidden}<button>Win a prize</button></form>${javaScriptEnabled ? '<script>document.getElementById("f").submit()</script>' : ''}`,
        }),
      );
      const posted = page.waitForResponse((r) => r.url().startsWith(`${base}/forms/complaint`) && r.request().method() === 'POST');
      await page.goto('http://hostile.test/prize');
      if (!javaScriptEnabled) await page.getByRole('button', { name: 'Win a prize' }).click();
      const response = await posted;
      expect(response.status()).toBe(403);
      await page.waitForURL(`${base}/forms/complaint?lang=ru`);
      expect(await page.locator('h1').textContent()).toBe(PAGE.crossSite.RU);
      expect(await page.locator('form').count()).toBe(0);
      expect(await page.getByRole('link', { name: PAGE.openForm.RU }).getAttribute('href')).toBe('/forms/complaint?lang=ru');
      await context.close();
    }
    expect(await count()).toEqual(before);
  });

  it('the language switch keeps the form and changes every word', async () => {
    const { page, close } = await open('/forms/appeal?lang=ru');
    expect(await page.locator('h1').textContent()).toBe(FORMS.appeal.heading.RU);
    await page.getByRole('link', { name: 'Қазақша' }).click();
    await page.waitForURL(/lang=kk/);
    expect(await page.locator('h1').textContent()).toBe(FORMS.appeal.heading.KK);
    expect(await page.getAttribute('html', 'lang')).toBe('kk');
    expect(await page.getByLabel(PAGE.iin.KK, { exact: true }).count()).toBe(1);
    await close();
  });
});
