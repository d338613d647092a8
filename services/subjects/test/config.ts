import { generateSealKeyPair, kazakhstanCalendar } from '@pdp/shared';
import { isolatedServiceConfig } from '@pdp/shared/testing';
import { inject } from 'vitest';
import type { SubjectsConfig } from '../src/config';

/** The subjects service alone, on its own database and stream, opening identities with `sealPrivateKey`. */
export async function subjectsTestConfig(label: string, sealPrivateKey?: string): Promise<SubjectsConfig> {
  return isolatedServiceConfig(inject('serverUrl'), inject('natsUrl'), `${inject('runPrefix')}_${label}`, {
    sealPrivateKey: sealPrivateKey ?? (await generateSealKeyPair()).privateJwk,
    appealsSealKey: (await generateSealKeyPair()).publicJwk,
    consentsSealKey: (await generateSealKeyPair()).publicJwk,
    retentionDays: 365,
    retentionSweepMs: 3_600_000,
    retentionMethod: 'DEPERSONALIZE',
    rightsRequestWorkingDays: 3,
    calendar: kazakhstanCalendar(),
  });
}
