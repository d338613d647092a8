import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface Asset {
  body: string;
  /** The same, gzip-compressed once (the script carries zod: ~490 kB, ~100 kB compressed). */
  gzip: Buffer;
  type: string;
  etag: string;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The forms' script: the one `npm run build` bundled next to the gateway's bundle (`form.js`), or —
 * running from source, as the tests do — bundled now from TypeScript (esbuild, a few tens of
 * milliseconds; once per process): the page's code plus the API's own field rules and messages,
 * with `@pdp/shared` resolved to its browser-safe part. No copy to drift either way.
 */
async function bundleScript(): Promise<string> {
  const built = here('./form.js');
  if (existsSync(built)) return readFile(built, 'utf8');
  // A development tool: loaded only when there is no build (production installs no dev dependencies).
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [here('./client.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    write: false,
    legalComments: 'none',
    alias: { '@pdp/shared': here('../../../packages/shared/src/browser.ts') },
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

function asset(body: string, type: string): Asset {
  return { body, gzip: gzipSync(body, { level: 9 }), type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

export type AssetName = 'form.js' | 'form.css' | 'icon.svg';

let loading: Promise<Record<AssetName, Asset>> | null = null;

/** The script, stylesheet and icon, made once per process and shared by every gateway in it. */
export function formAssets(): Promise<Record<AssetName, Asset>> {
  loading ??= Promise.all([bundleScript(), readFile(here('./form.css'), 'utf8'), readFile(here('./icon.svg'), 'utf8')]).then(
    ([js, css, icon]) => ({
      'form.js': asset(js, 'text/javascript; charset=utf-8'),
      'form.css': asset(css, 'text/css; charset=utf-8'),
      'icon.svg': asset(icon, 'image/svg+xml'),
    }),
    (err: unknown) => {
      loading = null; // the next request tries again
      throw err;
    },
  );
  return loading;
}
