/**
 * Keeps processes running: a process that exits without being asked to is started again after a
 * pause that doubles with each quick failure (0.5 s … 30 s) and starts over once it has run for a
 * while. Used by `npm start` (one crash is not an outage) and by the fault suite, which kills
 * services with SIGKILL and expects them back without a hand.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

export interface ProcessSpec {
  /** Name in the log, e.g. `appeals` or `appeals#2`. */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
  /** Called with each new child (e.g. to read its output). */
  onStart?: (child: ChildProcess) => void;
}

export interface SupervisorOptions {
  log?: (line: string) => void;
  /** First pause before a restart (500 ms); doubles per quick failure. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A process that ran this long counts as healthy: the next failure waits `minBackoffMs` again. */
  healthyAfterMs?: number;
}

export function backoffDelay(failures: number, min = 500, max = 30_000): number {
  return Math.min(max, min * 2 ** Math.max(0, failures - 1));
}

export class Supervised {
  child: ChildProcess | null = null;
  /** Restarts so far (not counting the first start). */
  restarts = 0;
  private failures = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  stopping = false;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: ProcessSpec,
    private readonly opts: Required<SupervisorOptions>,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    const { spec } = this;
    const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: spec.stdio ?? ['ignore', 'inherit', 'inherit'] });
    this.child = child;
    this.startedAt = Date.now();
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    spec.onStart?.(child);
    this.opts.log(`${spec.name} ${this.restarts > 0 ? 'started again' : 'started'} (pid ${child.pid})`);
    child.once('error', (err) => this.opts.log(`${spec.name} could not start: ${err.message}`));
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      this.failures = Date.now() - this.startedAt >= this.opts.healthyAfterMs ? 1 : this.failures + 1;
      const delay = backoffDelay(this.failures, this.opts.minBackoffMs, this.opts.maxBackoffMs);
      this.opts.log(`${spec.name} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms (restart ${this.restarts + 1})`);
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.stopping) return;
        this.restarts += 1;
        this.start();
      }, delay);
    });
  }

  /** Sends a signal to the running process (the fault suite's SIGKILL); the supervisor restarts it. */
  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Stops it for good: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const killer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killer);
  }
}

export class Supervisor {
  readonly processes: Supervised[] = [];
  private readonly opts: Required<SupervisorOptions>;

  constructor(opts: SupervisorOptions = {}) {
    this.opts = {
      log: opts.log ?? ((line) => console.error(line)),
      minBackoffMs: opts.minBackoffMs ?? 500,
      maxBackoffMs: opts.maxBackoffMs ?? 30_000,
      healthyAfterMs: opts.healthyAfterMs ?? 30_000,
    };
  }

  run(spec: ProcessSpec): Supervised {
    const process = new Supervised(spec, this.opts);
    this.processes.push(process);
    process.start();
    return process;
  }

  /** Stops every process, the last started first. */
  async stopAll(graceMs = 5000): Promise<void> {
    for (const p of this.processes) p.stopping = true;
    await Promise.all([...this.processes].reverse().map((p) => p.stop(graceMs)));
  }
}
