import { sql, type Generated, type Kysely, type Migration, type RawBuilder, type Transaction } from 'kysely';
import { FieldUnreadableError, type EncryptedColumns, type EncryptedTable, type FieldAddress, type FieldCipher } from './crypto';
import { safeError, type Logger } from './logger';
import { fieldReencryptionPending } from './metrics';

/**
 * The re-encryption job: brings every stored value of a service's encrypted columns to what the
 * cipher writes now — format v2 (bound to its row) under the first key of `PD_ENCRYPTION_KEYS`. It
 * upgrades the v1 values written before the binding existed, and it is the "re-encrypt" step of a
 * key rotation (docs/operations.md, "Field keys").
 *
 * - Runs at every start of every instance, in the background; the service serves meanwhile.
 * - Small batches, each its own transaction: an interruption loses at most one batch, and the next
 *   start continues with what is left (the rows themselves say what is left: no cursor is stored).
 * - A row already current is never touched; a batch locks its rows (`FOR UPDATE SKIP LOCKED`), so
 *   several instances share the work and a row the service is changing is left for a later pass.
 * - A table is complete when no row holds a value to re-encrypt; that is recorded in the
 *   `field_encryption` table with the key id, and from then on a v1 value there is refused (a v1
 *   value is bound to nothing: accepting it would let one be moved between rows for good).
 * - A value that does not open (tampered, moved, under a key no longer listed) is left as it is,
 *   counted and logged by place, never by value: it could not be read before either.
 */

/** One row per encrypted table of the service: how far its re-encryption is. */
export interface FieldEncryptionTable {
  table_name: string;
  /** Every value of the table was v2 under this key when `completed_at` was recorded. */
  key_id: string | null;
  completed_at: Date | null;
  /** Since then v1 values are refused in this table. */
  legacy_retired_at: Date | null;
  /** Rows still holding a value to re-encrypt, as last counted (and counted down batch by batch). */
  pending: Generated<string>;
  /** Rows holding a value that does not open, found by the last pass. */
  unreadable: Generated<string>;
  updated_at: Generated<Date>;
}

/**
 * The `field_encryption` table, defined once: each service with encrypted columns names this
 * migration in its list, under the name it was executed with there. Frozen: never edit.
 */
