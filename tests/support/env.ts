import { inject } from 'vitest';
import type { ProviderInfo } from './identity';

/** What the global setup provides to every test file: the servers, the OpenID provider and a prefix unique to this run. */
export function testEnv() {
  return {
    serverUrl: inject('serverUrl'),
    natsUrl: inject('natsUrl'),
    runPrefix: inject('runPrefix'),
    provider: inject('provider'),
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
    natsUrl: string;
    runPrefix: string;
    provider: ProviderInfo;
  }
}
