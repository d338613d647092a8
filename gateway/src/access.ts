/**
 * The gateway's view of the access registry: what each account may do now, kept in memory from the
 * access bucket that appeals writes (packages/shared/src/access-registry.ts) and that this gateway
 * watches — so a grant, a revocation or a suspension reaches every gateway as a message, and a
 * request costs a map lookup, never a call to a subgraph.
 *
 * Fail closed: every second the gateway asks JetStream for the bucket's last message and compares it
 * with the last one its watch has read. A gateway that cannot confirm it has read everything for
 * `maxStalenessMs` (NATS away, the watch stuck) cannot tell whether a revocation is waiting for it,
 * so `resolve` answers `stale` and signed-in requests are refused (503) until it can again; the
 * public forms, which need no account, keep working. appeals being down changes nothing here: the
 * registry cannot change while its owner is down (and an appeals instance that cannot write the
 * bucket is not ready, so no change is made through it).
 *
 * Every value must carry appeals' signature for its key; one that does not is ignored (and logged),
 * and the account it would have named stays as it was — a NATS user that could write the bucket
 * still cannot grant anyone anything.
 */
import {
  accessBucket,
  connectNats,
  natsInboxPrefix,
  readAccessValue,
  registry,
  safeError,
  type AccessEntry,
  type EventVerifier,
  type Logger,
  type Role,
} from '@pdp/shared';
import type { KV, KvEntry, NatsConnection } from 'nats';
import { Counter, Gauge } from 'prom-client';

export type AccessDecision = { state: 'granted'; roles: Role[]; creditorId: string | null } | { state: 'none' } | { state: 'suspended' } | { state: 'stale' };

export interface AccessViewOptions {
  natsUrl: string;
  prefix: string;
  verifier: EventVerifier;
  maxStalenessMs: number;
  logger: Logger;
}

const ignored = new Counter({
  name: 'pdp_gateway_access_entries_ignored_total',
  help: 'Access bucket values ignored: not signed by appeals for their key',
  registers: [registry],
});
/** The newest view's staleness (one gateway per process in production; the last one made in tests). */
let stalenessOf: () => number = () => -1;
new Gauge({
  name: 'pdp_gateway_access_staleness_seconds',
  help: 'Seconds since the gateway last heard that its access view is current (-1: never)',
  registers: [registry],
  collect() {
    this.set(stalenessOf());
  },
});

/** The view's entries, by the bucket key and by account (a lookup per request, a deletion by key). */
class Entries {
  readonly byKey = new Map<string, AccessEntry>();
  readonly byAccount = new Map<string, AccessEntry>();

  set(key: string, entry: AccessEntry): void {
    const known = this.byKey.get(key);
    // Versions only go forward (an older value seen after a newer one changes nothing).
    if (known && known.version > entry.version) return;
    this.byKey.set(key, entry);
    this.byAccount.set(entry.account, entry);
  }

  delete(key: string): void {
    const known = this.byKey.get(key);
    if (!known) return;
    this.byKey.delete(key);
    this.byAccount.delete(known.account);
  }
}

export class AccessView {
  private entries = new Entries();
  /** When the view was last confirmed to hold everything the bucket held (0: never). */
  private confirmedAt = 0;
  /** The stream sequence of the last bucket message the watch applied; -1 until it has read the bucket once. */
  private readSeq = -1;
  private confirmTimer: NodeJS.Timeout | null = null;
  private nc: NatsConnection | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private stopWatch: (() => void) | null = null;

  constructor(private readonly opts: AccessViewOptions) {
    stalenessOf = () => (this.confirmedAt ? (Date.now() - this.confirmedAt) / 1000 : -1);
  }

  start(): void {
    this.loop = this.run();
    const confirm = () => {
      void this.confirm().finally(() => {
        if (!this.stopped) this.confirmTimer = setTimeout(confirm, 1000);
      });
    };
    this.confirmTimer = setTimeout(confirm, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    this.stopWatch?.();
    await this.loop;
    await this.nc?.close().catch(() => undefined);
  }

  /** Whether the view is current (readiness, and every signed-in request). */
  get fresh(): boolean {
    return this.confirmedAt > 0 && Date.now() - this.confirmedAt <= this.opts.maxStalenessMs;
  }

  /** Compares the bucket's last message with the last one read; when caught up, the view is current as of the question. */
  private async confirm(): Promise<void> {
    if (!this.nc || this.readSeq < 0) return;
    const asked = Date.now();
    try {
      const jsm = await this.nc.jetstreamManager({ timeout: 1000 });
      const info = await jsm.streams.info(`KV_${accessBucket(this.opts.prefix)}`);
      if (this.readSeq >= info.state.last_seq) this.confirmedAt = asked;
    } catch {
      // NATS away or slow: not confirmed; after maxStalenessMs the view is stale.
    }
  }

  resolve(account: string): AccessDecision {
    if (!this.fresh) return { state: 'stale' };
    const entry = this.entries.byAccount.get(account);
    if (!entry || entry.roles.length === 0) return { state: 'none' };
    if (entry.creditorSuspended) return { state: 'suspended' };
    return { state: 'granted', roles: entry.roles, creditorId: entry.creditorId };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        this.nc ??= await connectNats(this.opts.natsUrl, 'pdp-gateway-access', { inboxPrefix: natsInboxPrefix('gateway') });
        // appeals makes the bucket; until it has, there is nothing to watch yet.
        const kv = await this.nc.jetstream().views.kv(accessBucket(this.opts.prefix), { bindOnly: true });
        await this.watch(kv);
      } catch (err) {
        if (!this.stopped) this.opts.logger.warn({ err: safeError(err) }, 'access registry view: not watching; trying again');
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /**
   * Reads every current value, then every change. A new watch (after the last one ended) builds its
   * entries afresh and takes over once it has read everything, so a deletion it missed cannot linger.
   */
  private async watch(kv: KV): Promise<void> {
    const building = new Entries();
    let target = building;
    const iterator = await kv.watch({
      key: '>',
      initializedFn: () => {
        this.entries = building;
        target = this.entries;
        this.readSeq = Math.max(this.readSeq, 0);
      },
    });
    this.stopWatch = () => iterator.stop();
    for await (const entry of iterator) {
      this.apply(target, entry);
      if (this.stopped) break;
    }
  }

  private apply(entries: Entries, entry: KvEntry): void {
    // A KV entry's revision is its message's sequence in the bucket's stream.
    this.readSeq = Math.max(this.readSeq, entry.revision);
    if (entry.operation !== 'PUT') {
      entries.delete(entry.key);
      return;
    }
    const value = readAccessValue(this.opts.verifier, entry.key, entry.value);
    if (!value) {
      ignored.inc();
      this.opts.logger.warn({ key: entry.key.slice(0, 80) }, 'access registry view: a value not signed by appeals for its key was ignored');
      return;
    }
    entries.set(entry.key, value);
  }
}
