import { inject } from 'vitest';

/** What the global setup provides to every test file: the servers and a prefix unique to this run. */
export function testEnv() {
  return {
    serverUrl: inject('serverUrl'),
    natsUrl: inject('natsUrl'),
    runPrefix: inject('runPrefix'),
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
    natsUrl: string;
    runPrefix: string;
  }
}
