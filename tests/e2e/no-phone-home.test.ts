import net from 'node:net';
import { describe } from 'vitest';
import { expect, test } from '../support/fixtures';

/**
 * The platform talks to its own PostgreSQL, NATS and subgraphs, and to nothing else: no vendor
 * telemetry, no cloud metadata probes. (@apollo/gateway, left to itself, probes the AWS, GCP, Azure
 * and Alibaba metadata endpoints when it starts and sends usage metrics to Apollo.) Every socket this
 * process opens while a platform starts and serves is recorded here; only loopback may appear.
 */
const destinations: string[] = [];
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  destinations.push(destination(args));
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

/** Where a `connect` call goes: its arguments are (options), (port, host), (path) or, from net.connect, [options, callback]. */
function destination(args: unknown[]): string {
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (typeof first === 'string') return 'ipc';
  if (typeof first === 'number') return typeof args[1] === 'string' ? args[1] : 'localhost';
  const o = (first ?? {}) as { path?: string | null; host?: string | null; hostname?: string | null };
  if (o.path && !o.host && !o.hostname) return 'ipc';
  return o.hostname ?? o.host ?? 'localhost';
}

const loopback = (host: string) => host === 'ipc' || host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';

describe('no phoning home', () => {
  test('starting the platform and serving requests opens sockets to loopback only', async ({ system, gw }) => {
    expect((await gw('{ consentTemplates(locale: RU) { code } }')).errors).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 2000)); // the metadata probes are asynchronous
    expect(destinations.length).toBeGreaterThan(0); // the recorder works: the platform's own connections are in it
    expect(destinations.filter((h) => !loopback(h))).toEqual([]);
    expect(system.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });
});
