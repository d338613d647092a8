import { calendarEnv, calendarFromEnv, type ServiceConfig, type ServiceDeps, type WorkCalendar } from '@pdp/shared';
import { z } from 'zod';
import type { Database } from './db/tables';
import { checkpointKeys, parseCheckpointKeys, type CheckpointKeys } from './domain/keys';

const hours = z
  .string()
  .regex(/^(off|([01]?\d|2[0-4])-([01]?\d|2[0-4]))$/, 'hours "start-end" in Kazakhstan time, e.g. 7-22, or "off"')
  .transform((s) => {
    if (s === 'off') return null;
    const [start, end] = s.split('-').map(Number) as [number, number];
    return { start, end };
  });

/** The audit's own settings (docs/operations.md, "Configure"). */
export const auditEnv = z.object({
  AUDIT_CHECKPOINT_KEYS: z
    .string({ error: 'required: JSON list, newest first, of {"keyId", "key"} (Ed25519; the first a private key)' })
    .superRefine((value, ctx) => {
      for (const problem of parseCheckpointKeys(value).problems) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** Names this log in every checkpoint: a checkpoint of one deployment is no proof for another. */
  AUDIT_ORIGIN: z
    .string()
    .regex(/^[\w.:/-]{1,100}$/)
    .default('pdp.audit'),
  AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** How soon the head the recorder wrote becomes a checkpoint, in the database and on the stream (docs/security.md). */
  AUDIT_CHECKPOINT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(1),
  /** How often the recorder checks that everything the stream acknowledged to it is recorded. */
  AUDIT_RECONCILE_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  /** A full verification of the whole chain this often (0 = never by itself). */
  AUDIT_FULL_VERIFY_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 31)
    .default(24),
  /** Working hours in Kazakhstan (UTC+5); staff access outside them, or on a non-working day, is an incident ("off": no such rule). */
  AUDIT_WORK_HOURS: hours.default({ start: 7, end: 22 }),
  INCIDENT_NOTIFY_WORKING_DAYS: z.coerce.number().int().min(1).max(30).default(1),
  ...calendarEnv,
});

export interface AuditExtra {
  checkpointKeys: CheckpointKeys;
  origin: string;
  checkpointEvery: number;
  checkpointSeconds: number;
  reconcileSeconds: number;
  fullVerifyHours: number;
  /** Null turns the off-hours rule off. */
  workHours: { start: number; end: number } | null;
  notifyWorkingDays: number;
  calendar: WorkCalendar;
}

export function auditExtraFromEnv(env: z.infer<typeof auditEnv>): AuditExtra {
  return {
    checkpointKeys: checkpointKeys(env.AUDIT_CHECKPOINT_KEYS),
    origin: env.AUDIT_ORIGIN,
    checkpointEvery: env.AUDIT_CHECKPOINT_EVERY,
    checkpointSeconds: env.AUDIT_CHECKPOINT_SECONDS,
    reconcileSeconds: env.AUDIT_RECONCILE_SECONDS,
    fullVerifyHours: env.AUDIT_FULL_VERIFY_HOURS,
    workHours: env.AUDIT_WORK_HOURS,
    notifyWorkingDays: env.INCIDENT_NOTIFY_WORKING_DAYS,
    calendar: calendarFromEnv(env.HOLIDAYS, env.WORKING_WEEKENDS),
  };
}

export type AuditConfig = ServiceConfig<AuditExtra>;
export type Deps = ServiceDeps<Database, AuditExtra>;
