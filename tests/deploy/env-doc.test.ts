import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * docs/operations.md names every environment variable a process of the platform reads: each
 * `process.env.NAME` in the processes' and scripts' code, and each key of the zod models the
 * configuration parsers read the environment with (packages/shared/src/env.ts, each service's
 * config.ts, the gateway's, the development provider's). A variable added to the code and not to
 * the doc fails here.
 */
const root = join(import.meta.dirname, '..', '..');
const SOURCES = [
  'packages/shared/src',
  'packages/dev-oidc/src',
  'gateway/src',
  'services/subjects/src',
  'services/appeals/src',
  'services/consents/src',
  'services/audit/src',
  'scripts',
  'deploy',
];
/** Read by the code but not the platform's to document: the shell's. */
const NOT_OURS = new Set(['PATH']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === 'generated') return [];
    if (statSync(path).isDirectory()) return files(path);
    return /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

export function variablesRead(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of SOURCES.flatMap((d) => files(join(root, d)))) {
    const text = readFileSync(file, 'utf8');
    const rel = file.slice(root.length + 1);
    for (const m of text.matchAll(/process\.env(?:\.([A-Z_][A-Z0-9_]*)|\[['"]([A-Z_][A-Z0-9_]*)['"]\])/g)) found.set((m[1] ?? m[2])!, rel);
    // Keys of the zod models of the environment: every `NAME:` key of a configuration parser's file
    // (env.ts, config.ts, the development provider's main.ts), and `NAME: z…` anywhere else.
    const parser = /(^|\/)(env|config|main)\.ts$/.test(rel);
    const key = parser ? /^\s+([A-Z][A-Z0-9_]{2,}): /gm : /^\s+([A-Z][A-Z0-9_]{2,}): z\b/gm;
    for (const m of text.matchAll(key)) found.set(m[1]!, rel);
  }
  for (const name of NOT_OURS) found.delete(name);
  return found;
}

describe('docs/operations.md', () => {
  const doc = readFileSync(join(root, 'docs', 'operations.md'), 'utf8');
  const read = variablesRead();

  it('finds the variables the code reads (the scan itself works)', () => {
    for (const name of [
      'DATABASE_URL',
      'NATS_URL',
      'EVENTS_PREFIX',
      'OIDC_ISSUER',
      'DEV_OIDC_TOKEN_TTL_SECONDS',
      'AUDIT_WORK_HOURS',
      'INSTANCES',
      'PDP_COMPOSE_DIR',
    ]) {
      expect(read.has(name), name).toBe(true);
    }
  });

  it('names every variable a process reads', () => {
    const missing = [...read].filter(([name]) => !doc.includes(`\`${name}\``)).map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
  });
});
