import type { Server } from 'node:http';
import express, { type Express } from 'express';
import { registry } from './metrics';

export type ReadinessCheck = () => Promise<void>;

/**
 * How long `/readyz` waits for a check: a dependency that does not answer by then is not ready. Load
 * balancers and orchestrators give a probe about a second; a hanging check (NATS or PostgreSQL down,
 * requests buffered for a reconnect) must answer 503 within that, never time the probe out.
 */
export const READINESS_TIMEOUT_MS = 750;

/**
 * `/livez` answers 200 while the process runs; `/readyz` answers 200 only when every deciding check
 * passes, with each check's state (never personal data). Checks named in `informational` are
 * reported but do not decide — what every instance shares, where taking this one out of its
 * balancer would help nobody (the gateway's subgraphs) — unless asked `/readyz?strict` (every check
 * must pass). `details` adds figures to the body that decide nothing (a service's event backlog).
 * `/metrics` is mounted by `startMetrics`.
 */
export function mountHealth(
  app: Express,
  checks: Record<string, ReadinessCheck>,
  isShuttingDown: () => boolean,
  informational: readonly string[] = [],
  details: () => Record<string, unknown> = () => ({}),
): void {
  app.get('/livez', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (req, res) => {
    const results = await runChecks(checks);
    const strict = req.query.strict !== undefined;
    const ready = !isShuttingDown() && Object.entries(results).every(([name, r]) => r === 'ok' || (!strict && informational.includes(name)));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: results, ...details() });
  });
}

export interface MetricsOptions {
  production: boolean;
  /** A port of its own for `/metrics`, reachable by the monitoring network only. */
  metricsPort: number | null;
  host: string;
}

/**
 * Where Prometheus reads `/metrics`: on `metricsPort` when one is configured; otherwise on the main
 * port in development, and nowhere in production — counters and latencies tell an outsider what
 * the platform is doing, so they never sit on the public port there.
 */
export async function startMetrics(app: Express, opts: MetricsOptions): Promise<{ port: number | null; stop(): Promise<void> }> {
  const handler = async (_req: express.Request, res: express.Response) => {
    res.type(registry.contentType).send(await registry.metrics());
  };
  if (opts.metricsPort === null) {
    if (!opts.production) app.get('/metrics', handler);
    return { port: null, stop: async () => undefined };
  }
  const metricsApp = express();
  metricsApp.disable('x-powered-by');
  metricsApp.get('/metrics', handler);
  const server: Server = await new Promise((resolve) => {
    const s = metricsApp.listen(opts.metricsPort!, opts.host, () => resolve(s));
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : null,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function runChecks(checks: Record<string, ReadinessCheck>, timeoutMs = READINESS_TIMEOUT_MS): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
            timer.unref();
          }),
        ]).finally(() => clearTimeout(timer));
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, err instanceof Error ? err.message.slice(0, 200) : 'failed'] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}
