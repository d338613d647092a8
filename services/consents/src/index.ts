import { runMain, serviceConfigFromEnv } from '@pdp/shared';
import { consentsEnv, consentsExtra } from './config';
import { startConsents } from './service';

/** main(): env → db → migrate → nats → server → health → shutdown (see startService). */
await runMain(async () => {
  const config = serviceConfigFromEnv(4003, consentsEnv);
  return startConsents({ ...config, extra: consentsExtra(config.extra, config.production) });
});
