import { ANONYMOUS, localeFromAcceptLanguage, t, type Locale, type Logger } from '@pdp/shared';
import express, { type Express, type Request, type Response } from 'express';
import { DESCRIPTION_MAX, DESCRIPTION_MIN } from '../../../services/appeals/src/domain/appeal';
import { metaOf } from '../http-request';
import type { GateRefusal } from '../refusals';
import { formAssets } from './assets';
import { FORM_TOKEN_FIELD, FormTokens, type PostVerdict } from './csrf';
import { dispatchGraphQL } from './dispatch';
import { acceptedPage, formPage, messagePage, type FormState, type PageContext, type PolicyText } from './render';
import { FIELDS, FORM_KINDS, FORMS, text, type FieldName, type FormSlug } from './texts';

/**
 * The public forms of Annexes 3–5 as pages of the gateway: `GET /forms/appeal|complaint|schedule`
 * (`?lang=kk|ru`, else Accept-Language) and the same path for a plain form post, which works with
 * JavaScript off. Every request the pages make — the privacy policy in force from consents, the
 * submission itself — goes through the gateway's own `/graphql` stack in process, as the person
 * (`dispatch.ts`): the gate's limits and rate limit apply, and the consent's evidence is their own
 * address and browser. Pages carry a strict Content-Security-Policy and load nothing from elsewhere.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TEMPLATES = `query FormTexts($locale: Locale!) { consentTemplates(locale: $locale) { code version title body effectiveFrom } }`;
const SUBMIT = `mutation SubmitAppeal($input: SubmitAppealInput!) { submitAppeal(input: $input) { appeal { reference deadline } } }`;

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }>;
}

function isForm(slug: string | undefined): slug is FormSlug {
  return (FORM_KINDS as readonly string[]).includes(slug ?? '');
}

function localeOf(req: Request): Locale {
  const asked = String(req.query.lang ?? (req.body as Record<string, unknown> | undefined)?.lang ?? '').toLowerCase();
  if (asked === 'kk') return 'KK';
  if (asked === 'ru') return 'RU';
  return localeFromAcceptLanguage(req.headers['accept-language']);
}

function secure(res: Response): void {
  res.set({
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    // Our own address only, to ourselves: browsers before Fetch Metadata then send the real
    // `Origin` with the form's post (under no-referrer they send `null`; csrf.ts); others get nothing.
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
}

function page(res: Response, status: number, html: string): void {
  secure(res);
  // A page after a post holds what the person typed: never stored by a cache.
  res.status(status).set('Cache-Control', 'no-store').type('html').send(html);
}

export interface FormsOptions {
  logger: Logger;
  /** The gateway's internal secret: the key of the pages' tokens is derived from it (csrf.ts). */
  secret: string;
  /** Refusals that are attempts (a cross-site post, a forged token) go to the audit like the gate's. */
  onRefused?: (refusal: GateRefusal) => void;
}

