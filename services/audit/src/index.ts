import { runMain, serviceConfigFromEnv } from '@pdp/shared';
import { auditEnv, auditExtraFromEnv } from './config';
import { startAudit } from './service';

/** main(): env → db → migrate → nats → server → health → shutdown (see startService). */
await runMain(async () => {
  const config = serviceConfigFromEnv(4004, auditEnv);
  return startAudit({ ...config, extra: auditExtraFromEnv(config.extra) });
});
