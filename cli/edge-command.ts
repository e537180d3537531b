/** `platepay edge --config FILE`: runs one gate unit until SIGINT or SIGTERM. */
import { parseCommandArgs, UsageError } from './args.js';
import { loadEdgeConfig } from '../edge/edge-config.js';
import { startGateUnit } from '../edge/gate-unit.js';
import { loggerOptions } from '../cloud/cloud-service.js';

const help = `usage: platepay edge --config FILE

Runs a gate unit: watches its lanes' cameras, reads plates, decides with the
cloud (or by the offline policy), drives the barriers, and keeps every event
in its journal until the cloud has applied it. Local HTTP (config.http):
POST /lanes/:laneId/trigger, POST /lanes/:laneId/gone, GET /lanes,
GET /health, GET /metrics. See README "Gate unit" for the config file.
`;

export const edgeCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, {
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    if (!values.config) throw new UsageError('--config FILE is required\n\n' + help);
    const config = loadEdgeConfig(values.config);
    const unit = await startGateUnit(config, { logger: loggerOptions(process.env.PLATEPAY_LOG_LEVEL ?? 'info') });
    process.stderr.write(`platepay edge ${config.gateId} listening on ${unit.url} (${config.lanes.length} lanes)\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await unit.close();
    return 0;
  },
};
