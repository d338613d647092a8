import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface Asset {
  body: string;
  /** The same, gzip-compressed once (the script carries zod: ~490 kB, ~100 kB compressed). */
  gzip: Buffer;
  type: string;
  etag: string;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The forms' script, bundled from TypeScript when the gateway starts (esbuild, a few tens of
 * milliseconds; once per process): the page's code plus the API's own field rules and messages,
 * with `@pdp/shared` resolved to its browser-safe part. No build step to forget, no copy to drift.
 */
async function bundleScript(): Promise<string> {
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
