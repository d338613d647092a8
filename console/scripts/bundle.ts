import type { BuildOptions } from 'esbuild';

/**
 * How the console is bundled, in one place: by `npm run build` (to gateway/dist/console/) and, when
 * there is no build (the tests, `tsx`), by the gateway at its first request for it. Preact's JSX, one
 * ES module for today's browsers, minified; the stylesheet is a plain file next to it.
 */
export const CONSOLE_ENTRY = new URL('../src/main.tsx', import.meta.url);
export const CONSOLE_STYLES = new URL('../src/console.css', import.meta.url);

export const consoleBuildOptions: BuildOptions = {
  entryPoints: [CONSOLE_ENTRY.pathname],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  legalComments: 'none',
  logLevel: 'silent',
  define: { 'process.env.NODE_ENV': '"production"' },
};
