import { z } from 'zod';
import type { ServiceConfig, ServiceDeps } from '@pdp/shared';
import type { Database } from './db/tables';

export const consentsEnv = z.object({
  /** Private JWK that opens consent evidence sealed to consents by the intake (appeals). */
  CONSENTS_SEAL_PRIVATE_KEY: z.string().min(1),
});

export interface ConsentsExtra {
  sealPrivateKey: string;
}

export function consentsExtra(env: z.infer<typeof consentsEnv>): ConsentsExtra {
  return { sealPrivateKey: env.CONSENTS_SEAL_PRIVATE_KEY };
}

export type ConsentsConfig = ServiceConfig<ConsentsExtra>;
export type Deps = ServiceDeps<Database, ConsentsExtra>;
