import type { Locale } from '@pdp/shared';
import { FORM_TOKEN_FIELD } from './csrf';
import { FIELDS, FORMS, localDate, text, type FieldName, type FormSlug, type FormTexts } from './texts';

/**
 * The public forms as HTML, after the GOV.UK Design System's patterns: an error summary at the top
 * linking to each field, the message at the field, labels and hints tied to their inputs. Everything
 * interpolated is escaped; nothing is loaded from elsewhere (the one stylesheet and script are ours).
 */
export interface PolicyText {
  title: string;
  body: string;
  version: number;
  effectiveFrom: string;
}

/** What Art. 8(4) of the Law requires a consent to state, as the consent text's version in force has it. */
export interface ConsentContent extends PolicyText {
  operatorName: string;
  operatorBin: string;
  purpose: string;
  dataItems: string[];
  term: string;
  thirdPartyTransfer: boolean;
  crossBorderTransfer: boolean;
  publicSources: boolean;
}

export interface FormState {
  values: Partial<Record<FieldName, string>>;
  /** One message per bad field, in the order the form reads. */
  errors: Partial<Record<FieldName, string>>;
  /** A problem that belongs to no field (a rate limit, the service unreachable). */
  general?: string;
}

export interface Accepted {
  reference: string;
  deadline: string;
}

export interface PageContext {
  slug: FormSlug;
  locale: Locale;
  policy: PolicyText;
  consent: ConsentContent;
  description: { min: number; max: number };
  /** The page's token against cross-site posts (csrf.ts), sent back with the form. */
  token: string;
}

export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const LANGS: Array<[Locale, string, string]> = [
  ['KK', 'kk', 'Қазақша'],
  ['RU', 'ru', 'Русский'],
];

