import { randomBytes } from 'node:crypto';
import { startAppeals, type AppealsDatabase } from '@pdp/appeals';
import { checkpointKeys, generateCheckpointKey, startAudit, type AuditDatabase, type AuditExtra } from '@pdp/audit';
import { DEVELOPMENT_OPERATOR, startConsents, type ConsentsDatabase } from '@pdp/consents';
import { DEFAULT_LIMITS, startGateway, type GatewayConfig, type RunningGateway } from '@pdp/gateway';
import {
  calendarFromEnv,
  createDb,
  databaseUrl,
  dropRoles,
  ensureDatabase,
  generateEventKeyPair,
  generateSealKeyPair,
  provisionServiceDatabase,
  randomKeySpec,
  SERVICES,
  streamName,
  type EventKeyPair,
  type PlatformTables,
  type RunningService,
  type ServiceConfig,
  type ServiceDatabase,
} from '@pdp/shared';
import { startSubjects, type SubjectsDatabase } from '@pdp/subjects';
import type { Kysely } from 'kysely';
import { connect } from 'nats';
import pg from 'pg';
import { eventually } from '@pdp/shared/testing';
import { Accounts, BOOTSTRAP_DPO, type AccountOptions, type ProviderInfo } from './identity';
import type { Role } from '@pdp/shared';