export function mountForms(app: Express, { logger, secret, onRefused }: FormsOptions): void {
  const tokens = new FormTokens(secret);
  // Built now, so the first page does not wait for it; a failure is logged and the pages work without it.
  formAssets().catch((err: unknown) => logger.error({ err: err instanceof Error ? err.message : 'unknown' }, 'forms script could not be built'));
  const router = express.Router();

  router.get('/assets/:name', async (req, res, next) => {
    const name = req.params.name;
    if (name !== 'form.js' && name !== 'form.css' && name !== 'icon.svg') return next();
    try {
      const asset = (await formAssets())[name];
      secure(res);
      res.set({ 'Content-Type': asset.type, ETag: asset.etag, 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding' });
      if (req.headers['if-none-match'] === asset.etag) return void res.status(304).end();
      if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return void res.set('Content-Encoding', 'gzip').send(asset.gzip);
      res.send(asset.body);
    } catch (err) {
      next(err);
    }
  });

  /** The privacy policy and the Annex 2 consent in force, from consents, as the person's request. */
  async function pageContext(req: Request, res: Response, slug: FormSlug, locale: Locale): Promise<PageContext | { status: number; message: string }> {
    const answer = await dispatchGraphQL(app, req, { query: TEMPLATES, variables: { locale } }, locale.toLowerCase());
    const body = JSON.parse(answer.body || '{}') as GraphQLAnswer<{ consentTemplates: Array<PolicyText & { code: string }> }>;
    const find = (code: string) => body.data?.consentTemplates.find((t) => t.code === code);
    const policy = find('PRIVACY_POLICY');
    const consent = find('ANNEX2_APPLICANT');
    if (policy && consent)
      return { slug, locale, policy, consent, description: { min: DESCRIPTION_MIN, max: DESCRIPTION_MAX }, token: tokens.issue(req, res, slug) };
    // No consent without the text it is given to: no form without the policy in force.
    if (answer.status === 429) return { status: 429, message: t('rate.limited', locale) };
    logger.warn({ status: answer.status, codes: body.errors?.map((e) => e.extensions?.code) }, 'forms: the policy in force could not be read');
    return { status: 503, message: text('unavailable', locale) };
  }

  router.get('/:form', async (req, res, next) => {
    const slug = req.params.form;
    if (!isForm(slug)) return next();
    const locale = localeOf(req);
    try {
      const ctx = await pageContext(req, res, slug, locale);
      if ('status' in ctx) return page(res, ctx.status, messagePage(locale, slug, ctx.message));
      page(res, 200, formPage(ctx));
    } catch (err) {
      next(err);
    }
  });

  router.post('/:form', express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 20 }), async (req, res, next) => {
    const slug = req.params.form;
    if (!isForm(slug)) return next();
    const locale = localeOf(req);
    const posted = (req.body ?? {}) as Record<string, unknown>;
    const values: FormState['values'] = Object.fromEntries(FIELDS.map((f) => [f, typeof posted[f] === 'string' ? (posted[f] as string) : '']));
    try {
      // Before anything is sent on: a post from another site, or without this page's token, stores nothing.
      const verdict = tokens.check(req, slug, posted[FORM_TOKEN_FIELD]);
      if (verdict !== 'ok') return await refusePost(req, res, slug, locale, verdict, values);
      const input = {
        kind: FORMS[slug].kind,
        iin: values.iin ?? '',
        phone: values.phone ?? '',
        email: values.email ?? '',
        description: values.description ?? '',
        privacyPolicyAccepted: values.privacyPolicyAccepted === 'true',
        locale,
      };
      const answer = await dispatchGraphQL(app, req, { query: SUBMIT, variables: { input } }, locale.toLowerCase());
      const body = JSON.parse(answer.body || '{}') as GraphQLAnswer<{ submitAppeal: { appeal: { reference: string; deadline: string } } }>;
      const appeal = body.data?.submitAppeal?.appeal;
      if (appeal) return page(res, 200, acceptedPage(slug, locale, appeal));
      const state: FormState = { values, errors: {} };
      for (const e of body.errors ?? []) {
        const field = FIELDS.find((f) => f === e.extensions?.field) as FieldName | undefined;
        if (field && !state.errors[field]) state.errors[field] = e.message;
        else if (!field) state.general ??= e.message;
      }
      if (!state.general && Object.keys(state.errors).length === 0) state.general = t('internal', locale);
      const ctx = await pageContext(req, res, slug, locale);
      if ('status' in ctx) return page(res, ctx.status, messagePage(locale, slug, state.general ?? ctx.message));
      page(res, answer.status === 429 ? 429 : 422, formPage(ctx, state));
    } catch (err) {
      next(err);
    }
  });

  /**
   * A refused post. From another site: a page that says so, with a link to the form — never the
   * form filled with what that site sent, ready to be sent on. Without a valid or fresh token (a page
   * left open too long, another browser's page, an old browser's post of an old page): the form
   * again with the person's entries and a new token, to check and send again.
   */
  async function refusePost(
    req: Request,
    res: Response,
    slug: FormSlug,
    locale: Locale,
    verdict: Exclude<PostVerdict, 'ok'>,
    values: FormState['values'],
  ): Promise<void> {
    // Attempts (never a person's slip: a missing or expired token) are audited like the gate's refusals.
    const code = verdict === 'cross-site' ? 'CROSS_SITE_POST' : verdict === 'invalid' ? 'FORM_TOKEN_INVALID' : null;
    if (code) onRefused?.({ codes: [code], status: 403, actor: ANONYMOUS, meta: metaOf(req, locale) });
    logger.warn({ form: slug, verdict }, 'forms: post refused, nothing stored');
    if (verdict === 'cross-site') return page(res, 403, messagePage(locale, slug, text('crossSite', locale), true));
    const ctx = await pageContext(req, res, slug, locale);
    const message = text(verdict === 'expired' ? 'tokenExpired' : 'tokenInvalid', locale);
    if ('status' in ctx) return page(res, ctx.status, messagePage(locale, slug, ctx.message));
    page(res, 403, formPage(ctx, { values, errors: {}, general: message }));
  }

  app.use('/forms', router);
}
