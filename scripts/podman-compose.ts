/**
 * Runs compose.yaml with Podman alone (Debian's podman has no compose; podman-compose may be missing):
 * the part of the Compose specification that compose.yaml uses — image, entrypoint, command,
 * environment and env_file, named volumes and bind mounts, read_only, tmpfs, ulimits,
 * network_mode: host, healthcheck, depends_on (service_healthy), restart, stop_signal and
 * stop_grace_period — each container `podman run` with the same settings, started in dependency
 * order, each waited for until healthy when another depends on it. Anything else in the file is an
 * error here, not silently ignored. `npm run test:deploy` drives the stack through this.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ComposeService {
  name: string;
  image: string;
  entrypoint?: string[];
  command?: string[];
  environment: Record<string, string>;
  envFiles: string[];
  volumes: Array<{ source: string; target: string; readOnly: boolean; named: boolean }>;
  readOnly: boolean;
  tmpfs: string[];
  ulimits: Record<string, { soft: number; hard: number }>;
  healthcheck?: { test: string[]; intervalS: number; timeoutS: number; retries: number };
  dependsOn: Record<string, 'service_healthy' | 'service_started'>;
  restart?: string;
  stopSignal?: string;
  stopGraceS?: number;
}

export interface Compose {
  project: string;
  services: Record<string, ComposeService>;
  volumes: string[];
}

const KNOWN = new Set([
  'image',
  'entrypoint',
  'command',
  'environment',
  'env_file',
  'volumes',
  'read_only',
  'tmpfs',
  'ulimits',
  'network_mode',
  'healthcheck',
  'depends_on',
  'restart',
  'stop_signal',
  'stop_grace_period',
]);

/** `${VAR}`, `${VAR:-default}` and `$$`, as Compose interpolates them. */
export function interpolate(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$$') return '$';
    const value = env[name!];
    return value !== undefined && value !== '' ? value : (fallback ?? '');
  });
}

