/**
 * `npm run compose:secrets`: the secrets of compose.yaml's stack, made once into PDP_COMPOSE_DIR
 * (./.data/compose by default) and kept: what one run encrypted, signed or stored the next must read.
 * - `<role>.env` for each service, the gateway and the development OpenID provider: its keys (its own
 *   event signing key, everyone's public keys, the field encryption keys…), its NATS user on the
 *   three-node cluster and its database URL with a role of its own (scripts/platform-env.ts decides
 *   who gets what, as for `npm start`);
 * - `nats-1.conf`…`nats-3.conf`: the cluster, with one user per service allowed its own work only
 *   (scripts/dev-nats.ts);
 * - `postgres.env` and `postgres-init/`: the superuser's password, and per service a database with
 *   its migration role `pdp_<service>_owner` and runtime role `pdp_<service>_app` (docs/security.md,
 *   "Database roles"; the service gets `MIGRATION_DATABASE_URL` and `DATABASE_URL` as these), plus the
 *   gateways' rate-limit database with a role of its own, made when the database volume is new.
 * Files are written 0600; the secrets file itself is `secrets.json`. Running it again adds what a
 * later version needs and rewrites the files from the kept secrets.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serviceDatabaseSql } from '@pdp/shared';
import { NATS_USERS, natsServerConfig, type NatsUser } from './dev-nats';
import { fillSecrets, processEnv, SERVICE_NAMES } from './platform-env';

/** 127.0.0.1 ports of compose.yaml (keep the two in step). */
export const COMPOSE_PORTS = {
  postgres: 25432,
  nats: [24222, 24223, 24224],
  natsCluster: [26222, 26223, 26224],
  natsMonitor: [28222, 28223, 28224],
} as const;

export async function composeSecrets(dir: string): Promise<void> {
  mkdirSync(join(dir, 'postgres-init'), { recursive: true, mode: 0o700 });
  const file = join(dir, 'secrets.json');
  const kept: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const secrets = await fillSecrets(kept);
  const random = () => randomBytes(24).toString('base64url');
  secrets.AUDIT_CHECKPOINT_KEYS ??= JSON.stringify([{ keyId: 'compose-1', key: generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) }]);
  secrets.POSTGRES_PASSWORD ??= random();
  secrets.DB_PASSWORD_GATEWAY ??= random();
  for (const service of SERVICE_NAMES) {
    secrets[`DB_OWNER_PASSWORD_${service.toUpperCase()}`] ??= random();
    secrets[`DB_APP_PASSWORD_${service.toUpperCase()}`] ??= random();
  }
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });

  // The database passwords go to the one process whose URL holds them, never to every process.
  const databaseSecret = (k: string) => k === 'POSTGRES_PASSWORD' || /^DB_(OWNER_|APP_)?PASSWORD_/.test(k);
  const platform = Object.fromEntries(Object.entries(secrets).filter(([k]) => !databaseSecret(k)));
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text, { mode: 0o600 });
  const envFile = (vars: Record<string, string>) =>
    `${Object.entries(vars)
      .map(([k, v]) => {
        if (/[\r\n]/.test(v)) throw new Error(`${k}: a multi-line value cannot go in an env file`);
        return `${k}=${v}`;
      })
      .join('\n')}\n`;

  const passwords = Object.fromEntries(NATS_USERS.map((u) => [u, secrets[`NATS_PASSWORD_${u.toUpperCase()}`]!])) as Record<NatsUser, string>;
  const natsUrl = (user: NatsUser) =>
    COMPOSE_PORTS.nats.map((port) => `nats://${encodeURIComponent(user)}:${encodeURIComponent(passwords[user])}@127.0.0.1:${port}`).join(',');
  const databaseUrl = (db: string, role: string, password: string) =>
    `postgres://${role}:${encodeURIComponent(password)}@127.0.0.1:${COMPOSE_PORTS.postgres}/${db}`;
  const ownerPassword = (service: string) => secrets[`DB_OWNER_PASSWORD_${service.toUpperCase()}`]!;
  const appPassword = (service: string) => secrets[`DB_APP_PASSWORD_${service.toUpperCase()}`]!;

  for (const service of SERVICE_NAMES) {
    // 7.2.1: migrations (and the runtime role's grants) as the owner, serving as the runtime role.
    const own: Record<string, string> = {
      DATABASE_URL: databaseUrl(`pdp_${service}`, `pdp_${service}_app`, appPassword(service)),
      MIGRATION_DATABASE_URL: databaseUrl(`pdp_${service}`, `pdp_${service}_owner`, ownerPassword(service)),
    };
    if (service === 'audit') own.AUDIT_CHECKPOINT_KEYS = secrets.AUDIT_CHECKPOINT_KEYS;
    // The first DPO: the development provider's `dpo` (your provider's account in production).
    if (service === 'appeals') own.BOOTSTRAP_DPO = 'dpo';
    write(`${service}.env`, envFile(processEnv(service, platform, natsUrl, own)));
  }
  write(
    'gateway.env',
    envFile(processEnv('gateway', platform, natsUrl, { RATE_LIMIT_DATABASE_URL: databaseUrl('pdp_gateway', 'pdp_gateway', secrets.DB_PASSWORD_GATEWAY) })),
  );
  write(
    'oidc.env',
    envFile({
      DEV_OIDC_SIGNING_KEY: secrets.DEV_OIDC_SIGNING_KEY!,
      DEV_OIDC_COOKIE_KEY: secrets.DEV_OIDC_COOKIE_KEY!,
      DEV_OIDC_CLIENT_KEY: secrets.DEV_OIDC_CLIENT_KEY!,
    }),
  );
  write('postgres.env', envFile({ POSTGRES_PASSWORD: secrets.POSTGRES_PASSWORD }));
  // Run once, by the PostgreSQL image's entrypoint, when the data volume is new; idempotent, so an
  // existing server is brought up to date by running it again (docs/operations.md).
  const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;
  // The gateways' rate limits hold no personal data: one role owning its database (security.md).
  write(
    'postgres-init/10-pdp.sql',
    `${SERVICE_NAMES.map((service) => serviceDatabaseSql(`pdp_${service}`, { owner: ownerPassword(service), runtime: appPassword(service) })).join('\n')}
\\connect postgres
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pdp_gateway') THEN CREATE ROLE pdp_gateway; END IF; END $$;
ALTER ROLE pdp_gateway LOGIN PASSWORD ${sqlText(secrets.DB_PASSWORD_GATEWAY)};
SELECT 'CREATE DATABASE pdp_gateway OWNER pdp_gateway' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'pdp_gateway')
\\gexec
`,
  );
  COMPOSE_PORTS.nats.forEach((port, i) => {
    const routes = COMPOSE_PORTS.natsCluster.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p}`);
    write(
      `nats-${i + 1}.conf`,
      natsServerConfig({
        port,
        storeDir: '/data/jetstream',
        prefix: 'pdp',
        passwords,
        httpPort: COMPOSE_PORTS.natsMonitor[i],
        cluster: { serverName: `nats-${i + 1}`, name: 'pdp', port: COMPOSE_PORTS.natsCluster[i]!, routes },
      }),
    );
  });
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  const dir = resolve(process.env.PDP_COMPOSE_DIR ?? join(import.meta.dirname, '..', '.data', 'compose'));
  await composeSecrets(dir);
  console.log(`compose secrets in ${dir} (keep this directory: the data is encrypted and signed with them)`);
}
