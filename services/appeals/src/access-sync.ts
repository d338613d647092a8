/**
 * Keeps the access bucket (`<PREFIX>_EVENTS_ACCESS`, see @pdp/shared access-registry.ts) equal to
 * the registry in this database, for the gateways to watch. Every appeals instance runs it; none
 * needs to lead, because each write is a compare-and-set that only replaces an entry with a newer
 * registry version, and what is written is read from the database, not carried by an event:
 *
 * - every `checkMs` (250 ms): the registry's newest version (two index lookups); when it moved, every
 *   account's state is read and the entries that are older in the bucket are replaced;
 * - every `heartbeatMs` (1 s) after a pass that left nothing behind: the `sync` entry, which tells
 *   the gateways their view is current — a gateway that stops hearing it refuses signed-in requests
 *   (gateway/src/access.ts), so a revocation is enforced within seconds even when this process, its
 *   database or NATS is down.
 */
import { accessBucket, accessKey, ACCESS_SYNC_KEY, accessEntrySchema, readAccessValue, safeError, signAccessValue, type AccessEntry, type EventSigner, type EventVerifier, type Logger } from '@pdp/shared';
import type { Kysely } from 'kysely';
import type { JetStreamClient, KV } from 'nats';
import { accountStates, registryVersion } from './db/access.repository';
import type { Database } from './db/tables';

export interface AccessSyncOptions {
  db: Kysely<Database>;
  js: JetStreamClient;
  prefix: string;
  replicas: number;
  signer: EventSigner;
  verifier: EventVerifier;
  logger: Logger;
  checkMs?: number;
  heartbeatMs?: number;
}

export class AccessSync {
  private kv: KV | null = null;
  /** The registry version this instance last brought the bucket up to. */
  private synced = -1;
  private lastBeat = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: AccessSyncOptions) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.pass()
        .catch((err: unknown) => {
          // The database or NATS may be away; the gateways stop hearing `sync` and fail closed.
          this.synced = -1;
          this.opts.logger.warn({ err: safeError(err) }, 'access registry not synced to the gateways; retrying');
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.checkMs ?? 250);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; exported for tests through `syncNow`. */
  private async pass(): Promise<void> {
    const kv = (this.kv ??= await this.opts.js.views.kv(accessBucket(this.opts.prefix), { history: 1, replicas: this.opts.replicas }));
    const version = await registryVersion(this.opts.db);
    if (version !== this.synced) {
      for (const state of await accountStates(this.opts.db)) {
        const entry: AccessEntry = accessEntrySchema.parse({
          account: state.account,
          roles: state.grant_id ? state.roles : [],
          creditorId: state.grant_id ? state.creditor_id : null,
          creditorSuspended: state.suspended,
          grantId: state.grant_id,
          version: Number(state.version),
        });
        await this.put(kv, entry);
      }
      this.synced = version;
    }
    if (Date.now() - this.lastBeat >= (this.opts.heartbeatMs ?? 1000)) {
      await kv.put(ACCESS_SYNC_KEY, signAccessValue(this.opts.signer, ACCESS_SYNC_KEY, { at: new Date().toISOString(), version }));
      this.lastBeat = Date.now();
    }
  }

  /** Replaces the account's entry only with a newer version; a concurrent writer's newer one wins. */
  private async put(kv: KV, entry: AccessEntry): Promise<void> {
    const key = accessKey(entry.account);
    const value = signAccessValue(this.opts.signer, key, entry);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const current = await kv.get(key);
      if (!current || current.operation !== 'PUT') {
        try {
          await kv.create(key, value);
          return;
        } catch {
          continue; // another instance created it first: compare with theirs
        }
      }
      const theirs = readAccessValue(this.opts.verifier, key, current.value);
      if (theirs && 'account' in theirs && theirs.version >= entry.version) return;
      try {
        await kv.update(key, value, current.revision);
        return;
      } catch {
        // changed under us: read again
      }
    }
    throw new Error('access entry kept changing under this writer');
  }
}
