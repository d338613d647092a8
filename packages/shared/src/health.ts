import type { Express } from 'express';
import { registry } from './metrics';

export type ReadinessCheck = () => Promise<void>;

/**
 * `/livez` answers 200 while the process runs; `/readyz` answers 200 only when every dependency
 * check passes, with each check's state (never personal data); `/metrics` is Prometheus text.
 */
export function mountHealth(app: Express, checks: Record<string, ReadinessCheck>, isShuttingDown: () => boolean): void {
  app.get('/livez', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const results = await runChecks(checks);
    const ready = !isShuttingDown() && Object.values(results).every((r) => r === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: results });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
}

export async function runChecks(checks: Record<string, ReadinessCheck>, timeoutMs = 2000): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
        ]);
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, err instanceof Error ? err.message.slice(0, 200) : 'failed'] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}
