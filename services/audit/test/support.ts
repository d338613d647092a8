import { randomBytes } from 'node:crypto';
import { calendarFromEnv, type RunningService } from '@pdp/shared';
import { callSubgraph, eventually, isolatedServiceConfig, publishEvent } from '@pdp/shared/testing';
import { inject } from 'vitest';
import type { AuditExtra } from '../src/config';
import type { Database } from '../src/db/tables';
import { checkpointKeys, generateCheckpointKey } from '../src/domain/keys';
import { startAudit, type AuditConfig } from '../src/service';

export const auditor = { id: 'auditor-1', roles: ['AUDITOR' as const], creditorId: null };
export const dpo = { id: 'dpo-1', roles: ['DPO' as const], creditorId: null };

export interface TestAudit {
  config: AuditConfig;
  service: RunningService<Database>;
  key: ReturnType<typeof generateCheckpointKey>;
  /** Calls the audit subgraph as the gateway would. */
  call(
    query: string,
    variables?: Record<string, unknown>,
    actor?: typeof auditor | typeof dpo | { id: string; roles: string[]; creditorId: string | null },
  ): Promise<any>;
  /** Publishes `n` events (subject.blocked of fresh subjects by default) and waits until they are entries. */
  record(n: number, actorId?: string): Promise<void>;
  count(): Promise<number>;
  /** Stops the service and starts it again on the same database and stream: a fresh process, no memory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The audit service alone, on its own database and stream, with a checkpoint key of its own. */
export async function startTestAudit(extra: Partial<AuditExtra> = {}): Promise<TestAudit> {
  const key = generateCheckpointKey('test-1');
  const base = await isolatedServiceConfig(inject('serverUrl'), inject('natsUrl'), `${inject('runPrefix')}_audit_${randomBytes(3).toString('hex')}`, {});
  const config: AuditConfig = {
    ...base,
    extra: {
      checkpointKeys: checkpointKeys(JSON.stringify([key.entry])),
      origin: 'pdp.audit/test',
      checkpointEvery: 5,
      checkpointSeconds: 3600,
      reconcileSeconds: 3600,
      fullVerifyHours: 0,
      workHours: null,
      notifyWorkingDays: 1,
      calendar: calendarFromEnv(undefined, undefined),
      ...extra,
    },
  };
  const count = async () =>
    Number(
      (
        await audit.service.db
          .selectFrom('audit_log')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const audit: TestAudit = {
    config,
    service: await startAudit(config),
    key,
    call: (query, variables = {}, actor = auditor) => callSubgraph(audit.service.url, 'audit', actor as typeof auditor, query, variables),
    async record(n, actorId = 'dpo-1') {
      const before = await count();
      for (let i = 0; i < n; i += 1) {
        const subjectId = crypto.randomUUID();
        await publishEvent(config.natsUrl, config.eventsPrefix, {
          type: 'subject.blocked',
          source: 'subjects',
          actor: { id: actorId, roles: ['DPO'] },
          subjectId,
          data: { subjectId },
        });
      }
      await eventually(async () => (await count()) >= before + n, 15_000, `${n} entries`);
    },
    count,
    async restart() {
      await audit.service.stop();
      audit.service = await startAudit(config);
    },
    stop: () => audit.service.stop(),
  };
  return audit;
}
