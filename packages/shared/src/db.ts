import { Kysely, Migrator, PostgresDialect, sql, type Migration } from 'kysely';
import pg from 'pg';
import { platformMigrations } from './events/migrations';
import { traceQueries, tracingOn } from './tracing';
import { KZ_OFFSET_MS } from './workdays';

// Timestamps and bigints come back as strings/Dates we control, not lossy JS numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);
// A DATE is a calendar day (e.g. a deadline), not an instant: keep it as YYYY-MM-DD.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export function createDb<DB>(connectionString: string, max = 10): Kysely<DB> {
  const pool = new pg.Pool({ connectionString, max, idleTimeoutMillis: 30_000, application_name: 'pdp' });
  // An idle connection closed by the server (restart, failover) must not crash the process: the
  // pool drops it and the next query opens a new one.
  pool.on('error', () => undefined);
  // A connection that dies while checked out (a transaction waiting on a publish during a database
  // restart) emits 'error' on its client, where the pool no longer listens: without this listener
  // that is an unhandled 'error' event and the process dies. The query in flight fails on its own.
  const traced = tracingOn() ? databaseTarget(connectionString) : null;
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    // While tracing, each statement made inside a trace is a span (tracing.ts); off, nothing is wrapped.
    if (traced) traceQueries(client, traced);
  });
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

function databaseTarget(connectionString: string): { database: string; host: string; port: number } {
  const url = new URL(connectionString);
  return { database: decodeURIComponent(url.pathname.slice(1)) || 'postgres', host: url.hostname, port: Number(url.port || 5432) };
}

/**
 * Brings a service database to its latest schema: the platform's tables (outbox, inbox, parked
 * events) first, then the service's own frozen migrations. Fails loudly on any error. `before`
 * stops short of that migration (platform's and service's alike, by name): a database as a release
 * before it left it, for the tests of an upgrade.
 */
export async function migrateToLatest(db: Kysely<any>, migrations: Record<string, Migration>, opts: { before?: string } = {}): Promise<void> {
  const every = { ...platformMigrations, ...migrations };
  const before = opts.before;
  const all = before === undefined ? every : Object.fromEntries(Object.entries(every).filter(([name]) => name < before));
  const migrator = new Migrator({ db, provider: { getMigrations: async () => all } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed`, { cause: error });
  }
}

/** Creates a database on a server when it does not exist yet (for `npm start` and tests). */
export async function ensureDatabase(serverUrl: string, name: string, template?: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) {
      await client.query(`create database ${name}${template ? ` template ${template}` : ''}`);
    }
  } finally {
    await client.end();
  }
  return databaseUrl(serverUrl, name);
}

export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function pingDb(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** The Kazakhstan calendar day (UTC+5, `KZ_OFFSET_MS`) of a timestamp column, in SQL. */
export function kazakhstanDateOf(column: string) {
  return sql<string>`((${sql.ref(column)} at time zone 'UTC') + ${sql.raw(`interval '${KZ_OFFSET_MS / 3_600_000} hours'`)})::date`;
}