const seconds = (d: unknown): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(d));
  if (!m) throw new Error(`a duration Compose knows, not ${String(d)}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
};

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

export function loadCompose(file: string, env: NodeJS.ProcessEnv = process.env): Compose {
  const dir = dirname(file);
  // As Compose does: the YAML first, then `${VAR}` in its values.
  const values = (v: unknown): unknown =>
    typeof v === 'string'
      ? interpolate(v, env)
      : Array.isArray(v)
        ? v.map(values)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, values(x)]))
          : v;
  const doc = values(parse(readFileSync(file, 'utf8'), { merge: true })) as {
    name?: string;
    services: Record<string, Record<string, unknown>>;
    volumes?: Record<string, unknown>;
  };
  const volumes = Object.keys(doc.volumes ?? {});
  const services: Record<string, ComposeService> = {};
  for (const [name, s] of Object.entries(doc.services)) {
    const unknown = Object.keys(s).filter((k) => !KNOWN.has(k));
    if (unknown.length > 0) throw new Error(`compose: ${name}: ${unknown.join(', ')} is not supported by scripts/podman-compose.ts`);
    if (s.network_mode !== 'host') throw new Error(`compose: ${name}: network_mode must be host`);
    const environment = Object.fromEntries(Object.entries((s.environment as Record<string, unknown>) ?? {}).map(([k, v]) => [k, String(v)]));
    const hc = s.healthcheck as { test: string[]; interval?: string; timeout?: string; retries?: number } | undefined;
    if (hc && hc.test[0] !== 'CMD') throw new Error(`compose: ${name}: healthcheck.test must be [CMD, …]`);
    services[name] = {
      name,
      image: String(s.image),
      entrypoint: s.entrypoint === undefined ? undefined : list(s.entrypoint),
      command: s.command === undefined ? undefined : list(s.command),
      environment,
      envFiles: list(s.env_file).map((f) => (isAbsolute(f) ? f : resolve(dir, f))),
      volumes: list(s.volumes).map((v) => {
        const [source, target, mode] = v.split(':');
        const named = !source!.startsWith('.') && !source!.startsWith('/');
        if (named && !volumes.includes(source!)) throw new Error(`compose: ${name}: volume ${source} is not declared`);
        return { source: named ? source! : resolve(dir, source!), target: target!, readOnly: mode === 'ro', named };
      }),
      readOnly: s.read_only === true,
      tmpfs: list(s.tmpfs),
      ulimits: Object.fromEntries(
        Object.entries((s.ulimits as Record<string, { soft: number; hard: number } | number>) ?? {}).map(([k, v]) => [
          k,
          typeof v === 'number' ? { soft: v, hard: v } : v,
        ]),
      ),
      healthcheck: hc
        ? { test: hc.test.slice(1), intervalS: seconds(hc.interval ?? '30s'), timeoutS: seconds(hc.timeout ?? '30s'), retries: hc.retries ?? 3 }
        : undefined,
      dependsOn: Array.isArray(s.depends_on)
        ? Object.fromEntries((s.depends_on as string[]).map((d) => [d, 'service_started' as const]))
        : Object.fromEntries(
            Object.entries((s.depends_on as Record<string, { condition?: string }>) ?? {}).map(([d, c]) => [d, (c.condition ?? 'service_started') as never]),
          ),
      restart: s.restart === undefined ? undefined : String(s.restart),
      stopSignal: s.stop_signal === undefined ? undefined : String(s.stop_signal),
      stopGraceS: s.stop_grace_period === undefined ? undefined : seconds(s.stop_grace_period),
    };
  }
  for (const s of Object.values(services))
    for (const d of Object.keys(s.dependsOn)) if (!services[d]) throw new Error(`compose: ${s.name} depends on ${d}, which is not a service`);
  return { project: doc.name ?? 'compose', services, volumes };
}

/** Services in an order where each comes after what it depends on. */
export function startOrder(compose: Compose): string[] {
  const done: string[] = [];
  const visit = (name: string, path: string[]) => {
    if (done.includes(name)) return;
    if (path.includes(name)) throw new Error(`compose: a dependency cycle: ${[...path, name].join(' → ')}`);
    for (const d of Object.keys(compose.services[name]!.dependsOn)) visit(d, [...path, name]);
    done.push(name);
  };
  for (const name of Object.keys(compose.services)) visit(name, []);
  return done;
}

export interface PodmanOptions {
  /** Global options before the subcommand, e.g. `--runtime runc --cgroup-manager=cgroupfs`. */
  global: string[];
  /** Caps of the ulimits compose.yaml asks for (a container may not exceed the host's hard limit). */
  maxUlimits?: Record<string, number>;
  log?: (line: string) => void;
}

export class PodmanCompose {
  constructor(
    readonly compose: Compose,
    private readonly opts: PodmanOptions,
  ) {}

  containerName(service: string): string {
    return `${this.compose.project}-${service}`;
  }

  volumeName(volume: string): string {
    return `${this.compose.project}_${volume}`;
  }

  podman(args: string[], { check = true, quiet = false } = {}): { status: number; stdout: string; stderr: string } {
    const r = spawnSync('podman', [...this.opts.global, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const out = { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '').replace(/^time=.*systemd.*\n?/gm, '') };
    if (check && out.status !== 0) throw new Error(`podman ${args.slice(0, 3).join(' ')} …: ${out.stderr.trim() || out.stdout.trim()}`);
    if (!quiet && out.stderr.trim() && this.opts.log) this.opts.log(out.stderr.trim());
    return out;
  }

  runArgs(s: ComposeService): string[] {
    const args = [
      'run',
      '--detach',
      '--name',
      this.containerName(s.name),
      '--network',
      'host',
      '--label',
      `com.docker.compose.project=${this.compose.project}`,
    ];
    args.push('--label', `com.docker.compose.service=${s.name}`);
    if (s.readOnly) args.push('--read-only');
    for (const t of s.tmpfs) args.push('--tmpfs', t);
    // A limit compose.yaml does not name would be podman's default, which a sandbox may refuse: the cap.
    const ulimits = { ...Object.fromEntries(Object.entries(this.opts.maxUlimits ?? {}).map(([k, n]) => [k, { soft: n, hard: n }])), ...s.ulimits };
    for (const [k, v] of Object.entries(ulimits)) {
      const cap = this.opts.maxUlimits?.[k] ?? Number.POSITIVE_INFINITY;
      args.push('--ulimit', `${k}=${Math.min(v.soft, cap)}:${Math.min(v.hard, cap)}`);
    }
    for (const f of s.envFiles) args.push('--env-file', f);
    for (const [k, v] of Object.entries(s.environment)) args.push('--env', `${k}=${v}`);
    for (const v of s.volumes) args.push('--volume', `${v.named ? this.volumeName(v.source) : v.source}:${v.target}${v.readOnly ? ':ro' : ''}`);
    if (s.restart && s.restart !== 'no') args.push('--restart', s.restart);
    if (s.stopSignal) args.push('--stop-signal', s.stopSignal);
    if (s.stopGraceS !== undefined) args.push('--stop-timeout', String(Math.ceil(s.stopGraceS)));
    if (s.healthcheck) {
      args.push(
        '--health-cmd',
        JSON.stringify(s.healthcheck.test),
        '--health-timeout',
        `${s.healthcheck.timeoutS}s`,
        '--health-retries',
        String(s.healthcheck.retries),
      );
    }
    // No systemd here to run the timers: health checks run when waited for (`podman healthcheck run`).
    args.push('--health-interval', 'disable');
    if (s.entrypoint) args.push('--entrypoint', JSON.stringify(s.entrypoint));
    args.push(s.image, ...(s.command ?? []));
    return args;
  }

  /** Runs the image's or compose.yaml's health check once: true when healthy. */
  healthy(service: string): boolean {
    return this.podman(['healthcheck', 'run', this.containerName(service)], { check: false, quiet: true }).status === 0;
  }

  running(service: string): boolean {
    const r = this.podman(['inspect', '--format', '{{.State.Running}}', this.containerName(service)], { check: false, quiet: true });
    return r.stdout.trim() === 'true';
  }

  async waitHealthy(service: string, timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.healthy(service)) {
      if (Date.now() > deadline) throw new Error(`${service} did not become healthy in ${timeoutMs / 1000} s:\n${this.logs(service, 40)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  logs(service: string, tail = 100): string {
    const r = this.podman(['logs', '--tail', String(tail), this.containerName(service)], { check: false, quiet: true });
    return `${r.stdout}${r.stderr}`;
  }

  /** Creates the volumes and starts every service (or those named), dependencies first, waiting on health where asked. */
  async up(only?: string[]): Promise<void> {
    for (const v of this.compose.volumes) {
      if (this.podman(['volume', 'exists', this.volumeName(v)], { check: false, quiet: true }).status !== 0)
        this.podman(['volume', 'create', this.volumeName(v)]);
    }
    const order = startOrder(this.compose).filter((n) => !only || only.includes(n));
    // As Compose: a service waits for what it depends on, nothing waits right after its own start
    // (the three NATS nodes are healthy only once all three run).
    for (const name of order) {
      const s = this.compose.services[name]!;
      for (const [d, condition] of Object.entries(s.dependsOn)) if (condition === 'service_healthy') await this.waitHealthy(d);
      this.opts.log?.(`starting ${name}`);
      this.podman(this.runArgs(s));
    }
  }

  /** Stops (drain: the stop signal, then the grace period) and removes every container and volume. */
  down({ volumes = true } = {}): void {
    const order = startOrder(this.compose).reverse();
    for (const name of order) this.podman(['rm', '--force', '--time', '30', this.containerName(name)], { check: false, quiet: true });
    if (volumes) for (const v of this.compose.volumes) this.podman(['volume', 'rm', '--force', this.volumeName(v)], { check: false, quiet: true });
  }
}
