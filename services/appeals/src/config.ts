import { z } from 'zod';
import { calendarEnv, calendarFromEnv, STAFF_ID, type ServiceConfig, type ServiceDeps, type WorkCalendar } from '@pdp/shared';
import type { Database } from './db/tables';

export const appealsEnv = z.object({
  /** Public JWKs: identities are sealed to subjects, consent evidence to consents. */
  SUBJECTS_SEAL_PUBLIC_KEY: z.string().min(1),
  CONSENTS_SEAL_PUBLIC_KEY: z.string().min(1),
  /** Private JWK that opens corrected contact values sealed to appeals by subjects. */
  APPEALS_SEAL_PRIVATE_KEY: z.string().min(1),
  APPEAL_ANSWER_WORKING_DAYS: z.coerce.number().int().min(1).max(60).default(15),
  ...calendarEnv,
  /**
   * The first DPO of a deployment (an account name as the OpenID provider names it): granted once,
   * into an empty access registry, by the platform itself. Every later grant is a DPO's.
   */
  BOOTSTRAP_DPO: z.string().regex(STAFF_ID, 'an account name: letters, digits and . _ - @ :').optional(),
});

export interface AppealsExtra {
  subjectsSealKey: string;
  consentsSealKey: string;
  sealPrivateKey: string;
  answerWorkingDays: number;
  calendar: WorkCalendar;
  bootstrapDpo: string | null;
}

export function appealsExtra(env: z.infer<typeof appealsEnv>): AppealsExtra {
  return {
    subjectsSealKey: env.SUBJECTS_SEAL_PUBLIC_KEY,
    consentsSealKey: env.CONSENTS_SEAL_PUBLIC_KEY,
    sealPrivateKey: env.APPEALS_SEAL_PRIVATE_KEY,
    answerWorkingDays: env.APPEAL_ANSWER_WORKING_DAYS,
    calendar: calendarFromEnv(env.HOLIDAYS, env.WORKING_WEEKENDS),
    bootstrapDpo: env.BOOTSTRAP_DPO ?? null,
  };
}

export type AppealsConfig = ServiceConfig<AppealsExtra>;
export type Deps = ServiceDeps<Database, AppealsExtra>;
