/**
 * The development provider's login page: an account name and nothing else (no password: a
 * development provider signs anyone in; a real provider never does). Kazakh or Russian, no script,
 * a strict Content-Security-Policy, the name never echoed back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STAFF_ID } from '@pdp/shared';

const TEXTS = {
  kk: {
    title: 'Әзірлеуге арналған кіру',
    label: 'Тіркелгі атауы',
    hint: 'Әзірлеу провайдері: кез келген атау, құпиясөзсіз. Не істеуге болатынын платформаның қол жеткізу тізілімі шешеді.',
    error: 'Тіркелгі атауы: әріптер, сандар және . _ - @ : таңбалары, 200 таңбаға дейін.',
    submit: 'Кіру',
  },
  ru: {
    title: 'Вход для разработки',
    label: 'Имя учётной записи',
    hint: 'Провайдер разработки: любое имя, без пароля. Что можно делать, решает реестр доступа платформы.',
    error: 'Имя учётной записи: буквы, цифры и знаки . _ - @ :, до 200 символов.',
    submit: 'Войти',
  },
} as const;

export function validAccountName(name: string): boolean {
  return STAFF_ID.test(name);
}

export function loginPage(res: ServerResponse, opts: { uid: string; lang: 'kk' | 'ru'; error: boolean; hint: string | undefined }): void {
  const text = TEXTS[opts.lang];
  const hint = opts.hint && validAccountName(opts.hint) ? opts.hint : '';
  const html = `<!doctype html>
<html lang="${opts.lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${text.title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}label,input,button{display:block;width:100%;box-sizing:border-box}input{padding:.5rem;margin:.25rem 0 1rem;font:inherit}button{padding:.6rem;font:inherit;cursor:pointer}.error{color:#b00020}</style></head>
<body><main><h1>${text.title}</h1>
${opts.error ? `<p class="error" role="alert" id="login-error">${text.error}</p>` : ''}
<form method="post" action="/interaction/${encodeURIComponent(opts.uid)}?lang=${opts.lang}">
<label for="login">${text.label}</label>
<input id="login" name="login" required maxlength="200" autocomplete="username" autofocus value="${escapeHtml(hint)}"${opts.error ? ' aria-invalid="true" aria-describedby="login-error"' : ''}>
<p><small>${text.hint}</small></p>
<button type="submit">${text.submit}</button>
</form></main></body></html>`;
  res.writeHead(opts.error ? 400 : 200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // No form-action: Chromium applies it to the redirects after the post too, and the last one goes to
    // the client's redirect URI, on another origin.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(html);
}

/** An urlencoded form body of at most 4 kB. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 4096) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const LOGOUT = {
  kk: { title: 'Шығу', question: 'Әзірлеу провайдерінен шығасыз ба?', yes: 'Иә, шығу', no: 'Жоқ, қалу', done: 'Сіз шықтыңыз.' },
  ru: { title: 'Выход', question: 'Выйти из провайдера разработки?', yes: 'Да, выйти', no: 'Нет, остаться', done: 'Вы вышли.' },
} as const;

const pageHead = (lang: 'kk' | 'ru', title: string) =>
  `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}button{display:block;width:100%;padding:.6rem;margin:.5rem 0;font:inherit;cursor:pointer}</style></head>`;

/** A language from the request's `ui_locales` (the console sends its own), Kazakh by default. */
function uiLang(locales: unknown): 'kk' | 'ru' {
  return typeof locales === 'string' && locales.trim().toLowerCase().startsWith('ru') ? 'ru' : 'kk';
}

/**
 * The sign-out question (RP-initiated logout): the person confirms at the provider, whose own form
 * (`form`, with its anti-forgery token) ends the session; in Kazakh or Russian, nothing loaded from elsewhere.
 */
export function logoutPage(locales: unknown, form: string): string {
  const lang = uiLang(locales);
  const t = LOGOUT[lang];
  return `${pageHead(lang, t.title)}
<body><main><h1>${t.question}</h1>
${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">${t.yes}</button>
<button type="submit" form="op.logoutForm">${t.no}</button>
</main></body></html>`;
}

/** Shown after a sign-out that named no client to return to. */
export function loggedOutPage(locales: unknown): string {
  const lang = uiLang(locales);
  return `${pageHead(lang, LOGOUT[lang].title)}<body><main><h1>${LOGOUT[lang].done}</h1></main></body></html>`;
}
