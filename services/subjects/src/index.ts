import { runMain, serviceConfigFromEnv } from '@pdp/shared';
import { subjectsEnv, subjectsExtra } from './config';
import { startSubjects } from './service';

/** main(): env → db → migrate → nats → server → health → shutdown (see startService). */
await runMain(async () => {
  const config = serviceConfigFromEnv(4001, subjectsEnv);
  return startSubjects({ ...config, extra: subjectsExtra(config.extra) });
});
