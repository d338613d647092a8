/**
 * `npm run compose:secrets`: the secrets of compose.yaml's stack, made once into PDP_COMPOSE_DIR
 * (./.data/compose by default) and kept: what one run encrypted, signed or stored the next must read.
 * - `<role>.env` for each service, the gateway and the development OpenID provider: its keys (its own
 *   event signing key, everyone's public keys, the field encryption keys…), its NATS user on the
 *   three-node cluster and its database URL with a role of its own (scripts/platform-env.ts decides
 *   who gets what, as for `npm start`);
 * - `nats-1.conf`…`nats-3.conf`: the cluster, with one user per service allowed its own work only
 *   (scripts/dev-nats.ts);
 * - `postgres.env` and `postgres-init/`: the superuser's password, and a role and a database per
 *   service (and the gateways' rate limits), made when the database volume is new.
 * Files are written 0600; the secrets file itself is `secrets.json`. Running it again adds what a
 * later version needs and rewrites the files from the kept secrets.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NATS_USERS, natsServerConfig, type NatsUser } from './dev-nats';
import { fillSecrets, processEnv, SERVICE_NAMES } from './platform-env';

/** 127.0.0.1 ports of compose.yaml (keep the two in step). */
export const COMPOSE_PORTS = {
  postgres: 25432,
  nats: [24222, 24223, 24224],
  natsCluster: [26222, 26223, 26224],
  natsMonitor: [28222, 28223, 28224],
} as const;

const DATABASES = [...SERVICE_NAMES, 'gateway'] as const;

export async function composeSecrets(dir: string): Promise<void> {
  mkdirSync(join(dir, 'postgres-init'), { recursive: true, mode: 0o700 });
  const file = join(dir, 'secrets.json');
  const kept: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const secrets = await fillSecrets(kept);
  const random = () => randomBytes(24).toString('base64url');
  secrets.AUDIT_CHECKPOINT_KEYS ??= JSON.stringify([{ keyId: 'compose-1', key: generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) }]);
  secrets.POSTGRES_PASSWORD ??= random();
  for (const db of DATABASES) secrets[`DB_PASSWORD_${db.toUpperCase()}`] ??= random();
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });

  // The database passwords go to the one process whose URL holds them, never to every process.
  const platform = Object.fromEntries(Object.entries(secrets).filter(([k]) => k !== 'POSTGRES_PASSWORD' && !k.startsWith('DB_PASSWORD_')));
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
  const databaseUrl = (db: (typeof DATABASES)[number]) =>
    `postgres://pdp_${db}:${secrets[`DB_PASSWORD_${db.toUpperCase()}`]}@127.0.0.1:${COMPOSE_PORTS.postgres}/pdp_${db}`;

  for (const service of SERVICE_NAMES) {
    const own: Record<string, string> = { DATABASE_URL: databaseUrl(service) };
    if (service === 'audit') own.AUDIT_CHECKPOINT_KEYS = secrets.AUDIT_CHECKPOINT_KEYS;
    // The first DPO: the development provider's `dpo` (your provider's account in production).
    if (service === 'appeals') own.BOOTSTRAP_DPO = 'dpo';
    write(`${service}.env`, envFile(processEnv(service, platform, natsUrl, own)));
  }
  write('gateway.env', envFile(processEnv('gateway', platform, natsUrl, { RATE_LIMIT_DATABASE_URL: databaseUrl('gateway') })));
  write(
    'oidc.env',
    envFile({
      DEV_OIDC_SIGNING_KEY: secrets.DEV_OIDC_SIGNING_KEY!,
      DEV_OIDC_COOKIE_KEY: secrets.DEV_OIDC_COOKIE_KEY!,
      DEV_OIDC_CLIENT_KEY: secrets.DEV_OIDC_CLIENT_KEY!,
    }),
  );
  write('postgres.env', envFile({ POSTGRES_PASSWORD: secrets.POSTGRES_PASSWORD }));
  // Run once, by the PostgreSQL image's entrypoint, when the data volume is new.
  const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;
  write(
    'postgres-init/10-pdp.sql',
    `${DATABASES.map(
      (db) => `CREATE ROLE pdp_${db} LOGIN PASSWORD ${sqlText(secrets[`DB_PASSWORD_${db.toUpperCase()}`]!)};\nCREATE DATABASE pdp_${db} OWNER pdp_${db};`,
    ).join('\n')}\n`,
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
