import type { Server } from 'node:http';

/**
 * How long a process may take to drain after SIGTERM before it exits anyway (exit 1): below
 * compose.yaml's stop_grace_period and the manifests' terminationGracePeriodSeconds (30 s), so that
 * the process ends by itself rather than by SIGKILL.
 */
export const SHUTDOWN_DEADLINE_MS = 25_000;

/**
 * Stops an HTTP server the way a drain needs it: no new connections, every request in flight
 * answered (with `Connection: close`), each keep-alive connection closed as soon as it is idle —
 * instead of waiting out its keep-alive timeout, which `server.close()` alone does — and whatever is
 * still open after `graceMs` closed outright. Resolves once the server is closed.
 */
export function drainHttpServer(server: Server, graceMs = 10_000): Promise<void> {
  if (!server.listening) return Promise.resolve();
  // Responses not yet sent tell their client that this connection ends with them.
  const closing = (_req: unknown, res: { headersSent: boolean; setHeader(n: string, v: string): void }) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  server.on('request', closing);
  return new Promise<void>((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    idle.unref();
    force.unref();
    server.close(() => {
      clearInterval(idle);
      clearTimeout(force);
      server.off('request', closing);
      resolve();
    });
    server.closeIdleConnections();
  });
}
