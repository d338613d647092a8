import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { databaseUrl } from './db';

/**
 * Least privilege in the databases (7.2.1; issue 22, item 6). Each service's database has two roles:
 *
 * - `<db>_owner`, the **migration role**: owns the database, its schema and every table; runs the
 *   migrations (`MIGRATION_DATABASE_URL`) and grants the runtime role its privileges after them.
 * - `<db>_app`, the **runtime role** the service serves with (`DATABASE_URL`): no superuser, no
 *   CREATEDB/CREATEROLE, CONNECT on its own database only (PUBLIC's CONNECT and TEMP are revoked, so no
 *   other service's role gets in), USAGE on the schema but no CREATE (no DDL at run time), and on each
 *   table only what the service does with it (`TablePrivileges`; the audit's log, checkpoints and
 *   verification records: SELECT and INSERT).
 *
 * `npm start` and the tests set both up as the server's administrator (`provisionServiceDatabase`);
 * a deployment creates them once with the SQL in docs/security.md, "Database roles".
 */

export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
/** What the runtime role may do with each table, by name; a table not named gets `DEFAULT_PRIVILEGES`. */
export type TablePrivileges = Record<string, readonly TablePrivilege[]>;

/** The usual rights of a service on its own tables: data, never TRUNCATE, REFERENCES or TRIGGER. */
export const DEFAULT_PRIVILEGES: readonly TablePrivilege[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
const ALL_TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] as const;
/** Kysely's bookkeeping: the migration role's alone. */
const MIGRATION_TABLES = new Set(['kysely_migration', 'kysely_migration_lock']);

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`bad identifier ${name}`);
  return `"${name}"`;
}
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

export interface ServiceDatabase {
  name: string;
  ownerRole: string;
  runtimeRole: string;
  /** The migration role's URL (`MIGRATION_DATABASE_URL`). */
  migrationUrl: string;
  /** The runtime role's URL (`DATABASE_URL`). */
  runtimeUrl: string;
  /** The administrator's URL of the same database (tests read what is stored through it). */
  adminUrl: string;
}

