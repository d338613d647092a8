import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { streamName } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import { connect } from 'nats';
import { SERVICE_NAMES, type System } from './system';

const root = join(import.meta.dirname, '..', '..');

/** Runs one of the audit scripts as its own process, as an auditor would; verification gets no network at all. */
export function runAuditScript(
  script: 'audit-export' | 'audit-verify',
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const offline = script === 'audit-verify' ? ['--require', join(root, 'tests/support/no-network.cjs')] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...offline, '--import', 'tsx', join(root, 'scripts', `${script}.ts`), ...args], {
      cwd: root,
      // No DATABASE_URL, no NATS_URL, no secret of the project: the verifier must not need any.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, out }));
  });
}

/** The audit's newest seq ('0' for an empty log). */
export async function auditHead(system: System): Promise<string> {
  const row = await system.db('audit').selectFrom('audit_log').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row?.seq ?? '0';
}

/**
 * Waits until the platform is at rest: every outbox published, every durable consumer caught up, and
 * the audit's head unchanged over a short while (the gateway's refusals go out after the response).
 */
export async function quiescent(system: System, timeoutMs = 20_000): Promise<void> {
  const nc = await connect({ servers: system.options.natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    const stream = streamName(system.prefix);
    let last = '';
    await eventually(
      async () => {
        const unpublished = await Promise.all(
          SERVICE_NAMES.map((name) => system.platformDb(name).selectFrom('outbox').select('id').where('published_at', 'is', null).limit(1).executeTakeFirst()),
        );
        if (unpublished.some(Boolean)) return false;
        for await (const c of await jsm.consumers.list(stream)) if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
        const head = await auditHead(system);
        const stable = head === last;
        last = head;
        if (!stable) await new Promise((r) => setTimeout(r, 80));
        return stable;
      },
      timeoutMs,
      'the platform at rest',
    );
  } finally {
    await nc.close();
  }
}

export interface RecordedEntry {
  seq: string;
  event_type: string;
  operation: string;
  outcome: string | null;
  source: string;
  actor_id: string;
  subject_id: string | null;
  resource: string | null;
  details: unknown;
}

/** Entries recorded after `seq`, oldest first. */
export async function entriesAfter(system: System, seq: string): Promise<RecordedEntry[]> {
  return system
    .db('audit')
    .selectFrom('audit_log')
    .select(['seq', 'event_type', 'operation', 'outcome', 'source', 'actor_id', 'subject_id', 'resource', 'details'])
    .where('seq', '>', seq)
    .orderBy('seq')
    .execute();
}
