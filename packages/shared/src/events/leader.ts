/**
 * One instance at a time: a PostgreSQL advisory lock held on a connection of its own (see
 * `ORDERED_TYPES`). The instance that holds it takes turns at consuming until the connection (and so
 * the lock) is lost — a database restart; a killed instance loses it with its process — and then
 * waits to take it again; meanwhile another instance may take it.
 */
import pg from 'pg';
import type { Logger } from '../logger';
import { describe } from './failures';

export interface LeaderOptions {
  databaseUrl: string;
  /** The advisory lock's name (hashed to its key). */
  lockName: string;
  applicationName: string;
  /** How often an instance without the lock tries to take it. */
  pollMs: number;
  logger: Logger;
  /** For the log lines. */
  consumer: string;
  stopping: () => boolean;
  /** Whether this instance waits for the lock (another holds it, or none can be taken now). */
  onStandby: (standby: boolean) => void;
  /** The function that ends the current wait or turn at once (stop, a stalled turn). */
  setWake: (wake: () => void) => void;
  /** One turn while the lock is held: resolves when it is over; `lost` resolves when the lock is. */
  turn: (lost: Promise<void>) => Promise<void>;
}

interface Session {
  client: pg.Client;
  gone: Promise<void>;
  lost: () => void;
}

/** Runs until `stopping()`: takes the lock when it can, and takes a turn while it holds it. Never rejects. */
export async function leadWhileLocked(o: LeaderOptions): Promise<void> {
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, o.pollMs);
      o.setWake(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  let session: Session | null = null;
  const end = async () => {
    await session?.client.end().catch(() => undefined);
    session = null;
  };
  while (!o.stopping()) {
    if (!session) {
      const client = new pg.Client({ connectionString: o.databaseUrl, application_name: o.applicationName, keepAlive: true });
      let lost!: () => void;
      const gone = new Promise<void>((resolve) => (lost = resolve));
      client.on('error', () => lost());
      client.on('end', () => lost());
      session = { client, gone, lost };
      try {
        await client.connect();
      } catch {
        await end();
        o.onStandby(true);
        await pause();
        continue;
      }
    }
    const current: Session = session;
    let held = false;
    try {
      const { rows } = await current.client.query<{ held: boolean }>('select pg_try_advisory_lock(hashtext($1)) as held', [o.lockName]);
      held = rows[0]?.held === true;
    } catch {
      await end();
    }
    o.onStandby(!held);
    if (held && !o.stopping()) {
      o.logger.info({ consumer: o.consumer }, 'ordered consumer: this instance consumes');
      // A connection that dies quietly is found by a query: the lock went with it.
      const check = setInterval(() => void current.client.query('select 1').catch(() => current.lost()), 5000);
      o.setWake(() => current.lost());
      try {
        await o.turn(current.gone);
      } catch (err) {
        o.logger.warn({ err: describe(err), consumer: o.consumer }, 'ordered consumer could not consume; trying again');
      } finally {
        clearInterval(check);
      }
      // The lock goes with the session: a new one, and a new try.
      await end();
      if (!o.stopping()) o.logger.warn({ consumer: o.consumer }, 'ordered consumer: lock lost; waiting to take it again');
    }
    if (!o.stopping()) await pause();
  }
  await end();
}
