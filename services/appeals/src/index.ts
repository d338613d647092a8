import { runMain, serviceConfigFromEnv } from '@pdp/shared';
import { appealsEnv, appealsExtra } from './config';
import { startAppeals } from './service';

/** main(): env → db → migrate → nats → server → health → shutdown (see startService). */
await runMain(async () => {
  const config = serviceConfigFromEnv(4002, appealsEnv);
  return startAppeals({ ...config, extra: appealsExtra(config.extra) });
});
