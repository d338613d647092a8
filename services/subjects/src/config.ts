import { z } from 'zod';
import type { ServiceConfig, ServiceDeps } from '@pdp/shared';
import type { Database } from './db/tables';

export const subjectsEnv = z.object({
  /** Private JWK that opens identities sealed to subjects by the intake (appeals). */
  SUBJECTS_SEAL_PRIVATE_KEY: z.string().min(1),
});

export interface SubjectsExtra {
  sealPrivateKey: string;
}

export function subjectsExtra(env: z.infer<typeof subjectsEnv>): SubjectsExtra {
  return { sealPrivateKey: env.SUBJECTS_SEAL_PRIVATE_KEY };
}

export type SubjectsConfig = ServiceConfig<SubjectsExtra>;
export type Deps = ServiceDeps<Database, SubjectsExtra>;
