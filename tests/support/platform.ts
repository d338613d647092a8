/**
 * The platform as production runs it: each service instance and the gateway its own OS process
 * (`node --import tsx services/<name>/src/index.ts`), supervised like `npm start` does (a process that
 * dies is started again), against throwaway PostgreSQL and NATS servers that the fault suite may kill.
 * Each process's output goes to a log file in the run's directory.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, ensureDatabase, provisionServiceDatabase, type PlatformTables, type ServiceDatabase } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import type { Kysely } from 'kysely';
import { fillSecrets, processEnv, SERVICE_NAMES, type PlatformService } from '../../scripts/platform-env';
import { Supervisor, type Supervised } from '../../scripts/supervisor';
import type { AppealsDatabase } from '@pdp/appeals';
import type { AuditDatabase } from '@pdp/audit';
import type { ConsentsDatabase } from '@pdp/consents';
import type { SubjectsDatabase } from '@pdp/subjects';
import { freePort, ThrowawayNats, ThrowawayPostgres, track } from './throwaway';
import { Accounts, BOOTSTRAP_DPO, type AccountOptions, type ProviderInfo } from './identity';
import type { Role } from '@pdp/shared';

const root = new URL('../..', import.meta.url).pathname;

export interface ProcessPlatformOptions {
  /** The OpenID provider the gateway trusts (the run's development provider). */
  provider: ProviderInfo;
  /** Instances of each service (the gateway balances between them). */
  instances?: number;
  /** NATS nodes: 1, or a three-node JetStream cluster (streams with 3 replicas). */
  natsNodes?: 1 | 3;
  logLevel?: string;
  /** More environment for every process (e.g. the `OTEL_*` variables of the tracing test). */
  env?: Record<string, string>;
}

interface Databases {
  subjects: Kysely<SubjectsDatabase>;
  appeals: Kysely<AppealsDatabase>;
  consents: Kysely<ConsentsDatabase>;
  audit: Kysely<AuditDatabase>;
}

export interface Instance {
  service: PlatformService;
  index: number;
  port: number;
  process: Supervised;
  url: string;
}

export class ProcessPlatform {
  readonly supervisor: Supervisor;
  readonly instances: Instance[] = [];
  gateway!: Supervised;
  gatewayUrl = '';
  /** Accounts of this platform, granted by its bootstrap DPO through the gateway. */
  readonly accounts: Accounts;
  /** Lines the supervisor logged (exits and restarts). */
  readonly supervisorLog: string[] = [];
  private readonly dbs = new Map<PlatformService, Kysely<any>>();
  private databaseUrls = {} as Record<PlatformService, string>;
  private serviceDatabases = {} as Record<PlatformService, ServiceDatabase>;

  private constructor(
    readonly dir: string,
    readonly pg: ThrowawayPostgres,
    readonly nats: ThrowawayNats,
    readonly prefix: string,
    provider: ProviderInfo,
  ) {
    this.supervisor = new Supervisor({ log: (line) => this.supervisorLog.push(`${new Date().toISOString()} ${line}`), minBackoffMs: 300, maxBackoffMs: 5000 });
    this.accounts = new Accounts(() => this.gatewayUrl, provider);
  }

  /** A token for an account with exactly `roles` (granted through the gateway by the bootstrap DPO). */
  tokenFor(roles: Role[], opts: AccountOptions = {}): Promise<string> {
    return this.accounts.tokenFor(roles, opts);
  }

  static async start(opts: ProcessPlatformOptions): Promise<ProcessPlatform> {
    const prefix = 'pdp';
    const dir = mkdtempSync(join(tmpdir(), 'pdp-fault-run-'));
    const [pg, nats] = await Promise.all([ThrowawayPostgres.start(), ThrowawayNats.start({ prefix, nodes: opts.natsNodes ?? 1 })]);
    const platform = new ProcessPlatform(dir, pg, nats, prefix, opts.provider);
    try {
      await platform.launch(opts);
    } catch (err) {
      await platform.stop();
      throw err;
    }
    return platform;
  }

