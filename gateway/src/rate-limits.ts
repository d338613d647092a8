/**
 * The gateway's rate limits, counted where every gateway sees them: rate-limiter-flexible's
 * PostgreSQL store (`RATE_LIMIT_DATABASE_URL`, one small table), so two gateways allow together
 * what one allows, not twice as much. A key that is over its limit is remembered in memory until its
 * window ends (`inMemoryBlockOnConsumed`), so a flood costs the database nothing more; while the
 * database is away, each gateway counts in its own memory (`insuranceLimiter`) — limits per instance
 * for that while, never none. Without a database (a gateway test of its own) the counts are in memory.
 *
 * Clients are counted by address, and an IPv6 client by its /64: one subscriber's network hands its
 * devices (and an attacker) addresses from the same /64, so counting per address would multiply the
 * limit by 2^64. An IPv4 address mapped into IPv6 (`::ffff:1.2.3.4`) is the IPv4 address.
 */
import ipaddr from 'ipaddr.js';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface Limiter {
  readonly points: number;
  consume(key: string, points: number): Promise<unknown>;
}

/** Which client a request counts against: its IPv4 address, or its IPv6 /64. */
export function clientKey(ip: string | null): string {
  if (!ip) return 'unknown';
  try {
    let addr = ipaddr.parse(ip);
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
    if (addr.kind() === 'ipv4') return addr.toString();
    const parts = (addr as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
    return `${parts.join(':')}::/64`;
  } catch {
    return `raw:${ip.slice(0, 64)}`;
  }
}

const TABLE = 'pdp_rate_limits';

/** Makes limiters over one shared store (or memory); `ready` resolves once the store's table exists. */
export class LimiterFactory {
  private readonly pending: Array<Promise<void>> = [];
  private readonly table: Promise<void> | null;

  constructor(private readonly store: pg.Pool | null) {
    this.table = store ? createTable(store) : null;
  }

  make(name: string, points: number): Limiter | null {
    if (points <= 0) return null;
    const memory = new RateLimiterMemory({ points, duration: 60, keyPrefix: name });
    if (!this.store) return memory;
    let limiter!: RateLimiterAbstract;
    this.pending.push(
      new Promise<void>((resolve, reject) => {
        limiter = new RateLimiterPostgres(
          {
            storeClient: this.store,
            storeType: 'pool',
            tableName: TABLE,
            // Made once by createTable: the library's own CREATE TABLE races when several start at once.
            tableCreated: true,
            keyPrefix: name,
            points,
            duration: 60,
            inMemoryBlockOnConsumed: points,
            inMemoryBlockDuration: 60,
            insuranceLimiter: memory,
            clearExpiredByTimeout: true,
          },
          (err?: Error) => (err ? reject(err) : resolve()),
        );
      }),
    );
    return limiter;
  }

  /** The store's table is there (created by the library at the first start). */
  async ready(): Promise<void> {
    await this.table;
    await Promise.all(this.pending);
  }
}

/**
 * The limiter's table (its own layout: key, points, expire), made under an advisory lock: several
 * gateways (and a gateway's three limiters) starting at once must not race on PostgreSQL's catalog.
 */
async function createTable(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query("select pg_advisory_xact_lock(hashtext('pdp-rate-limits-table'))");
    await client.query(`create table if not exists ${TABLE} (key varchar(255) primary key, points integer not null default 0, expire bigint)`);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
