import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Logger } from '@pdp/shared';
import express, { type Express, type Request, type Response } from 'express';

/**
 * The staff console (console/): a single-page client of the public API, served here under
 * `/console/` — same origin as `/graphql`, so it needs no CORS and its requests meet the gate like
 * any other. The page is one HTML shell (every console path answers it; the client routes), one
 * script and one stylesheet: the ones `npm run build` put next to the gateway's bundle
 * (`dist/console/`), or — running from source, as the tests do — bundled now with esbuild, once per
 * process. A strict Content-Security-Policy: scripts and styles from here only, requests to here and
 * to the OpenID provider only (discovery and the token exchange), never framed, no referrer.
 */
interface Asset {
  body: string;
  gzip: Buffer;
  type: string;
  etag: string;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

async function bundle(): Promise<{ js: string; css: string }> {
  const built = here('./console/app.js');
  if (existsSync(built)) return { js: await readFile(built, 'utf8'), css: await readFile(here('./console/app.css'), 'utf8') };
  // Development tools, loaded only where there is no build (production installs no dev dependencies).
  const [{ build }, { consoleBuildOptions, CONSOLE_STYLES }] = await Promise.all([import('esbuild'), import('../../console/scripts/bundle')]);
  const result = await build({ ...consoleBuildOptions, write: false });
  return { js: result.outputFiles[0]!.text, css: await readFile(CONSOLE_STYLES, 'utf8') };
}

function asset(body: string, type: string): Asset {
  return { body, gzip: gzipSync(body, { level: 9 }), type, etag: createHash('sha256').update(body).digest('base64url').slice(0, 22) };
}

let loading: Promise<Record<'app.js' | 'app.css', Asset>> | null = null;
function consoleAssets() {
  loading ??= bundle().then(
    ({ js, css }) => ({ 'app.js': asset(js, 'text/javascript; charset=utf-8'), 'app.css': asset(css, 'text/css; charset=utf-8') }),
    (err: unknown) => {
      loading = null;
      throw err;
    },
  );
  return loading;
}

function shell(assets: Record<'app.js' | 'app.css', Asset>): string {
  return `<!doctype html>
<html lang="kk"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Қызметкерлер консолі · Консоль сотрудников</title>
<link rel="stylesheet" href="/console/app.css?v=${assets['app.css'].etag}">
<script type="module" src="/console/app.js?v=${assets['app.js'].etag}"></script>
</head><body><div id="app"></div>
<noscript><p lang="kk">Консоль JavaScript-ті қажет етеді.</p><p lang="ru">Для консоли нужен JavaScript.</p></noscript>
</body></html>
`;
}

export interface ConsoleOptions {
  logger: Logger;
  /** The OpenID provider the console signs in at: its origin is the one other place it may talk to. */
  issuer: string;
}

export function mountConsole(app: Express, { logger, issuer }: ConsoleOptions): void {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self' ${new URL(issuer).origin}`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const secure = (res: Response) =>
    res.set({
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
    });
  consoleAssets().catch((err: unknown) => logger.error({ err: err instanceof Error ? err.message : 'unknown' }, 'console could not be built'));
  const router = express.Router();
  const serveAsset = (name: 'app.js' | 'app.css') => async (req: Request, res: Response) => {
    const a = (await consoleAssets())[name];
    secure(res);
    res.set({ 'Content-Type': a.type, ETag: `"${a.etag}"`, 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding' });
    if (req.headers['if-none-match'] === `"${a.etag}"`) return void res.status(304).end();
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) res.set('Content-Encoding', 'gzip').send(a.gzip);
    else res.send(a.body);
  };
  router.get('/app.js', serveAsset('app.js'));
  router.get('/app.css', serveAsset('app.css'));
  router.get(/.*/, async (_req, res, next) => {
    try {
      const assets = await consoleAssets();
      secure(res);
      res.status(200).set('Cache-Control', 'no-store').type('html').send(shell(assets));
    } catch (err) {
      next(err);
    }
  });
  app.use('/console', router);
}