  private async launch(opts: ProcessPlatformOptions): Promise<void> {
    const secrets = await fillSecrets();
    const instances = opts.instances ?? 1;
    const settings = (extra: Record<string, string>) => ({
      LOG_LEVEL: opts.logLevel ?? 'warn',
      EVENTS_PREFIX: this.prefix,
      EVENTS_REPLICAS: String(opts.natsNodes ?? 1),
      // Quick figures and a quick redelivery of what a killed instance held: the suite waits for both.
      HEALTH_REPORT_MS: '1000',
      EVENTS_ACK_WAIT_SECONDS: '5',
      ...opts.env,
      ...extra,
    });
    // As npm start does: each service migrates as its database's owner and serves as its runtime role (7.2.1).
    const rolePassword = randomBytes(18).toString('base64url');
    for (const name of SERVICE_NAMES) {
      this.serviceDatabases[name] = await provisionServiceDatabase(this.pg.url(), `pdp_${name}`, rolePassword);
      this.databaseUrls[name] = this.serviceDatabases[name].adminUrl;
    }
    // The audit's checkpoint key (its own secret: JSON list, newest first, of {keyId, key}).
    const auditKeys = JSON.stringify([{ keyId: 'fault-1', key: generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) }]);
    // One instance of each first (they create the streams and run the migrations), then the others.
    for (let index = 1; index <= instances; index += 1) {
      const started: Instance[] = [];
      for (const service of SERVICE_NAMES) {
        const port = await freePort();
        const own: Record<string, string> = service === 'audit' ? { AUDIT_CHECKPOINT_KEYS: auditKeys } : service === 'appeals' ? { BOOTSTRAP_DPO } : {};
        const env = processEnv(
          service,
          secrets,
          (user) => this.nats.url(user),
          settings({
            ...own,
            PORT: String(port),
            DATABASE_URL: this.serviceDatabases[service].runtimeUrl,
            MIGRATION_DATABASE_URL: this.serviceDatabases[service].migrationUrl,
          }),
        );
        const process = this.run(`${service}#${index}`, `services/${service}/src/index.ts`, env);
        const instance = { service, index, port, process, url: `http://127.0.0.1:${port}/graphql` };
        this.instances.push(instance);
        started.push(instance);
      }
      await Promise.all(started.map((i) => this.waitReady(i.port, `${i.service}#${i.index}`, 90_000)));
    }
    const gatewayPort = await freePort();
    const urls = (service: PlatformService) =>
      this.instances
        .filter((i) => i.service === service)
        .map((i) => i.url)
        .join(',');
    this.gateway = this.run(
      'gateway',
      'gateway/src/index.ts',
      processEnv('gateway', secrets, (user) => this.nats.url(user), {
        LOG_LEVEL: opts.logLevel ?? 'warn',
        PORT: String(gatewayPort),
        SUBJECTS_URL: urls('subjects'),
        APPEALS_URL: urls('appeals'),
        CONSENTS_URL: urls('consents'),
        AUDIT_URL: urls('audit'),
        OIDC_ISSUER: opts.provider.issuer,
        RATE_LIMIT_DATABASE_URL: await ensureDatabase(this.pg.url(), 'pdp_gateway'),
        OIDC_AUDIENCE: opts.provider.audience,
        PUBLIC_RATE_LIMIT_PER_MINUTE: '0',
        ACTOR_RATE_LIMIT_PER_MINUTE: '0',
        ...opts.env,
      }),
    );
    this.gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
    await this.waitReady(gatewayPort, 'gateway', 60_000);
  }

  private run(name: string, entry: string, env: Record<string, string>): Supervised {
    const log = join(this.dir, `${name.replace('#', '-')}.log`);
    return this.supervisor.run({
      name,
      command: process.execPath,
      args: ['--import', 'tsx', entry],
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      onStart: (child) => {
        track(child);
        const out = createWriteStream(log, { flags: 'a' });
        child.stdout?.pipe(out, { end: false });
        child.stderr?.pipe(out, { end: false });
        child.once('exit', (code, signal) => out.end(`--- exited (${signal ?? code})\n`));
      },
    });
  }

  async waitReady(port: number, what: string, timeoutMs = 60_000): Promise<void> {
    await eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz?strict`, { signal: AbortSignal.timeout(2000) });
        if (!res.ok) throw new Error(`readyz ${res.status}`);
        return true;
      },
      timeoutMs,
      what,
      100,
    );
  }

  /** Every process (each instance and the gateway) answers `/readyz` 200. */
  async allReady(timeoutMs = 60_000): Promise<void> {
    await Promise.all(this.instances.map((i) => this.waitReady(i.port, `${i.service}#${i.index}`, timeoutMs)));
    await this.waitReady(Number(new URL(this.gatewayUrl).port), 'gateway', timeoutMs);
  }

  /** `/readyz?strict` of every process and the gateway (the gateway: subgraphs included), with how long each took to answer. */
  async readiness(): Promise<Array<{ who: string; status: number; ms: number }>> {
    const targets = [
      ...this.instances.map((i) => ({ who: `${i.service}#${i.index}`, port: i.port })),
      { who: 'gateway', port: Number(new URL(this.gatewayUrl).port) },
    ];
    return Promise.all(
      targets.map(async ({ who, port }) => {
        const began = performance.now();
        try {
          const res = await fetch(`http://127.0.0.1:${port}/readyz?strict`, { signal: AbortSignal.timeout(5000) });
          await res.body?.cancel();
          return { who, status: res.status, ms: performance.now() - began };
        } catch {
          return { who, status: 0, ms: performance.now() - began };
        }
      }),
    );
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.instances.map((i) => [`${i.service}#${i.index}`, i.process.pid] as const), ['gateway', this.gateway.pid] as const]);
  }

  db<N extends PlatformService>(name: N): Databases[N] {
    let db = this.dbs.get(name);
    if (!db) {
      db = createDb(this.databaseUrls[name], 3);
      this.dbs.set(name, db);
    }
    return db as Databases[N];
  }

  platformDb(name: PlatformService): Kysely<PlatformTables> {
    return this.db(name) as unknown as Kysely<PlatformTables>;
  }

  /** A process's log so far (to show what happened when a check fails). */
  log(name: string): string {
    try {
      return readFileSync(join(this.dir, `${name.replace('#', '-')}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    await this.supervisor.stopAll(5000).catch(() => undefined);
    for (const db of this.dbs.values()) await db.destroy().catch(() => undefined);
    this.dbs.clear();
    await Promise.allSettled([this.nats.destroy(), this.pg.destroy()]);
    // FAULTS_KEEP_LOGS=1 keeps every process's log for a look after a failure.
    if (process.env.FAULTS_KEEP_LOGS === '1') console.error(`platform logs kept in ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
