import { randomBytes, randomUUID } from 'node:crypto';
import { FieldCipher, generateSealKeyPair, Guard, kazakhstanCalendar, type RunningService } from '@pdp/shared';
import { isolatedServiceConfig } from '@pdp/shared/testing';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppealsConfig, Deps } from '../src/config';
import type { Database } from '../src/db/tables';
import { startAppeals } from '../src/service';
import { worklist } from '../src/worklist.service';

describe('the worklist reads a page with one SQL query', () => {
  let config: AppealsConfig;
  let service: RunningService<Database>;
  let db: Kysely<Database>;
  const statements: string[] = [];

  beforeAll(async () => {
    config = await isolatedServiceConfig(inject('serverUrl'), inject('natsUrl'), `${inject('runPrefix')}_worklist_${randomBytes(2).toString('hex')}`, {
      subjectsSealKey: (await generateSealKeyPair()).publicJwk,
      consentsSealKey: (await generateSealKeyPair()).publicJwk,
      sealPrivateKey: (await generateSealKeyPair()).privateJwk,
      answerWorkingDays: 15,
      calendar: kazakhstanCalendar(),
      bootstrapDpo: null,
    });
    service = await startAppeals(config); // migrates the database
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

  it('a filtered page of 50 with its total: one SELECT and one INSERT of access records', async () => {
    const rows = Array.from({ length: 120 }, (_, i) => ({
      id: randomUUID(),
      reference: `APL-2026-${String(900000 + i)}`,
      kind: i % 2 ? 'APPEAL' : 'COMPLAINT',
      status: 'NEW',
      channel: 'collectors.kz/appeal',
      locale: 'RU',
      subject_id: randomUUID(),
      phone_enc: null,
      email_enc: null,
      description_enc: 'x',
      deadline: '2026-12-31',
      submitted_at: new Date(Date.UTC(2026, 10, 1, 0, i)),
    }));
    await db.insertInto('appeals').values(rows).execute();
    statements.length = 0;
    const deps = {
      db,
      guard: new Guard(db, config.eventsPrefix, 'appeals'),
      cipher: new FieldCipher<Database>('appeals', config.encryptionKeys),
      prefix: config.eventsPrefix,
      config,
    } as unknown as Deps;
    const scope = {
      actor: { id: 'operator-1', roles: ['OPERATOR' as const], creditorId: null },
      meta: { requestId: 'r1', locale: 'RU' as const, ip: null, userAgent: null },
    };
    const page = await worklist(deps, scope, { filter: { kind: ['COMPLAINT'] }, first: 50 }, { withTotal: true, withContact: false });
    expect(page.nodes).toHaveLength(50);
    expect(page.totalCount).toBe(60);
    expect(page.hasNextPage).toBe(true);
    expect(page.nodes[0]!.submittedAt > page.nodes[49]!.submittedAt).toBe(true);
    const selects = statements.filter((s) => s.startsWith('select') && !s.includes('pg_notify'));
    const inserts = statements.filter((s) => s.startsWith('insert into "outbox"'));
    expect(selects).toHaveLength(1);
    expect(inserts).toHaveLength(1);

    // The next pages: the total is the same on each, and after the last row the page is empty but still counted.
    const second = await worklist(
      deps,
      scope,
      { filter: { kind: ['COMPLAINT'] }, first: 50, after: page.cursors[49] },
      { withTotal: true, withContact: false },
    );
    expect(second.nodes).toHaveLength(10);
    expect(second.totalCount).toBe(60);
    expect(second.hasNextPage).toBe(false);
    expect(new Set([...page.nodes, ...second.nodes].map((n) => n.id)).size).toBe(60);
    const beyond = await worklist(
      deps,
      scope,
      { filter: { kind: ['COMPLAINT'] }, first: 50, after: second.cursors[9] },
      { withTotal: true, withContact: false },
    );
    expect(beyond.nodes).toHaveLength(0);
    expect(beyond.totalCount).toBe(60);
  });
});
