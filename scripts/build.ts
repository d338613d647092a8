/**
 * `npm run build`: the JavaScript production runs with plain `node`, no TypeScript loader.
 *
 * - The supergraph, composed from the subgraphs' SDL files and checked now: a composition error
 *   fails the build (exit 1), not the gateway's start. `gateway/dist/supergraph.graphql` is what the
 *   gateway serves; it checks each running subgraph against it at start (gateway/src/schema-check.ts).
 * - One bundle per process (esbuild): each service's `services/<name>/dist/index.js`, the gateway's
 *   `gateway/dist/index.js`, the development OpenID provider's, and `npm start`'s own. The
 *   workspace's TypeScript (`@pdp/*`) is compiled into each bundle; every package from the npm
 *   registry stays an import, resolved from node_modules at run time (production installs them
 *   without dev dependencies). A bundle sits where its sources' `import.meta.url`-relative files
 *   expect it (`../schema.graphql` from `services/<name>/dist/`).
 * - The public forms' script, bundled for browsers (what the gateway would otherwise bundle at start),
 *   with the forms' stylesheet and icon next to the gateway's bundle.
 * - The staff console (console/): its operations typed against the API first (codegen, as
 *   `npm run codegen` does: a field the console asks for that the API lacks fails the build), then
 *   bundled for browsers into `gateway/dist/console/`.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { generate } from '@graphql-codegen/cli';
import codegenConfig from '../codegen';
import { consoleBuildOptions, CONSOLE_STYLES } from '../console/scripts/bundle';
import { writeApiSchema } from '../console/scripts/api-schema';
import { composeSupergraph, PLACEHOLDER_URLS, SUBGRAPHS } from '../gateway/src/composition';

const root = join(import.meta.dirname, '..');
const at = (path: string) => join(root, path);

/**
 * Packages from the npm registry stay imports, but pinned to the file they resolve to from where
 * they were imported, written relative to the bundle: pnpm gives each workspace package its own
 * node_modules, so `pino` imported by @pdp/shared's code — compiled into a service's bundle — would not
 * be found from the service's folder by name. The workspace's own packages (`@pdp/*`, TypeScript)
 * are compiled in; Node's built-ins stay as they are.
 */
function pinnedPackages(outfile: string): Plugin {
  return {
    name: 'pinned-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.path.startsWith('@pdp/') || args.pluginData === 'pinning') return undefined;
        const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'pinning' });
        if (found.errors.length > 0) return { errors: found.errors };
        if (found.external || !isAbsolute(found.path)) return { path: args.path, external: true };
        const rel = relative(dirname(outfile), found.path).split(sep).join('/');
        return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
      });
    },
  };
}

const PROCESSES: Array<[entry: string, out: string]> = [
  ...SUBGRAPHS.map((name): [string, string] => [`services/${name}/src/index.ts`, `services/${name}/dist/index.js`]),
  ['gateway/src/index.ts', 'gateway/dist/index.js'],
  ['packages/dev-oidc/src/main.ts', 'packages/dev-oidc/dist/main.js'],
  ['scripts/start.ts', 'scripts/dist/start.js'],
];

async function main(): Promise<void> {
  const started = performance.now();
  // Composition first: nothing is written when the subgraphs do not compose.
  const supergraph = composeSupergraph(PLACEHOLDER_URLS);
  for (const dir of ['gateway/dist', 'packages/dev-oidc/dist', 'scripts/dist', ...SUBGRAPHS.map((n) => `services/${n}/dist`)]) {
    rmSync(at(dir), { recursive: true, force: true });
  }
  mkdirSync(at('gateway/dist'), { recursive: true });
  writeFileSync(at('gateway/dist/supergraph.graphql'), supergraph);
  // The SDLs it was composed from: the gateway checks each running subgraph against them.
  for (const name of SUBGRAPHS) copyFileSync(at(`services/${name}/schema.graphql`), at(`gateway/dist/${name}.graphql`));

  await Promise.all(
    PROCESSES.map(([entry, out]) =>
      build({
        entryPoints: [at(entry)],
        outfile: at(out),
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node24',
        sourcemap: 'linked',
        plugins: [pinnedPackages(at(out))],
        logLevel: 'warning',
      }),
    ),
  );

  // The forms' assets next to the gateway's bundle (gateway/src/forms/assets.ts reads them there).
  await build({
    entryPoints: [at('gateway/src/forms/client.ts')],
    outfile: at('gateway/dist/form.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    legalComments: 'none',
    alias: { '@pdp/shared': at('packages/shared/src/browser.ts') },
    logLevel: 'warning',
  });
  for (const file of ['form.css', 'icon.svg']) copyFileSync(at(`gateway/src/forms/${file}`), at(`gateway/dist/${file}`));

  // The staff console next to the gateway's bundle (gateway/src/console.ts reads it there).
  writeApiSchema();
  await generate({ ...codegenConfig, cwd: root, silent: true }, true);
  mkdirSync(at('gateway/dist/console'), { recursive: true });
  await build({ ...consoleBuildOptions, outfile: at('gateway/dist/console/app.js'), logLevel: 'warning' });
  copyFileSync(CONSOLE_STYLES, at('gateway/dist/console/app.css'));
  mkdirSync(dirname(at('scripts/dist/start.js')), { recursive: true });
  console.error(
    `build: ${PROCESSES.length} bundles, the supergraph, the forms' assets and the console in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

main().catch((err: unknown) => {
  console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