function withUser(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/**
 * The statements (one per row, `stmt`) that give the owner, the SQL expression `owner` (a parameter or
 * a literal), every table, view, sequence and function in `public` it does not own yet: what a database
 * made before the roles existed holds.
 */
function handOverQuery(owner: string): string {
  return `select format('alter table %I owner to %I', c.relname, ${owner}) as stmt from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm') and pg_get_userbyid(c.relowner) <> ${owner}
       union all
       select format('alter sequence %I owner to %I', c.relname, ${owner}) from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind = 'S' and pg_get_userbyid(c.relowner) <> ${owner}
           and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i'))
       union all
       select format('alter function %I(%s) owner to %I', p.proname, pg_get_function_identity_arguments(p.oid), ${owner}) from pg_proc p
         join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public' and pg_get_userbyid(p.proowner) <> ${owner}`;
}

const ROLE_OPTIONS = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';

/**
 * The same as `provisionServiceDatabase`, as a psql script for a deployment to run as the server's
 * administrator (compose.yaml's PostgreSQL runs it from `docker-entrypoint-initdb.d` when its volume
 * is new): the database `name`, its migration role `<name>_owner` and runtime role `<name>_app`, with
 * their passwords. Idempotent, and a database made before the roles existed is handed to the owner,
 * so an existing server is upgraded by running it again with `psql -v ON_ERROR_STOP=1 -f`.
 */
export function serviceDatabaseSql(name: string, passwords: { owner: string; runtime: string }): string {
  const db = ident(name);
  const owner = ident(`${name}_owner`);
  const runtime = ident(`${name}_app`);
  const ensureRole = (role: string) => `IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(role)}) THEN CREATE ROLE ${ident(role)}; END IF;`;
  return `-- ${name}: migration role ${name}_owner, runtime role ${name}_app (docs/security.md, "Database roles").
\\connect postgres
DO $$ BEGIN
  ${ensureRole(`${name}_owner`)}
  ${ensureRole(`${name}_app`)}
END $$;
ALTER ROLE ${owner} ${ROLE_OPTIONS} PASSWORD ${literal(passwords.owner)};
ALTER ROLE ${runtime} ${ROLE_OPTIONS} NOINHERIT PASSWORD ${literal(passwords.runtime)};
SELECT 'CREATE DATABASE ${db} OWNER ${owner}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${literal(name)})
\\gexec
ALTER DATABASE ${db} OWNER TO ${owner};
REVOKE ALL ON DATABASE ${db} FROM PUBLIC;
GRANT CONNECT ON DATABASE ${db} TO ${runtime};
\\connect ${name}
ALTER SCHEMA public OWNER TO ${owner};
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO ${runtime};
DO $$ DECLARE r record; BEGIN
  FOR r IN ${handOverQuery(literal(`${name}_owner`)).replace(/\n\s*/g, ' ')} LOOP EXECUTE r.stmt; END LOOP;
END $$;
`;
}

/**
 * As the server's administrator (`serverUrl`): the database `name`, owned by `<name>_owner`, and the
 * runtime role `<name>_app`, both with `password`. Idempotent; a database made before the roles
 * existed (an older `npm start`'s) is handed to the owner with everything in it.
 */
export async function provisionServiceDatabase(serverUrl: string, name: string, password: string): Promise<ServiceDatabase> {
  const owner = `${name}_owner`;
  const runtime = `${name}_app`;
  const admin = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await admin.connect();
  try {
    for (const [role, extra] of [
      [owner, ''],
      [runtime, ' NOINHERIT'],
    ] as const) {
      const exists = await admin.query('select 1 from pg_roles where rolname = $1', [role]);
      const options = `${ROLE_OPTIONS}${extra} PASSWORD ${literal(password)}`;
      try {
        await admin.query(`${exists.rowCount ? 'alter' : 'create'} role ${ident(role)} ${options}`);
      } catch (err) {
        // Two systems made at once race on CREATE ROLE only for the same name, which ours never share.
        if ((err as { code?: string }).code !== '42710') throw err;
      }
    }
    const db = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (!db.rowCount) await admin.query(`create database ${ident(name)} owner ${ident(owner)}`);
    else await admin.query(`alter database ${ident(name)} owner to ${ident(owner)}`);
    await admin.query(`revoke all on database ${ident(name)} from public`);
    await admin.query(`grant connect on database ${ident(name)} to ${ident(runtime)}`);
  } finally {
    await admin.end();
  }
  const inside = new pg.Client({ connectionString: databaseUrl(serverUrl, name) });
  await inside.connect();
  try {
    await inside.query(`alter schema public owner to ${ident(owner)}`);
    await inside.query('revoke create on schema public from public');
    await inside.query(`grant usage on schema public to ${ident(runtime)}`);
    // Objects made by the administrator before the roles existed become the owner's, so its migrations can change them.
    const { rows } = await inside.query<{ stmt: string }>(handOverQuery('$1::text'), [owner]);
    for (const { stmt } of rows) await inside.query(stmt);
  } finally {
    await inside.end();
  }
  const adminUrl = databaseUrl(serverUrl, name);
  return {
    name,
    ownerRole: owner,
    runtimeRole: runtime,
    migrationUrl: withUser(adminUrl, owner, password),
    runtimeUrl: withUser(adminUrl, runtime, password),
    adminUrl,
  };
}

/**
 * After the migrations, as the migration role: the runtime role gets on each table exactly what
 * `privileges` says (`DEFAULT_PRIVILEGES` for a table it does not name) and nothing else, USAGE on the
 * sequences, nothing on Kysely's bookkeeping. Only GRANTs and REVOKEs of what is not allowed, so a
 * second instance starting at the same time never takes a right away from a running one.
 */
export async function grantRuntime(db: Kysely<any>, runtimeRole: string, privileges: TablePrivileges = {}): Promise<void> {
  const role = ident(runtimeRole);
  const { rows } = await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = 'public' order by tablename`.execute(db);
  for (const { name } of rows) {
    const allowed = MIGRATION_TABLES.has(name) ? [] : (privileges[name] ?? DEFAULT_PRIVILEGES);
    const denied = ALL_TABLE_PRIVILEGES.filter((p) => !allowed.includes(p as TablePrivilege));
    if (denied.length > 0) await sql.raw(`revoke ${denied.join(', ')} on table ${ident(name)} from ${role}`).execute(db);
    if (allowed.length > 0) await sql.raw(`grant ${allowed.join(', ')} on table ${ident(name)} to ${role}`).execute(db);
  }
  await sql.raw(`grant usage, select on all sequences in schema public to ${role}`).execute(db);
}

/** The roles a runtime connection must not have: what it is allowed beyond its data, by name. */
export async function runtimeRoleExcess(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ superuser: boolean; createdb: boolean; createrole: boolean; schema_create: boolean; db_create: boolean; owns: boolean }>`
    select r.rolsuper as superuser, r.rolcreatedb as createdb, r.rolcreaterole as createrole,
           has_schema_privilege('public', 'CREATE') as schema_create,
           has_database_privilege(current_database(), 'CREATE') as db_create,
           exists (select 1 from pg_tables where schemaname = 'public' and tableowner = current_user) as owns
      from pg_roles r where r.rolname = current_user`.execute(db);
  const row = rows[0];
  if (!row) return [];
  const excess: string[] = [];
  if (row.superuser) excess.push('SUPERUSER');
  if (row.createdb) excess.push('CREATEDB');
  if (row.createrole) excess.push('CREATEROLE');
  if (row.schema_create || row.db_create) excess.push('CREATE (DDL)');
  if (row.owns) excess.push('owns tables');
  return excess;
}

/** Drops the roles whose names start with `prefix` (a test run's), after their databases are gone. */
export async function dropRoles(serverUrl: string, prefix: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(prefix)) throw new Error(`bad prefix ${prefix}`);
  const admin = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ rolname: string }>('select rolname from pg_roles where rolname like $1', [`${prefix}%`]);
    for (const { rolname } of rows) await admin.query(`drop role if exists ${ident(rolname)}`).catch(() => undefined);
  } finally {
    await admin.end();
  }
}
