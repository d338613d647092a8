import { z } from 'zod';
import { binSchema, type ServiceConfig, type ServiceDeps } from '@pdp/shared';
import type { Database } from './db/tables';

/** A placeholder BIN (it passes the check digit and is plainly no one's): development and tests only. */
export const DEVELOPMENT_OPERATOR_BIN = '000000000000';

export const consentsEnv = z.object({
  /** Private JWK that opens consent evidence sealed to consents by the intake (appeals) and by subjects. */
  CONSENTS_SEAL_PRIVATE_KEY: z.string().min(1),
  /**
   * The operator every consent names (Art. 8(4) of the Law): the Chamber's BIN and its name in
   * Kazakh and Russian. The same for every template and version, so configuration, not template text.
   */
  OPERATOR_BIN: binSchema.default(DEVELOPMENT_OPERATOR_BIN),
  OPERATOR_NAME_KK: z.string().min(3).default('«Қазақстанның ұлттық коллекторлар палатасы» одақ нысанындағы ЗТБ'),
  OPERATOR_NAME_RU: z.string().min(3).default('ОЮЛ в форме союза «Национальная палата коллекторов Казахстана»'),
});

export interface Operator {
  bin: string;
  name: { KK: string; RU: string };
}

export interface ConsentsExtra {
  sealPrivateKey: string;
  operator: Operator;
}

export function consentsExtra(env: z.infer<typeof consentsEnv>, production = false): ConsentsExtra {
  // A consent must name the real operator: production refuses to start on the placeholder.
  if (production && env.OPERATOR_BIN === DEVELOPMENT_OPERATOR_BIN)
    throw new Error("OPERATOR_BIN: set the Chamber's BIN (the development placeholder is refused in production)");
  return {
    sealPrivateKey: env.CONSENTS_SEAL_PRIVATE_KEY,
    operator: { bin: env.OPERATOR_BIN, name: { KK: env.OPERATOR_NAME_KK, RU: env.OPERATOR_NAME_RU } },
  };
}

/** Tests and `System`: the development operator. */
export const DEVELOPMENT_OPERATOR: Operator = {
  bin: DEVELOPMENT_OPERATOR_BIN,
  name: { KK: consentsEnv.shape.OPERATOR_NAME_KK.parse(undefined), RU: consentsEnv.shape.OPERATOR_NAME_RU.parse(undefined) },
};

export type ConsentsConfig = ServiceConfig<ConsentsExtra>;
export type Deps = ServiceDeps<Database, ConsentsExtra>;
