/**
 * Keeps the access bucket (`<PREFIX>_EVENTS_ACCESS`, see @pdp/shared access-registry.ts) equal to
 * the registry in this database, for the gateways to watch. Every appeals instance runs it; none
 * needs to lead, because each write is a compare-and-set that only replaces an entry with a newer
 * registry version, and what is written is read from the database, not carried by an event:
 *
 * every `checkMs` (250 ms), the registry's newest version (two index lookups); when it moved, every
 * account's state is read and the entries that are older in the bucket are replaced. The gateways
 * confirm on their own that they have read the bucket to its end (gateway/src/access.ts); a pass that
 * keeps failing makes this instance not ready (`check`), so nobody changes the registry through an
 * instance that cannot pass the change on.
 */
import {
  accessBucket,
  accessKey,
  accessEntrySchema,
  readAccessValue,
  safeError,
  signAccessValue,
  type AccessEntry,
  type EventSigner,
  type EventVerifier,
  type Logger,
} from '@pdp/shared';
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
  /** A pass older than this makes the instance not ready (5 s). */
  failAfterMs?: number;
}

export class AccessSync {
  readonly name = 'access-registry';
  private kv: KV | null = null;
  /** The registry version this instance last brought the bucket up to. */
  private synced = -1;
  private lastSuccess = Date.now();
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

  /** Readiness: the last successful pass is recent (the database and NATS both answered). */
  async check(): Promise<void> {
    if (Date.now() - this.lastSuccess > (this.opts.failAfterMs ?? 5000)) throw new Error('the access registry is not reaching the gateways');
  }

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
    this.lastSuccess = Date.now();
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
      if (theirs && theirs.version >= entry.version) return;
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