export const fieldEncryptionMigration: Migration = {
  async up(db: Kysely<any>) {
    // How far the re-encryption job has brought each encrypted table to format v2 under the active
    // key; a table recorded complete refuses v1 values.
    await db.schema
      .createTable('field_encryption')
      .addColumn('table_name', 'text', (c) => c.primaryKey())
      .addColumn('key_id', 'text')
      .addColumn('completed_at', 'timestamptz')
      .addColumn('legacy_retired_at', 'timestamptz')
      .addColumn('pending', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('unreadable', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('field_encryption').execute();
  },
};

export interface FieldEncryptionState {
  table: string;
  keyId: string | null;
  completedAt: string | null;
  legacyRetiredAt: string | null;
  pending: number;
  unreadable: number;
}

type StateDb = Kysely<{ field_encryption: FieldEncryptionTable }>;

/** The tables whose re-encryption completed once: v1 values there no longer open. */
export async function legacyRetiredTables(db: Kysely<any>): Promise<Set<string>> {
  const rows = await (db as StateDb).selectFrom('field_encryption').select('table_name').where('legacy_retired_at', 'is not', null).execute();
  return new Set(rows.map((r) => r.table_name));
}

/** What `platformHealth` and the gauges show of each table. */
export async function fieldEncryptionState(db: Kysely<any>): Promise<FieldEncryptionState[]> {
  const rows = await (db as StateDb).selectFrom('field_encryption').selectAll().orderBy('table_name').execute();
  return rows.map((r) => ({
    table: r.table_name,
    keyId: r.key_id,
    completedAt: r.completed_at?.toISOString() ?? null,
    legacyRetiredAt: r.legacy_retired_at?.toISOString() ?? null,
    pending: Number(r.pending),
    unreadable: Number(r.unreadable),
  }));
}

export interface BatchProgress {
  table: string;
  /** Rows of this batch whose values were re-encrypted. */
  reencrypted: number;
  /** Rows of this batch holding a value that does not open. */
  unreadable: number;
}

export interface TableOutcome {
  table: string;
  reencrypted: number;
  unreadable: number;
  completed: boolean;
}

export interface FieldReencryptionOptions<DB> {
  service: string;
  db: Kysely<any>;
  cipher: FieldCipher<DB>;
  columns: EncryptedColumns<DB>;
  logger: Logger;
  /** Rows per batch (200): one transaction each, so one lost at most. */
  batchSize?: number;
  /** The first pause before another pass over rows that others held locked (1 s; doubles, up to 30 s). */
  retryMs?: number;
  /** Called after each committed batch. */
  onBatch?: (progress: BatchProgress) => void;
}

const ID_TYPES = new Set(['uuid', 'bigint', 'integer', 'text']);
const PROGRESS_LOG_MS = 10_000;

export class FieldReencryption<DB> {
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly batchSize: number;
  private readonly retryMs: number;

  constructor(private readonly opts: FieldReencryptionOptions<DB>) {
    this.batchSize = opts.batchSize ?? 200;
    this.retryMs = opts.retryMs ?? 1000;
  }

  /** Runs in the background until every table is complete or `stop()`; a failure (database away) is retried. */
  start(): void {
    this.loop = (async () => {
      for (let delay = this.retryMs; !this.stopping; delay = Math.min(delay * 2, 60_000)) {
        try {
          await this.run();
          return;
        } catch (err) {
          this.opts.logger.warn({ err: safeError(err), retryInMs: delay }, 'field re-encryption failed; will retry');
          await this.pause(delay);
        }
      }
    })();
  }

  /** Lets the batch in flight commit, then stops; what is left is done at the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  /** One run over every encrypted table; resolves when each is complete, or when stopped. */
  async run(): Promise<TableOutcome[]> {
    const outcomes: TableOutcome[] = [];
    for (const [table, columns] of Object.entries(this.opts.columns) as Array<[EncryptedTable<DB>, Record<string, true>]>) {
      if (this.stopping) break;
      outcomes.push(await this.table(table, Object.keys(columns)));
    }
    return outcomes;
  }

  private async table(table: EncryptedTable<DB>, columns: string[]): Promise<TableOutcome> {
    const { db, cipher, logger, service } = this.opts;
    const idType = await this.idType(table);
    const stale = this.staleCondition(columns);
    const unreadable = new Set<string>();
    const outcome: TableOutcome = { table, reencrypted: 0, unreadable: 0, completed: false };
    let pending = await this.count(table, stale, unreadable);
    await sql`insert into field_encryption (table_name, pending) values (${table}, ${pending})
              on conflict (table_name) do update set pending = excluded.pending, updated_at = now()`.execute(db);
    fieldReencryptionPending.set({ service, table }, pending);
    if (pending > 0) logger.info({ table, pending, keyId: cipher.activeKeyId }, 'field re-encryption started');
    let lastLog = Date.now();
    for (let delay = this.retryMs; pending > 0; delay = Math.min(delay * 2, 30_000)) {
      let cursor: string | null = null;
      let converted = 0;
      while (!this.stopping) {
        const batch = await db.transaction().execute((trx) => this.batch(trx, table, columns, idType, stale, cursor, unreadable));
        if (batch.rows === 0) break;
        cursor = batch.last;
        converted += batch.reencrypted;
        outcome.reencrypted += batch.reencrypted;
        pending = Math.max(0, pending - batch.reencrypted - batch.unreadable);
        fieldReencryptionPending.set({ service, table }, pending);
        this.opts.onBatch?.({ table, reencrypted: batch.reencrypted, unreadable: batch.unreadable });
        if (Date.now() - lastLog >= PROGRESS_LOG_MS) {
          lastLog = Date.now();
          logger.info({ table, reencrypted: outcome.reencrypted, pending, unreadable: unreadable.size }, 'field re-encryption progress');
        }
      }
      if (this.stopping) return { ...outcome, unreadable: unreadable.size };
      // What is left: rows locked by another instance or by the service's own writes while the pass
      // went by, and values written meanwhile under an older key (an instance not yet restarted).
      pending = await this.count(table, stale, unreadable);
      await sql`update field_encryption set pending = ${pending}, unreadable = ${unreadable.size}, updated_at = now() where table_name = ${table}`.execute(db);
      fieldReencryptionPending.set({ service, table }, pending);
      if (pending > 0 && converted === 0) await this.pause(delay);
      if (this.stopping) return { ...outcome, unreadable: unreadable.size };
    }
    await this.complete(table, unreadable.size);
    if (outcome.reencrypted > 0 || unreadable.size > 0) {
      logger.info({ table, reencrypted: outcome.reencrypted, unreadable: unreadable.size, keyId: cipher.activeKeyId }, 'field re-encryption complete');
    }
    return { ...outcome, unreadable: unreadable.size, completed: true };
  }

  /**
   * One batch in one transaction: the next rows holding a value to re-encrypt, locked (rows another
   * instance or a write holds are skipped, for a later pass), re-encrypted in place, counted down.
   */
  private async batch(
    trx: Transaction<any>,
    table: EncryptedTable<DB>,
    columns: string[],
    idType: string,
    stale: RawBuilder<unknown>,
    cursor: string | null,
    unreadable: Set<string>,
  ): Promise<{ rows: number; last: string | null; reencrypted: number; unreadable: number }> {
    const { cipher, logger } = this.opts;
    // The id as text under another name: `order by id` must sort (and walk the index) by the column.
    const { rows } = await sql<Record<string, string | null> & { row_id: string }>`
      select id::text as row_id, ${sql.join(columns.map((c) => sql.ref(c)))} from ${sql.table(table)}
      where ${cursor === null ? sql`true` : sql`id > cast(${cursor} as ${sql.raw(idType)})`}
        and (${stale}) and not (id::text = any(${[...unreadable]}::text[]))
      order by id limit ${this.batchSize} for update skip locked`.execute(trx);
    const updates: Array<{ id: string; values: Array<string | null> }> = [];
    let bad = 0;
    for (const row of rows) {
      let changed = false;
      let opened = true;
      const values = columns.map((column) => {
        const value = row[column] ?? null;
        if (value === null || cipher.isCurrent(value)) return value;
        try {
          const next = cipher.reencrypt(value, { table, column, id: row.row_id } as FieldAddress<DB>);
          changed = true;
          return next;
        } catch (err) {
          if (!(err instanceof FieldUnreadableError)) throw err;
          opened = false;
          logger.warn({ table, column, rowId: row.row_id, reason: err.reason }, 'stored value does not open; left as it is');
          return value;
        }
      });
      if (!opened) {
        unreadable.add(row.row_id);
        bad += 1;
      }
      if (changed) updates.push({ id: row.row_id, values });
    }
    if (updates.length > 0) {
      const arrays = columns.map((_, i) => sql`${updates.map((u) => u.values[i] ?? null)}::text[]`);
      await sql`
        update ${sql.table(table)} as t set ${sql.join(columns.map((c) => sql`${sql.ref(c)} = v.${sql.ref(c)}`))}
        from unnest(${updates.map((u) => u.id)}::text[], ${sql.join(arrays)}) as v(id, ${sql.join(columns.map((c) => sql.ref(c)))})
        where t.id = cast(v.id as ${sql.raw(idType)})`.execute(trx);
      await sql`update field_encryption set pending = greatest(pending - ${updates.length}, 0), updated_at = now() where table_name = ${table}`.execute(trx);
    }
    return { rows: rows.length, last: rows.at(-1)?.row_id ?? null, reencrypted: updates.length, unreadable: bad };
  }

  private async complete(table: string, unreadable: number): Promise<void> {
    await sql`update field_encryption
              set key_id = ${this.opts.cipher.activeKeyId}, completed_at = now(), legacy_retired_at = coalesce(legacy_retired_at, now()),
                  pending = 0, unreadable = ${unreadable}, updated_at = now()
              where table_name = ${table}`.execute(this.opts.db);
    this.opts.cipher.retireLegacy(table as EncryptedTable<DB>);
    fieldReencryptionPending.set({ service: this.opts.service, table }, 0);
  }

  /** Rows holding a value that is not v2 under the active key, but for those found not to open. */
  private async count(table: string, stale: RawBuilder<unknown>, unreadable: Set<string>): Promise<number> {
    const { rows } = await sql<{ n: string }>`
      select count(*) as n from ${sql.table(table)} where (${stale}) and not (id::text = any(${[...unreadable]}::text[]))`.execute(this.opts.db);
    return Number(rows[0]!.n);
  }

  private staleCondition(columns: string[]): RawBuilder<unknown> {
    const prefix = this.opts.cipher.currentPrefix;
    return sql.join(
      columns.map((c) => sql`(${sql.ref(c)} is not null and not starts_with(${sql.ref(c)}, ${prefix}))`),
      sql` or `,
    );
  }

  /** The type of the table's `id`, to compare and cast in SQL (row ids travel as text). */
  private async idType(table: string): Promise<string> {
    const { rows } = await sql<{ type: string | null }>`
      select format_type(a.atttypid, a.atttypmod) as type from pg_attribute a
      where a.attrelid = to_regclass(${table}) and a.attname = 'id' and not a.attisdropped`.execute(this.opts.db);
    const type = rows[0]?.type ?? null;
    if (!type || !ID_TYPES.has(type)) throw new Error(`field re-encryption: ${table}.id is ${type ?? 'missing'}`);
    return type;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
