import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { chooseBrowser, registryChromium } from './chromium';
import { dropRun } from './system';

/**
 * One prefix per test run: every test file makes its own databases and stream under it, and the
 * teardown drops them all, so runs and files never share state.
 */
export default async function setup(project: TestProject) {
  const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const natsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  const runPrefix = `t${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  project.provide('serverUrl', serverUrl);
  project.provide('natsUrl', natsUrl);
  project.provide('runPrefix', runPrefix);
  await unpackBrowser();
  return async () => {
    await dropRun(serverUrl, natsUrl, runPrefix);
  };
}

/**
 * The registry's Chromium is unpacked here, once, before any worker starts (~3 s the first time in a
 * checkout), so that no two test files unpack it at once and no test's timeout pays for it. A
 * failure is left to the browser tests, which report it in their one line.
 */
async function unpackBrowser(): Promise<void> {
  try {
    if (chooseBrowser().kind === 'registry') await registryChromium();
  } catch {
    // reported by launchBrowser() in each browser test file
  }
}
