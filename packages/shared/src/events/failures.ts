/** How the consumer tells a failure of the infrastructure from one of the event, and how long it waits to retry. */
import { safeError } from '../logger';

/**
 * A failure of the infrastructure, not of the event: the database or NATS restarting, a connection
 * cut, a deadlock. Such an event is retried for as long as it takes and never parked — only an event
 * that fails on its own merits counts towards `maxAttempts`.
 */
export function isTransient(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  // SQLSTATE: connection exceptions (08…), shutdown and restart (57P0x), too many connections, serialization, deadlock.
  if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[1-4]$/.test(code) || ['53300', '40001', '40P01'].includes(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  // nats.js: timeouts, no responders (503), a closed or reconnecting connection.
  if (e.name === 'NatsError' || ['TIMEOUT', '503', 'CONNECTION_CLOSED', 'CONNECTION_DRAINING', 'DISCONNECT'].includes(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection/i.test(
    message,
  );
}

/** The longest wait before an event that failed on the infrastructure (isTransient) is tried again. */
export const TRANSIENT_MAX_BACKOFF_MS = 2_000;

export function backoffMs(deliveryCount: number): number {
  return Math.min(30_000, 250 * 2 ** Math.max(0, deliveryCount - 1));
}

/** For logs and the parked row: name and message only. */
export function describe(err: unknown): string {
  const { name, message } = safeError(err);
  return `${name}: ${message}`;
}
