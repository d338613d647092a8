import { sql, type Kysely, type Migration } from 'kysely';

/** Tables every service has for the event platform. Frozen: never edit, add a new migration. */
export const platformMigrations: Record<string, Migration> = {
  '0000_0001_platform_events': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('outbox')
        .addColumn('seq', 'bigserial', (c) => c.primaryKey())
        .addColumn('id', 'uuid', (c) => c.notNull().unique())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('payload', 'jsonb', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('published_at', 'timestamptz')
        .execute();
      // The relay only ever looks for what is not yet published.
      await sql`create index outbox_unpublished on outbox (seq) where published_at is null`.execute(db);

      await db.schema
        .createTable('inbox')
        .addColumn('consumer', 'text', (c) => c.notNull())
        .addColumn('event_id', 'uuid', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('inbox_pk', ['consumer', 'event_id'])
        .execute();

      await db.schema
        .createTable('parked_events')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('consumer', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text')
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('error', 'text', (c) => c.notNull())
        .addColumn('deliveries', 'integer', (c) => c.notNull())
        .addColumn('parked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('resolved_at', 'timestamptz')
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('parked_events').execute();
      await db.schema.dropTable('inbox').execute();
      await db.schema.dropTable('outbox').execute();
    },
  },
  // Named to sort after every service's migrations of its day (the platform's and a service's run as one list).
  '2026_12_07_0011_outbox_trace_context': {
    async up(db: Kysely<any>) {
      // The W3C traceparent of the event's creation, when traced (tracing.ts): the relay's publish continues it.
      await db.schema.alterTable('outbox').addColumn('trace_context', 'text').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('outbox').dropColumn('trace_context').execute();
    },
  },
};

export interface OutboxTable {
  seq: import('kysely').Generated<string>;
  id: string;
  subject: string;
  payload: unknown;
  created_at: import('kysely').Generated<Date>;
  published_at: Date | null;
  /** W3C traceparent of the event's creation (null when untraced, and for hand-offs). */
  trace_context: string | null;
}
export interface InboxTable {
  consumer: string;
  event_id: string;
  event_type: string;
  processed_at: import('kysely').Generated<Date>;
}
export interface ParkedEventsTable {
  id: import('kysely').Generated<string>;
  consumer: string;
  event_id: string | null;
  subject: string;
  payload: string;
  error: string;
  deliveries: number;
  parked_at: import('kysely').Generated<Date>;
  resolved_at: Date | null;
}
/** The platform's tables, merged into every service's `Database` interface. */
export interface PlatformTables {
  outbox: OutboxTable;
  inbox: InboxTable;
  parked_events: ParkedEventsTable;
}
