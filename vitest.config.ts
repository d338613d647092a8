import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { defineConfig } from 'vitest/config';

// One graphql-js for everything: Apollo's packages load its CommonJS build, and Vite would otherwise
// give our own imports the ESM build — two realms whose schemas and types fail each other's checks.
const graphqlDir = dirname(createRequire(new URL('./gateway/package.json', import.meta.url)).resolve('graphql'));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^graphql$/, replacement: `${graphqlDir}/index.js` },
      { find: /^graphql\/(.*)$/, replacement: `${graphqlDir}/$1.js` },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'gateway/test/**/*.test.ts', 'tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
  },
});
