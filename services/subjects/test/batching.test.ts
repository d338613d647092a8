import { randomBytes, randomUUID } from 'node:crypto';
import { FieldCipher, Guard, type RunningService } from '@pdp/shared';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps, SubjectsConfig } from '../src/config';
import type { Database } from '../src/db/tables';
import { subjectLoader } from '../src/resolvers/loaders';
import { startSubjects } from '../src/service';
import { subjectsTestConfig } from './config';

describe('entity resolution is batched', () => {
  let config: SubjectsConfig;
  let service: RunningService<Database>;
  let db: Kysely<Database>;
  const statements: string[] = [];

  beforeAll(async () => {
    config = await subjectsTestConfig(`batch_${randomBytes(2).toString('hex')}`);
    service = await startSubjects(config); // migrates the database
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: config.databaseUrl, max: 2 }) }),
      log: (event) => {
        if (event.level === 'query') statements.push(event.query.sql);
      },
    });
  });
  afterAll(async () => {
    await db.destroy();
    await service.stop();
  });

  it('loads twenty subjects of one `_entities` call with one SQL query, and records each read', async () => {
    const ids = Array.from({ length: 20 }, () => randomUUID());
    await db
      .insertInto('subjects')
      .values(ids.map((id) => ({ id, status: 'ACTIVE', iin_enc: null, iin_bidx: null })))
      .execute();
    await db
      .insertInto('subject_categories')
      .values(ids.map((id) => ({ subject_id: id, category: 'APPLICANT' })))
      .execute();
    statements.length = 0;

    const deps = {
      db,
      guard: new Guard(db, config.eventsPrefix, 'subjects'),
      cipher: new FieldCipher<Database>('subjects', config.encryptionKeys),
      prefix: config.eventsPrefix,
      config,
    } as unknown as Deps;
    const scope = {
      actor: { id: 'dpo-1', roles: ['DPO' as const], creditorId: null },
      meta: { requestId: 'r1', locale: 'RU' as const, ip: null, userAgent: null },
    };
    const loader = subjectLoader(deps, scope);
    // What __resolveReference does for each representation of one `_entities` call.
    const loaded = await Promise.all(ids.map((id) => loader.load(id)));

    expect(loaded.map((s) => s?.categories)).toEqual(ids.map(() => ['APPLICANT']));
    const selects = statements.filter((s) => s.startsWith('select') && !s.includes('pg_notify'));
    const inserts = statements.filter((s) => s.startsWith('insert into "outbox"'));
    expect(selects).toHaveLength(1);
    expect(inserts).toHaveLength(1); // twenty access records, one INSERT, before the data are returned
    const recorded = await db.selectFrom('outbox').select('payload').execute();
    expect(recorded.filter((r) => (r.payload as { type: string }).type === 'pd.accessed')).toHaveLength(20);
  });
});
