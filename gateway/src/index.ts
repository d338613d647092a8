import { runMain } from '@pdp/shared';
import { gatewayConfigFromEnv } from './config';
import { startGateway } from './gateway';

await runMain(async () => startGateway(gatewayConfigFromEnv()));
