import { auditService } from '@pdp/audit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../support/client';
import { startSystem } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import { SERVICE_NAMES as SERVICES, type System } from '../support/system';

/**
 * Clause 7.2.1 (issue 22, item 6): each service serves with a role that may do only what the service
 * does. The platform under test runs as these roles (tests/support/system.ts), so every end-to-end
 * test is also a test that they are enough; this file proves they are no more.
 */
let system: System;
beforeAll(async () => {
  system = await startSystem();
  // Something in every table that matters: an appeal, its subject, consent and audit entries.
  await intakeSubject(system);
});
afterAll(async () => {
  await system?.destroy();
});

/** Runs `text` as `url`'s role; the PostgreSQL error code when refused, null when it ran. */
async function asRole(url: string, text: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query(text);
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
const INSUFFICIENT_PRIVILEGE = '42501';

describe('least privilege in the databases (7.2.1)', () => {
  it('7.2.1: the audit’s role cannot UPDATE, DELETE or TRUNCATE the audit log, its checkpoints or verification records', async () => {
    const audit = system.serviceDatabases.audit.runtimeUrl;
    for (const [table, column] of [
      ['audit_log', 'seq'],
      ['audit_checkpoints', 'seq'],
      ['audit_verifications', 'head_seq'],
    ]) {
      // Refused by the privileges, before any trigger: 42501 is "permission denied for table".
      expect(await asRole(audit, `update ${table} set ${column} = ${column}`), table).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await asRole(audit, `delete from ${table}`), table).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await asRole(audit, `truncate ${table}`), table).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await asRole(audit, `select count(*) from ${table}`), table).toBeNull();
    }
    // It appends: the entries of the intake above were written by this very role.
    const admin = new pg.Client({ connectionString: system.databaseUrls.audit });
    await admin.connect();
    const { rows } = await admin.query('select count(*)::int as n from audit_log');
    await admin.end();
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it('7.2.1: each table of the audit has its privileges stated, and the runtime role has exactly those', async () => {
    const admin = new pg.Client({ connectionString: system.databaseUrls.audit });
    await admin.connect();
    try {
      const tables = (
        await admin.query<{ t: string }>("select tablename as t from pg_tables where schemaname = 'public' and tablename not like 'kysely_%' order by 1")
      ).rows.map((r) => r.t);
      expect(Object.keys(auditService.tablePrivileges ?? {}).sort()).toEqual(tables);
      const role = system.serviceDatabases.audit.runtimeRole;
      for (const table of tables) {
        const granted = (
          await admin.query<{ p: string }>(
            `select privilege_type as p from information_schema.role_table_grants where grantee = $1 and table_name = $2 order by 1`,
            [role, table],
          )
        ).rows.map((r) => r.p);
        expect(granted, table).toEqual([...(auditService.tablePrivileges?.[table] ?? [])].sort());
      }
    } finally {
      await admin.end();
    }
  });

  it('7.2.1: a service’s role cannot connect to another service’s database', async () => {
    for (const own of SERVICES) {
      for (const other of SERVICES) {
        if (own === other) continue;
        const url = new URL(system.serviceDatabases[own].runtimeUrl);
        url.pathname = `/${system.serviceDatabases[other].name}`;
        expect(await asRole(url.toString(), 'select 1'), `${own} → ${other}`).toBe(INSUFFICIENT_PRIVILEGE);
      }
    }
  });

  it('7.2.1: no service role may change the schema at run time, nor is it a superuser', async () => {
    for (const name of SERVICES) {
      const url = system.serviceDatabases[name].runtimeUrl;
      expect(await asRole(url, 'create table intruder (id int)'), name).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await asRole(url, 'create temporary table intruder (id int)'), name).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await asRole(url, 'drop table outbox'), name).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await asRole(url, 'alter table outbox add column intruder int'), name).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await asRole(url, 'select * from kysely_migration'), name).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await asRole(url, 'create role intruder'), name).toBe(INSUFFICIENT_PRIVILEGE);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query('select rolsuper, rolcreatedb, rolcreaterole from pg_roles where rolname = current_user');
      await client.end();
      expect(rows[0], name).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false });
    }
  });

  it('7.2.1: the platform works on these roles (a staff read through the gateway)', async () => {
    const token = await system.tokenFor(['DPO'], { sub: 'dpo-db-roles' });
    const res = await graphql(system.url, '{ incidents { id } }', {}, { token });
    expect(res.errors).toBeUndefined();
  });
});