export const SERVICE_NAMES = ['subjects', 'appeals', 'consents', 'audit'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface Databases {
  subjects: Kysely<SubjectsDatabase>;
  appeals: Kysely<AppealsDatabase>;
  consents: Kysely<ConsentsDatabase>;
  audit: Kysely<AuditDatabase>;
}

export interface SystemOptions {
  /** A PostgreSQL server URL (any database); each service gets its own database there. */
  serverUrl: string;
  natsUrl: string;
  /** Names databases and the event stream, so runs never share state. */
  label: string;
  /** The OpenID provider the gateway trusts (the run's development provider). */
  provider: ProviderInfo;
  gatewayPort?: number;
  servicePorts?: Partial<Record<ServiceName, number>>;
  logLevel?: string;
  host?: string;
  /** Retention of subjects' data after their purposes are achieved, and how often it is swept. */
  retentionDays?: number;
  retentionSweepMs?: number;
  /** Anonymous requests per minute per IP at the gateway; 0 (tests, benches) turns it off. */
  publicRatePerMinute?: number;
  /** Production mode everywhere (no introspection, no suggestions, metrics off the public port). */
  production?: boolean;
  /** More URLs for a subgraph, after its running instance's (the gateway balances between them). */
  extraSubgraphUrls?: Partial<Record<ServiceName, string[]>>;
  /** Any other gateway setting (limits, token lifetime, metrics port…). */
  gateway?: Partial<GatewayConfig>;
  /** Audit settings (checkpoint interval, working hours of the off-hours rule…). */
  audit?: Partial<AuditExtra>;
}

type Starter = (port: number) => Promise<RunningService<unknown>>;

/**
 * The whole platform in one process: four subgraphs, each with its own database, and the gateway,
 * on a real PostgreSQL and a real NATS JetStream. Used by `npm start`, the end-to-end tests and the
 * benchmarks; each service can be stopped and started again to prove nothing is lost.
 */
export class System {
  readonly services = new Map<ServiceName, RunningService<unknown>>();
  private readonly starters = new Map<ServiceName, Starter>();
  private readonly ports = new Map<ServiceName, number>();
  gateway: RunningGateway | null = null;
  private gatewayConfig: GatewayConfig | null = null;
  private readonly extraGateways: RunningGateway[] = [];

  /** One more gateway in front of the same subgraphs (as `INSTANCES=2` runs two), stopped with the system. */
  async startExtraGateway(overrides: Partial<GatewayConfig> = {}): Promise<RunningGateway> {
    const gateway = await startGateway({ ...this.gatewayConfig!, port: 0, ...overrides });
    this.extraGateways.push(gateway);
    return gateway;
  }
  /** The administrator's URL of each service's database (tests read what is stored through it). */
  databaseUrls = {} as Record<ServiceName, string>;
  /** Each service's database with its migration and runtime roles (db-roles.ts): the services connect as these. */
  serviceDatabases = {} as Record<ServiceName, ServiceDatabase>;
  readonly prefix: string;
  /**
   * Each service's own event signing key pair (the gateway's too, for when it produces events);
   * every service trusts all the public keys. Tests use them to sign what a service would.
   */
  readonly eventKeys = Object.fromEntries(SERVICES.map((s) => [s, generateEventKeyPair()])) as Record<(typeof SERVICES)[number], EventKeyPair>;

  /** The audit's checkpoint key; its public key is what an offline verifier is given. */
  readonly auditKey = generateCheckpointKey('audit-test-1');

  /** The gateway's actor-token key (the subgraphs trust its public half). */
  readonly actorKey = generateEventKeyPair();

  /** Accounts of this platform: granted by its bootstrap DPO, signed in at the provider. */
  readonly accounts: Accounts;
  /** `PD_ENCRYPTION_KEYS` of every service (benches seed ciphertexts with it). */
  readonly fieldKeys = randomKeySpec('k1');

  constructor(readonly options: SystemOptions) {
    this.prefix = options.label.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    // The gateway runs here: ask its view directly (no request, no audit entry, no rate-limit point).
    this.accounts = new Accounts(
      () => this.url,
      options.provider,
      async (account) => {
        const decision = this.gateway?.accessOf(account);
        return decision?.state === 'granted' ? { roles: decision.roles, creditorId: decision.creditorId } : null;
      },
    );
  }

  /** A token for an account with exactly `roles` here (granted through the API by the bootstrap DPO). */
  tokenFor(roles: Role[], opts: AccountOptions = {}): Promise<string> {
    return this.accounts.tokenFor(roles, opts);
  }

  get url(): string {
    if (!this.gateway) throw new Error('gateway not started');
    return this.gateway.url;
  }

  async start(): Promise<this> {
    const { serverUrl } = this.options;
    for (const name of SERVICE_NAMES) {
      // 7.2.1: each service migrates as its database's owner and serves as a role with only its data rights.
      const db = await provisionServiceDatabase(serverUrl, `${this.prefix}_${name}`, randomBytes(18).toString('base64url'));
      this.serviceDatabases[name] = db;
      this.databaseUrls[name] = db.adminUrl;
    }
    // Where the gateways count the rate limits (shared by an extra gateway too).
    const rateLimitDatabaseUrl = await ensureDatabase(serverUrl, `${this.prefix}_gateway`);
    const [subjectsSeal, consentsSeal, appealsSeal] = await Promise.all([generateSealKeyPair(), generateSealKeyPair(), generateSealKeyPair()]);
    const calendar = calendarFromEnv(undefined, undefined);

    const keys = { encryption: this.fieldKeys, blindIndex: randomBytes(32).toString('base64url') };
    const eventVerifyKeys = JSON.stringify(Object.fromEntries(Object.entries(this.eventKeys).map(([s, pair]) => [s, JSON.parse(pair.publicJwk)])));
    const base = (name: ServiceName, port: number): Omit<ServiceConfig, 'extra'> => ({
      port,
      host: this.options.host ?? '127.0.0.1',
      databaseUrl: this.serviceDatabases[name].runtimeUrl,
      migrationDatabaseUrl: this.serviceDatabases[name].migrationUrl,
      // Two test files run at once, each a whole platform: small pools keep them under PostgreSQL's 100 connections.
      dbPoolMax: 4,
      natsUrl: this.options.natsUrl,
      eventsPrefix: this.prefix,
      actorVerifyKeys: this.actorKey.publicJwk,
      encryptionKeys: keys.encryption,
      blindIndexKey: keys.blindIndex,
      eventSigningKey: this.eventKeys[name].privateJwk,
      eventVerifyKeys,
      logLevel: this.options.logLevel ?? 'warn',
      production: this.options.production ?? false,
      // The ops view's figures every second, so tests see them soon.
      healthReportMs: 1000,
    });
    this.starters.set(
      'subjects',
      (port) =>
        startSubjects({
          ...base('subjects', port),
          extra: {
            sealPrivateKey: subjectsSeal.privateJwk,
            appealsSealKey: appealsSeal.publicJwk,
            consentsSealKey: consentsSeal.publicJwk,
            retentionDays: this.options.retentionDays ?? 365,
            retentionSweepMs: this.options.retentionSweepMs ?? 3_600_000,
            retentionMethod: 'DEPERSONALIZE',
            rightsRequestWorkingDays: 3,
            calendar,
          },
        }) as never,
    );
    this.starters.set(
      'appeals',
      (port) =>
        startAppeals({
          ...base('appeals', port),
          extra: {
            subjectsSealKey: subjectsSeal.publicJwk,
            consentsSealKey: consentsSeal.publicJwk,
            sealPrivateKey: appealsSeal.privateJwk,
            answerWorkingDays: 15,
            calendar,
            bootstrapDpo: BOOTSTRAP_DPO,
          },
        }) as never,
    );
    this.starters.set(
      'consents',
      (port) => startConsents({ ...base('consents', port), extra: { sealPrivateKey: consentsSeal.privateJwk, operator: DEVELOPMENT_OPERATOR } }) as never,
    );
    // The off-hours rule is off by default here: tests run at any hour and must leave the same entries.
    const audit: AuditExtra = {
      checkpointKeys: checkpointKeys(JSON.stringify([this.auditKey.entry])),
      origin: `pdp.audit/${this.prefix}`,
      checkpointEvery: 1000,
      checkpointSeconds: 60,
      reconcileSeconds: 10,
      fullVerifyHours: 0,
      workHours: null,
      notifyWorkingDays: 1,
      calendar,
      ...this.options.audit,
    };
    this.starters.set('audit', (port) => startAudit({ ...base('audit', port), extra: audit }) as never);

    for (const name of SERVICE_NAMES) await this.startService(name);
    this.gatewayConfig = {
      port: this.options.gatewayPort ?? 0,
      host: this.options.host ?? '127.0.0.1',
      oidc: {
        issuer: this.options.provider.issuer,
        audience: this.options.provider.audience,
        algorithms: ['ES256', 'RS256', 'EdDSA'],
        cooldownSeconds: 5,
        refreshSeconds: 300,
        clockToleranceSeconds: 30,
      },
      actorSigningKey: this.actorKey.privateJwk,
      eventVerifyKeys,
      accessMaxStalenessSeconds: 5,
      rateLimitDatabaseUrl,
      subgraphs: Object.fromEntries(SERVICE_NAMES.map((n) => [n, [this.services.get(n)!.url, ...(this.options.extraSubgraphUrls?.[n] ?? [])]])) as Record<
        ServiceName,
        string[]
      >,
      maxQueryDepth: DEFAULT_LIMITS.maxDepth,
      publicRatePerMinute: this.options.publicRatePerMinute ?? 0,
      trustProxy: false,
      logLevel: this.options.logLevel ?? 'warn',
      production: this.options.production ?? false,
      limits: { actorRatePerMinute: 0 },
      audit: { natsUrl: this.options.natsUrl, eventsPrefix: this.prefix, signingKey: this.eventKeys.gateway.privateJwk },
      ...this.options.gateway,
    };
    this.gateway = await startGateway(this.gatewayConfig);
    // Signed-in requests wait for the gateway's view of the access registry to be known current.
    const gateway = this.gateway;
    await eventually(async () => gateway.accessOf(BOOTSTRAP_DPO).state !== 'stale', 15_000, 'the access registry view');
    return this;
  }

  /** Starts (or restarts, on its previous port) one service. */
  async startService(name: ServiceName): Promise<void> {
    const port = this.ports.get(name) ?? this.options.servicePorts?.[name] ?? 0;
    const running = await this.starters.get(name)!(port);
    this.ports.set(name, running.port);
    this.services.set(name, running);
  }

  async stopService(name: ServiceName): Promise<void> {
    await this.services.get(name)?.stop();
    this.services.delete(name);
  }

  /** A direct connection to a service's own database, for tests that check what is stored. */
  db<N extends ServiceName>(name: N): Databases[N] {
    const cached = this.dbs.get(name);
    if (cached) return cached as Databases[N];
    const db = createDb(this.databaseUrls[name], 4);
    this.dbs.set(name, db);
    return db as Databases[N];
  }
  private readonly dbs = new Map<ServiceName, Kysely<any>>();

  /** The platform tables (outbox, inbox, parked events) of any service. */
  platformDb(name: ServiceName): Kysely<PlatformTables> {
    return this.db(name) as unknown as Kysely<PlatformTables>;
  }

  async stop(): Promise<void> {
    for (const g of this.extraGateways.splice(0)) await g.stop();
    await this.gateway?.stop();
    for (const name of [...this.services.keys()].reverse()) await this.stopService(name);
    for (const db of this.dbs.values()) await db.destroy();
    this.dbs.clear();
  }

  /** Stops everything and removes this system's databases and stream. */
  async destroy(): Promise<void> {
    await this.stop();
    await dropRun(this.options.serverUrl, this.options.natsUrl, this.prefix);
  }
}

/** Drops every database and stream whose name starts with `prefix`. */
export async function dropRun(serverUrl: string, natsUrl: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${prefix}%`]);
    for (const { datname } of rows) await client.query(`drop database if exists ${datname} with (force)`);
  } finally {
    await client.end();
  }
  await dropRoles(serverUrl, prefix);
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    // The events streams and the ops bucket's stream (`KV_<PREFIX>_EVENTS_OPS`) of this prefix and of
    // every prefix under it: a run's test files name theirs `<run>_<file>_…`, and the run's teardown
    // must remove those too, or every CI run on the machine leaves its service tests' streams behind.
    const own = (name: string) => name === streamName(prefix) || name.startsWith(`${streamName(prefix)}_`) || name.startsWith(`${prefix.toUpperCase()}_`);
    for await (const s of jsm.streams.list()) {
      const name = s.config.name.startsWith('KV_') ? s.config.name.slice(3) : s.config.name;
      if (own(name)) await jsm.streams.delete(s.config.name);
    }
  } finally {
    await nc.close();
  }
}
