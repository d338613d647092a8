import { runMain, serviceConfigFromEnv } from '@pdp/shared';
import { auditEnv } from './config';
import { startAudit } from './service';

/** main(): env → db → migrate → nats → server → health → shutdown (see startService). */
await runMain(async () => startAudit({ ...serviceConfigFromEnv(4004, auditEnv), extra: {} }));
