/** `platepay cloud [--config FILE]`: runs the cloud service until SIGINT or SIGTERM. */
import { parseCommandArgs, positiveInteger } from './args.js';
import { loadCloudConfig } from '../cloud/cloud-config.js';
import { startCloud } from '../cloud/cloud-service.js';

const help = `usage: platepay cloud [--config FILE] [--port N] [--db FILE|URL]

Runs the cloud service: the driver and operator HTTP API, with its OpenAPI
document at /docs/json (and a docs UI at /docs), /health and /metrics
(with an operator API key; without one on its own listener when the config
sets "metricsPort").

  --config FILE  JSON settings (see README, "Cloud service", "Configuration")
  --port N       listen port (overrides the config; 0 picks a free port)
  --db DB        SQLite database file, or postgres://user:password@host:port/db (overrides the config)

Secrets from the environment: PLATEPAY_ADMIN_KEY (an admin API key,
"ppkey_..."), PLATEPAY_PLATE_KEY (64 hex characters keying plate hashes),
PLATEPAY_LEDGER_KEY (the ledger's signing key), and for the Stripe provider
PLATEPAY_STRIPE_API_KEY and PLATEPAY_STRIPE_WEBHOOK_SECRET.
`;

export const cloudCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, {
      config: { type: 'string' },
      port: { type: 'string' },
      db: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    const overrides: Record<string, unknown> = {};
    if (values.port !== undefined) overrides.port = values.port === '0' ? 0 : positiveInteger(values.port, '--port');
    if (values.db !== undefined) overrides.database = values.db;
    const config = loadCloudConfig(values.config ?? null, overrides);
    const cloud = await startCloud(config);
    // listen for the signals before saying so: a SIGTERM sent on reading the line must stop it cleanly
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    process.stderr.write(
      `platepay cloud listening on ${cloud.url} (database ${config.database.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')})\n`,
    );
    if (cloud.metricsUrl) process.stderr.write(`metrics without a key on ${cloud.metricsUrl}/metrics\n`);
    await stopped;
    await cloud.close();
    return 0;
  },
};