function layout(locale: Locale, slug: FormSlug | null, title: string, main: string): string {
  const lang = locale.toLowerCase();
  const switcher = LANGS.map(([l, code, name]) =>
    l === locale
      ? `<li><span lang="${code}" aria-current="true">${name}</span></li>`
      : `<li><a href="${slug ? `/forms/${slug}` : ''}?lang=${code}" lang="${code}" hreflang="${code}">${name}</a></li>`,
  ).join('');
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="icon" href="/forms/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/forms/assets/form.css">
<script type="module" src="/forms/assets/form.js"></script>
</head>
<body>
<a class="skip" href="#main">${esc(text('skip', locale))}</a>
<header class="site">
<p class="chamber">${esc(text('chamber', locale))}</p>
<nav aria-label="${esc(text('language', locale))}"><ul class="languages">${switcher}</ul></nav>
</header>
<main id="main" tabindex="-1">
${main}
</main>
</body>
</html>
`;
}

function paragraphs(body: string): string {
  return body
    .split(/\n{2,}/)
    .map((p) => `<p>${esc(p.trim()).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

function field(ctx: PageContext, state: FormState, name: Exclude<FieldName, 'privacyPolicyAccepted'>): string {
  const { locale } = ctx;
  const error = state.errors[name];
  const value = state.values[name] ?? '';
  const hintKey = `${name}Hint` as const;
  const hint = text(hintKey, locale, ctx.description);
  const describedBy = `${name}-hint${error ? ` ${name}-error` : ''}`;
  const common = `id="${name}" name="${name}" aria-describedby="${describedBy}"${error ? ' aria-invalid="true"' : ''}`;
  const input =
    name === 'description'
      ? `<textarea ${common} rows="6" maxlength="${ctx.description.max + 500}">${esc(value)}</textarea>`
      : `<input ${common} type="${name === 'phone' ? 'tel' : name === 'email' ? 'email' : 'text'}" value="${esc(value)}" ${
          name === 'iin'
            ? 'inputmode="numeric" autocomplete="off" maxlength="20"'
            : name === 'phone'
              ? 'autocomplete="tel" maxlength="30"'
              : 'autocomplete="email" maxlength="254"'
        } spellcheck="false">`;
  return `<div class="field${error ? ' field--error' : ''}" data-field="${name}">
<label for="${name}">${esc(text(name, locale))}</label>
<p class="hint" id="${name}-hint">${esc(hint)}</p>
<p class="error" id="${name}-error"${error ? '' : ' hidden'}><span class="visually-hidden">${esc(text('errorPrefix', locale))} </span><span class="error-text">${esc(error ?? '')}</span></p>
${input}
</div>`;
}

/** The consent's Art. 8(4) content, visible before the box is ticked, in the page's language. */
function consentContent(ctx: PageContext): string {
  const { locale, consent } = ctx;
  const yesNo = (v: boolean) => esc(text(v ? 'yes' : 'no', locale));
  const row = (key: Parameters<typeof text>[0], value: string, name: string) => `<dt>${esc(text(key, locale))}</dt><dd data-content="${name}">${value}</dd>`;
  return `<section class="consent-content" id="consent-content" aria-labelledby="consent-content-title">
<h2 id="consent-content-title">${esc(text('contentHeading', locale))}</h2>
<dl>
${row('contentOperator', esc(consent.operatorName), 'operatorName')}
${row('contentBin', esc(consent.operatorBin), 'operatorBin')}
${row('contentPurpose', esc(consent.purpose), 'purpose')}
${row('contentData', `<ul>${consent.dataItems.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>`, 'dataItems')}
${row('contentTerm', esc(consent.term), 'term')}
${row('contentThirdParty', yesNo(consent.thirdPartyTransfer), 'thirdPartyTransfer')}
${row('contentCrossBorder', yesNo(consent.crossBorderTransfer), 'crossBorderTransfer')}
${row('contentPublic', yesNo(consent.publicSources), 'publicSources')}
</dl>
<p class="hint" id="consent-version">${esc(text('contentVersion', locale, { v: consent.version, date: localDate(consent.effectiveFrom) }))}</p>
</section>`;
}

function consentField(ctx: PageContext, state: FormState): string {
  const { locale } = ctx;
  const error = state.errors.privacyPolicyAccepted;
  const checked = state.values.privacyPolicyAccepted === 'true' ? ' checked' : '';
  return `${consentContent(ctx)}
<div class="field field--checkbox${error ? ' field--error' : ''}" data-field="privacyPolicyAccepted">
<p class="error" id="privacyPolicyAccepted-error"${error ? '' : ' hidden'}><span class="visually-hidden">${esc(text('errorPrefix', locale))} </span><span class="error-text">${esc(error ?? '')}</span></p>
<div class="checkbox">
<input type="checkbox" id="privacyPolicyAccepted" name="privacyPolicyAccepted" value="true"${checked} aria-describedby="privacyPolicyAccepted-error privacy-version"${error ? ' aria-invalid="true"' : ''}>
<label for="privacyPolicyAccepted">${esc(text('consentBefore', locale))}<a href="#privacy">${esc(text('consentLink', locale))}</a>${esc(text('consentAfter', locale))}</label>
</div>
<details id="privacy">
<summary>${esc(ctx.policy.title)}</summary>
<div class="policy">
${paragraphs(ctx.policy.body)}
<h2 class="consent-title">${esc(ctx.consent.title)}</h2>
${paragraphs(ctx.consent.body)}
</div>
</details>
<p class="hint" id="privacy-version">${esc(text('policyVersion', locale, { v: ctx.policy.version, date: localDate(ctx.policy.effectiveFrom) }))}</p>
</div>`;
}

function errorSummary(locale: Locale, state: FormState): string {
  const items = [
    ...(state.general ? [`<li>${esc(state.general)}</li>`] : []),
    ...FIELDS.filter((f) => state.errors[f]).map((f) => `<li><a href="#${f}">${esc(state.errors[f]!)}</a></li>`),
  ];
  const hidden = items.length === 0 ? ' hidden' : '';
  return `<div class="error-summary" id="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title"${hidden}>
<h2 id="error-summary-title">${esc(text('errorSummary', locale))}</h2>
<ul>${items.join('')}</ul>
</div>`;
}

/** What the page's script needs to speak the page's language (JSON, never executed). */
function scriptData(ctx: PageContext, form: FormTexts): string {
  const { locale } = ctx;
  const data = {
    locale,
    kind: form.kind,
    accepted: form.accepted[locale],
    reference: text('reference', locale),
    deadline: text('deadline', locale),
    deadlineNote: text('deadlineNote', locale),
    another: text('another', locale),
    sending: text('sending', locale),
    submit: form.submit[locale],
    errorPrefix: text('errorPrefix', locale),
    titleError: text('titleError', locale),
    descriptionMin: ctx.description.min,
    descriptionMax: ctx.description.max,
    policyVersion: ctx.policy.version,
  };
  // `<` escaped so the JSON cannot close its element.
  return `<script type="application/json" id="form-data">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`;
}

export function formPage(ctx: PageContext, state: FormState = { values: {}, errors: {} }): string {
  const form = FORMS[ctx.slug];
  const { locale } = ctx;
  const lang = locale.toLowerCase();
  const hasErrors = Boolean(state.general) || Object.keys(state.errors).length > 0;
  const heading = form.heading[locale];
  const main = `<p class="annex">${esc(text('annex', locale, { n: form.annex, site: form.site }))}</p>
<h1>${esc(heading)}</h1>
${form.notes.map((n) => `<p class="note">${esc(n[locale])}</p>`).join('\n')}
${errorSummary(locale, state)}
<form method="post" action="/forms/${ctx.slug}?lang=${lang}" novalidate data-form="${ctx.slug}">
<input type="hidden" name="lang" value="${lang}">
<input type="hidden" name="${FORM_TOKEN_FIELD}" value="${esc(ctx.token)}">
<input type="hidden" name="policyVersion" value="${ctx.policy.version}">
${field(ctx, state, 'iin')}
${field(ctx, state, 'phone')}
${field(ctx, state, 'email')}
${field(ctx, state, 'description')}
${consentField(ctx, state)}
<button type="submit" class="button">${esc(form.submit[locale])}</button>
</form>
${scriptData(ctx, form)}`;
  return layout(locale, ctx.slug, `${hasErrors ? `${text('titleError', locale)}: ` : ''}${heading} — ${text('chamber', locale)}`, main);
}

export function acceptedPage(slug: FormSlug, locale: Locale, accepted: Accepted): string {
  const form = FORMS[slug];
  const main = `<div class="panel" role="status">
<h1>${esc(form.accepted[locale])}</h1>
<p class="panel-line">${esc(text('reference', locale))}: <strong class="reference">${esc(accepted.reference)}</strong></p>
<p class="panel-line">${esc(text('deadline', locale))}: <strong class="deadline"><time datetime="${esc(accepted.deadline)}">${esc(localDate(accepted.deadline))}</time></strong></p>
</div>
<p>${esc(text('deadlineNote', locale))}</p>
<p><a href="/forms/${slug}?lang=${locale.toLowerCase()}">${esc(text('another', locale))}</a></p>`;
  return layout(locale, slug, `${form.accepted[locale]} — ${text('chamber', locale)}`, main);
}

export function messagePage(locale: Locale, slug: FormSlug | null, message: string, linkToForm = false): string {
  const link = linkToForm && slug ? `\n<p><a href="/forms/${slug}?lang=${locale.toLowerCase()}">${esc(text('openForm', locale))}</a></p>` : '';
  return layout(locale, slug, `${message} — ${text('chamber', locale)}`, `<h1>${esc(message)}</h1>${link}`);
}
