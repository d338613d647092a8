import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { FormSlug } from './texts';

/**
 * Cross-site form posts (docs/security.md, "The public forms"). A hostile page could post the form
 * with the visitor's browser — filing an appeal and a consent under the visitor's address and user
 * agent, evidence it would have manufactured. Two independent checks stop it:
 *
 * 1. **Fetch Metadata and Origin.** A browser says where a request came from: `Sec-Fetch-Site`
 *    (anything but `same-origin` — or `none`, the person's own navigation — is refused), or, in a
 *    browser too old to send it, `Origin` (it must be the gateway's own, as the person's browser
 *    addressed it: scheme and host, through a reverse proxy when `TRUST_PROXY` is on). A browser
 *    that sends neither still meets check 2.
 * 2. **A per-page token bound to the browser** (the signed double-submit pattern): each form page
 *    carries a hidden token of its own, an HMAC over the form, the time it was issued, a random part
 *    and a random value held in an HttpOnly cookie of this browser (`__Host-` over HTTPS, so no subdomain can plant one). A
 *    hostile page can neither read the token nor make one for the visitor's cookie; it expires after
 *    `FORM_TOKEN_LIFETIME_MS`. No JavaScript is needed: the token is an ordinary form field.
 *
 * The key is derived (HKDF) from the gateway's own private key (ACTOR_SIGNING_KEY), so every instance of the gateway
 * accepts the tokens of the others and no new secret has to be configured.
 */
export const FORM_TOKEN_LIFETIME_MS = 2 * 3600_000;
export const FORM_TOKEN_FIELD = 'formToken';

/**
 * Why a post was refused: it came from elsewhere; its token is missing, wrong (not made by us for this
 * form and this browser) or too old; or the browser has no cookie to bind it to (cookies off,
 * another browser's page).
 */
export type PostVerdict = 'ok' | 'cross-site' | 'missing' | 'invalid' | 'expired' | 'unbound';

/** The cookie outlives the tokens it binds, so a page left open too long is told it expired. */
const COOKIE_MAX_AGE_MS = 24 * 3600_000;

const BINDING = /^[A-Za-z0-9_-]{22}$/;

/** Over HTTPS the cookie is `__Host-` (Secure, path /, no Domain: only this host may set it). */
function cookieName(req: Request): string {
  return req.secure ? '__Host-pdp-forms' : 'pdp-forms';
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The gateway's own origin as the browser addressed it (`X-Forwarded-Proto`/`-Host` only with `trust proxy`). */
export function ownOrigin(req: Request): string {
  return `${req.protocol}://${req.host}`.toLowerCase();
}

/**
 * A post that a browser says comes from another site or origin (the algorithm of Go's
 * `http.CrossOriginProtection`). `Sec-Fetch-Site`, which no page can set, decides when the browser
 * sends it — it also covers a page whose referrer policy makes the browser send `Origin: null` for its
 * own posts. Without it (browsers before 2023), `Origin` must be the gateway's own; `null` (a sandboxed
 * frame, a privacy redirect) is not. A request with neither is no browser's cross-site post: the
 * token alone decides.
 */
export function isCrossSite(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = req.get('origin');
  return origin !== undefined && origin.toLowerCase() !== ownOrigin(req);
}

export class FormTokens {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly lifetimeMs = FORM_TOKEN_LIFETIME_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'pdp-gateway', 'public form post token v1', 32));
  }

  private mac(slug: FormSlug, binding: string, issued: number, nonce: string): Buffer {
    return createHmac('sha256', this.key).update(`${slug}|${binding}|${issued}|${nonce}`).digest();
  }

  /**
   * A token for a form page, bound to this browser's cookie (made, or kept and renewed, here). Call
   * it for every page that shows the form, so the person always sends a fresh one.
   */
  issue(req: Request, res: Response, slug: FormSlug): string {
    const name = cookieOf(req, cookieName(req));
    const binding = name && BINDING.test(name) ? name : randomBytes(16).toString('base64url');
    res.cookie(cookieName(req), binding, {
      httpOnly: true,
      sameSite: 'lax',
      secure: req.secure,
      path: '/',
      maxAge: Math.max(COOKIE_MAX_AGE_MS, this.lifetimeMs),
    });
    const issued = Math.floor(this.now() / 1000);
    // A random part makes each page's token its own (and keeps a compressed page from repeating one).
    const nonce = randomBytes(9).toString('base64url');
    return `${issued}.${nonce}.${this.mac(slug, binding, issued, nonce).toString('base64url')}`;
  }

  /** Whether a post may go on: from this origin, with a token of this form for this browser, in time. */
  check(req: Request, slug: FormSlug, token: unknown): PostVerdict {
    if (isCrossSite(req)) return 'cross-site';
    if (typeof token !== 'string' || token === '') return 'missing';
    const binding = cookieOf(req, cookieName(req));
    if (!binding || !BINDING.test(binding)) return 'unbound';
    const match = /^(\d{1,12})\.([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return 'invalid';
    const issued = Number(match[1]);
    const given = Buffer.from(match[3]!, 'base64url');
    if (!timingSafeEqual(given, this.mac(slug, binding, issued, match[2]!))) return 'invalid';
    const age = this.now() - issued * 1000;
    // A token from the future (a minute of clock skew between instances allowed) is not genuine.
    if (age < -60_000) return 'invalid';
    return age > this.lifetimeMs ? 'expired' : 'ok';
  }
}
