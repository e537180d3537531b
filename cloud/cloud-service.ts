/**
 * The cloud service put together: storage, the services, and the fastify
 * app with its plugins (driver routes, operator routes, docs, health,
 * metrics). `startCloud` listens; `buildCloud` only builds (for tests that
 * want an app without a port).
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { DriverService } from './accounts/driver-service.js';
import { driverRoutes } from './api/driver-routes.js';
import { installErrorHandling } from './api/http-errors.js';
import { CloudMetrics } from './api/metrics.js';
import { MetricsListener } from './api/metrics-listener.js';
import { requireRole } from './api/auth.js';
import { operatorRoutes } from './api/operator-routes.js';
import { operatorMoneyRoutes } from './api/operator-money-routes.js';
import { Refunds } from './settlement/refunds.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/clock.js';
import type { CloudConfig } from './cloud-config.js';
import { RecordTableLedger } from './ledger/settlement-ledger.js';
import { Ledger } from './ledger/ledger.js';
import { checkLedgerSigner } from './ledger/ledger-signer.js';
import { WitnessClient } from './ledger/witness-client.js';
import { ledgerRoutes } from './api/ledger-routes.js';
import { statsRoutes } from './stats/stats-routes.js';
import { webRoutes } from './web/web-routes.js';
import { exportRoutes } from './exports/export-routes.js';
import { searchRoutes } from './search/search-routes.js';
import { GateHub } from './gates/gate-hub.js';
import { LotService } from './lots/lot-service.js';
import { OperatorKeys } from './operators/operator-keys.js';
import { Wallet } from './payments/wallet.js';
import { DriverCredit } from './payments/driver-credit.js';
import type { PaymentGateway } from './payments/payment-gateway.js';
import { PaymentMethods } from './payments/payment-methods.js';
import { ProviderWebhooks } from './payments/provider-webhooks.js';
import { StripeGateway } from './payments/stripe/stripe-gateway.js';
import { TestGateway } from './payments/test-gateway.js';
import { TopUps } from './payments/top-ups.js';
import { paymentRoutes } from './api/payment-routes.js';
import { CardCharges } from './settlement/card-charges.js';
import { ParkingService } from './sessions/parking-service.js';
import { Settler } from './settlement/settler.js';
import { databaseLabel, openStore } from './storage/open-store.js';
import type { Store } from './storage/repositories.js';

export interface Cloud {
  app: FastifyInstance;
  store: Store;
  parking: ParkingService;
  drivers: DriverService;
  lots: LotService;
  keys: OperatorKeys;
  ledger: Ledger;
  gates: GateHub;
  /** the payment provider money enters through (the built-in test provider unless configured) */
  gateway: PaymentGateway;
  /** exits charged on saved payment methods */
  cardCharges: CardCharges;
  /** issues a checkpoint for settlements recorded so far and asks the witnesses to cosign it */
  checkpointNow(): Promise<void>;
  /** base URL once listening, e.g. http://127.0.0.1:8080 */
  url: string | null;
  /** the metrics' own listener (config `metricsPort`), or null */
  metricsListener: MetricsListener | null;
  /** its base URL once listening, e.g. http://127.0.0.1:9464 */
  metricsUrl: string | null;
  close(): Promise<void>;
}

export interface CloudDeps {
  clock?: Clock;
  /** pino logger options, or false for none */
  logger?: boolean | Record<string, unknown>;
}

/** Never log secrets or plates: auth headers are redacted and query strings (plates) are dropped. */
export const loggerOptions = (level: string) => ({
  level,
  redact: ['req.headers.authorization', 'req.headers.cookie'],
  serializers: {
    req(req: { method: string; url: string; id: string }) {
      return { id: req.id, method: req.method, url: req.url.split('?')[0] };
    },
  },
});

