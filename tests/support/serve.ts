/**
 * Runs the whole platform (System) in a child process for tests that must see what it writes to
 * stdout and stderr — the log-privacy test reads every line. Prints one JSON line with the URLs when
 * ready; SIGTERM stops it and drops its databases and stream.
 */
import { System } from './system';

const system = await new System({
  serverUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  natsUrl: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
  label: process.env.SYSTEM_LABEL ?? `serve_${process.pid}`,
  // The provider of the test that started this process (tests/support/global-setup.ts).
  provider: JSON.parse(process.env.TEST_PROVIDER ?? 'null'),
  logLevel: process.env.LOG_LEVEL ?? 'debug',
}).start();

process.stdout.write(
  `${JSON.stringify({ ready: true, gateway: system.url, services: Object.fromEntries([...system.services].map(([name, s]) => [name, s.url])) })}\n`,
);
process.once('SIGTERM', () => {
  system.destroy().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
