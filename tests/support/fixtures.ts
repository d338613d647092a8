import { randomBytes } from 'node:crypto';
import { test as base } from 'vitest';
import type { Role } from '@pdp/shared';
import { graphql, type CallOptions, type GraphQLResponse } from './client';
import { testEnv } from './env';
import { System, type SystemOptions } from './system';

/** Calls the gateway, optionally as a role. */
export type Gw = (query: string, variables?: Record<string, unknown>, opts?: CallOptions & { as?: Role }) => Promise<GraphQLResponse<any>>;

interface Fixtures {
  system: System;
  gw: Gw;
}

let counter = 0;

/** A fresh platform with its own databases and stream; `overrides` change its options. */
export async function startSystem(overrides: Partial<SystemOptions> = {}): Promise<System> {
  const { serverUrl, natsUrl, runPrefix, provider } = testEnv();
  counter += 1;
  return new System({
    serverUrl,
    natsUrl,
    label: `${runPrefix}_${process.pid}_${counter}_${randomBytes(2).toString('hex')}`,
    provider,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  }).start();
}

/**
 * `system` is the whole platform, fresh for each test (own databases and stream), torn down after
 * it; `gw` calls its gateway. A test declares only what it needs.
 */
export const test = base.extend<Fixtures>({
  // eslint-disable-next-line no-empty-pattern
  system: async ({}, use) => {
    const system = await startSystem();
    await use(system);
    await system.destroy();
  },
  gw: async ({ system }, use) => {
    await use(async (query, variables = {}, opts = {}) => {
      const token = opts.as ? await system.tokenFor([opts.as]) : opts.token;
      return graphql(system.url, query, variables, { ...opts, token });
    });
  },
});

export { expect } from 'vitest';