export async function buildCloud(config: CloudConfig, deps: CloudDeps = {}): Promise<Cloud> {
  const clock = deps.clock ?? systemClock;
  const backend = await openStore({ database: config.database, groupCommit: config.groupCommit });
  const store = backend.store;
  try {
    // never sign on after checkpoints of another key or origin: the log would fail verification from there on
    const latest = backend.ledgerStore.latestCheckpoint()?.note ?? null;
    checkLedgerSigner(latest, config.ledgerKey, config.ledgerOrigin, databaseLabel(config.database));
  } catch (err) {
    await store.close();
    throw err;
  }
  const keys = new OperatorKeys(store, clock);
  if (config.adminKey) await keys.ensureAdmin(config.adminKey);
  const parkingRef: { parking?: ParkingService } = {};
  const ledger = new Ledger(backend.ledgerStore, config.ledgerKey, backend.ledgerWrite, clock, {
    origin: config.ledgerOrigin,
    batchSize: 1024,
    batchMs: config.ledgerBatchMs,
  });
  const metrics = new CloudMetrics(() => parkingRef.parking!.openReviewCount(), {
    stats: backend.stats,
    isSequencer: backend.isSequencer,
    ledgerSize: () => ledger.size,
  });
  const app = Fastify({
    logger: deps.logger === undefined ? loggerOptions(config.logLevel) : deps.logger,
    bodyLimit: config.bodyLimitBytes,
    // a client that sends its request slowly (slowloris) is closed with 408 once these pass; the
    // timeouts are checked every second. They end nothing once a request is in: not a long answer,
    // a server-sent event stream, nor a gate's WebSocket
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: { headersTimeout: config.headersTimeoutMs, connectionsCheckingInterval: 1000 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const wallet = new Wallet(clock);
  const credit = new DriverCredit(clock, config.defaultCurrency, { maxCredit: config.defaultCreditLimit, unit: 1000 });
  const settler = new Settler(clock, wallet, credit, new RecordTableLedger(config.plateKey), metrics);
  const gateway: PaymentGateway =
    config.payments.provider === 'stripe'
      ? new StripeGateway({
          apiKey: config.payments.apiKey,
          webhookSecrets: config.payments.webhookSecrets,
          baseUrl: config.payments.baseUrl,
          timeoutMs: config.payments.timeoutMs,
        })
      : new TestGateway({
          clock,
          log: app.log.child({ component: 'test-provider' }),
          ...(config.payments.webhookSecret ? { webhookSecret: config.payments.webhookSecret } : {}),
        });
  const topUps = new TopUps(store, clock, gateway, wallet);
  const drivers = new DriverService(store, clock, settler, credit, topUps, {
    tokenTtlMs: config.tokenTtlMinutes * 60_000,
    defaultCurrency: config.defaultCurrency,
  });
  const cardCharges = new CardCharges(
    store,
    new Map([[gateway.name, gateway]]),
    settler,
    {
      budgetMs: config.exitChargeBudgetMs,
      whenSlow: config.whenProviderSlow,
      retryMs: 5_000,
      providerTimeoutMs: config.payments.provider === 'stripe' ? config.payments.timeoutMs : 10_000,
    },
    app.log.child({ component: 'card-charges' }),
  );
  const parking = new ParkingService(store, clock, settler, cardCharges, {
    minConfidence: config.matchMinConfidence,
    minExactConfidence: config.matchMinExactConfidence,
  });
  parkingRef.parking = parking;
  const paymentMethods = new PaymentMethods(store, clock, gateway);
  const webhooks = new ProviderWebhooks(store, clock, gateway, topUps, settler);
  const lots = new LotService(store, clock);
  const witnesses = new WitnessClient(ledger, config.witnesses);
  // one checkpoint at a time; one that failed (a full disk, a lost connection) does not stop the next
  let checkpointing: Promise<void> = Promise.resolve();
  const checkpointNow = (): Promise<void> => {
    const tick = async () => {
      // on PostgreSQL only the sequencer instance checkpoints; the others refresh their copy of the log
      if (!(await backend.ledgerTurn())) return;
      const fresh = await ledger.checkpoint();
      const latest = fresh ?? ledger.latest();
      if (latest && config.witnesses.length) await witnesses.collect(latest);
    };
    const run = checkpointing.then(tick, tick);
    checkpointing = run.catch(() => undefined);
    return run;
  };

  app.decorateRequest('driver', null);
  app.decorateRequest('operatorKey', null);
  installErrorHandling(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'platepay cloud', version: '1' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  metrics.install(app, requireRole(keys, 'admin', 'operator', 'auditor'));
  const metricsListener =
    config.metricsPort === null
      ? null
      : new MetricsListener(metrics.registry, {
          headersTimeout: config.headersTimeoutMs,
          requestTimeout: config.requestTimeoutMs,
        });
  app.get('/health', { schema: { tags: ['service'], summary: 'Liveness and storage check' } }, async () => {
    await parking.openReviewCount();
    return { status: 'ok' };
  });
  await app.register(driverRoutes(drivers, ledger));
  await app.register(paymentRoutes({ drivers, paymentMethods, webhooks }));
  await app.register(operatorRoutes({ keys, lots, parking, drivers, metrics }));
  await app.register(operatorMoneyRoutes({ keys, parking, refunds: new Refunds(store, clock, wallet) }));
  await app.register(ledgerRoutes(ledger, keys, config.witnessQuorum));
  await app.register(webRoutes({ config, clock, store, drivers, keys, ledger }));
  await app.register(searchRoutes({ database: config.database, keys }));
  await app.register(exportRoutes({ database: config.database, keys }));
  await app.register(statsRoutes({ store, keys }));
  await app.ready();
  const gates = new GateHub(store, parking, cardCharges, clock, app.log.child({ component: 'gate-hub' }), {
    gateRefused: (code) => metrics.gateRefused(code),
    gatesConnected: (n) => metrics.gatesConnected(n),
  });
  // a revoked gate is cut off at once (a gate revoked on another instance: at the hub's next refresh)
  lots.onGateRevoked((gateId) => gates.disconnectGate(gateId, 'the gate has been revoked'));
  app.server.on('upgrade', (request, socket, head) => {
    if (!gates.handleUpgrade(request, socket, head)) socket.destroy();
  });
  const ticker = setInterval(() => {
    checkpointNow().catch((err: unknown) => app.log.error({ err }, 'ledger checkpoint failed'));
  }, config.ledgerBatchMs);
  ticker.unref();
  // card charges left started by a crash are asked again now, then on a timer
  cardCharges.start();
  // the first checkpoint (on a new ledger: of the empty tree) now rather than one tick later
  checkpointNow().catch((err: unknown) => app.log.error({ err }, 'ledger checkpoint failed'));

  const cloud: Cloud = {
    app,
    store,
    parking,
    drivers,
    lots,
    keys,
    ledger,
    gates,
    gateway,
    cardCharges,
    checkpointNow,
    url: null,
    metricsListener,
    metricsUrl: null,
    async close() {
      clearInterval(ticker);
      await metricsListener?.close();
      await gates.close();
      await cardCharges.stop();
      if (gateway instanceof TestGateway) await gateway.close();
      await app.close();
      await checkpointNow().catch(() => undefined);
      await store.close();
    },
  };
  return cloud;
}

export async function startCloud(config: CloudConfig, deps: CloudDeps = {}): Promise<Cloud> {
  const cloud = await buildCloud(config, deps);
  try {
    await cloud.app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await cloud.close();
    throw err;
  }
  const address = cloud.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  cloud.url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  if (cloud.metricsListener) {
    try {
      cloud.metricsUrl = await cloud.metricsListener.listen(config.metricsHost, config.metricsPort!);
    } catch (err) {
      await cloud.close();
      throw err;
    }
  }
  if (cloud.gateway instanceof TestGateway) cloud.gateway.deliverWebhooksTo(`${cloud.url}/v1/payments/webhooks/test`);
  return cloud;
}
