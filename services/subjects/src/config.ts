import { z } from 'zod';
import { calendarEnv, calendarFromEnv, type ServiceConfig, type ServiceDeps, type WorkCalendar } from '@pdp/shared';
import type { Database } from './db/tables';
import type { ErasureMethod } from './domain/lifecycle';

export const subjectsEnv = z.object({
  /** Private JWK that opens identities sealed to subjects by the intake (appeals). */
  SUBJECTS_SEAL_PRIVATE_KEY: z.string().min(1),
  /** Public JWK of appeals: corrected contact values travel sealed to it. */
  APPEALS_SEAL_PUBLIC_KEY: z.string().min(1),
  /** Public JWK of consents: the signed consent's reference (and a contract's obligations) travel sealed to it. */
  CONSENTS_SEAL_PUBLIC_KEY: z.string().min(1),
  /** Days a subject's data are kept after all purposes are achieved (4.6). */
  RETENTION_DAYS: z.coerce.number().int().min(0).default(365),
  RETENTION_SWEEP_MS: z.coerce.number().int().min(100).default(3_600_000),
  RETENTION_METHOD: z.enum(['DESTROY', 'DEPERSONALIZE']).default('DEPERSONALIZE'),
  /** Working days to act on a subject's request (Law 94-V). */
  RIGHTS_REQUEST_WORKING_DAYS: z.coerce.number().int().min(1).max(30).default(3),
  ...calendarEnv,
});

export interface SubjectsExtra {
  sealPrivateKey: string;
  appealsSealKey: string;
  consentsSealKey: string;
  retentionDays: number;
  retentionSweepMs: number;
  retentionMethod: ErasureMethod;
  rightsRequestWorkingDays: number;
  calendar: WorkCalendar;
}

export function subjectsExtra(env: z.infer<typeof subjectsEnv>): SubjectsExtra {
  return {
    sealPrivateKey: env.SUBJECTS_SEAL_PRIVATE_KEY,
    appealsSealKey: env.APPEALS_SEAL_PUBLIC_KEY,
    consentsSealKey: env.CONSENTS_SEAL_PUBLIC_KEY,
    retentionDays: env.RETENTION_DAYS,
    retentionSweepMs: env.RETENTION_SWEEP_MS,
    retentionMethod: env.RETENTION_METHOD,
    rightsRequestWorkingDays: env.RIGHTS_REQUEST_WORKING_DAYS,
    calendar: calendarFromEnv(env.HOLIDAYS, env.WORKING_WEEKENDS),
  };
}

export type SubjectsConfig = ServiceConfig<SubjectsExtra>;
export type Deps = ServiceDeps<Database, SubjectsExtra>;
