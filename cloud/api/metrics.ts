/**
 * Prometheus metrics (prom-client), one registry per service instance:
 * request latency by route, decisions by action and reason, settlements and
 * settled amounts by currency, the review queue depth, the store's
 * transactions, commits, failures and retries, and the ledger's size and
 * whether this instance sequences it.
 *
 * They tell business figures (settlements, amounts, the review queue): on
 * the API port `GET /metrics` needs an operator API key (any role; a
 * Prometheus sends it as a bearer credential); metrics-listener.ts serves
 * them without one on a listener of their own when configured.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision, SettlementObserver } from '../settlement/settler.js';
import type { StoreStats } from '../storage/open-store.js';
import type { Settlement } from '../storage/repositories.js';

export class CloudMetrics implements SettlementObserver {
  readonly registry = new Registry();
  private readonly requestSeconds = new Histogram({
    name: 'platepay_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly decisions = new Counter({
    name: 'platepay_decisions_total',
    help: 'Lane decisions by action and reason',
    labelNames: ['action', 'reason'],
    registers: [this.registry],
  });
  private readonly settlements = new Counter({
    name: 'platepay_settlements_total',
    help: 'Settlements by method and currency',
    labelNames: ['method', 'currency'],
    registers: [this.registry],
  });
  private readonly settledAmount = new Counter({
    name: 'platepay_settled_amount_minor_total',
    help: 'Settled amounts in minor units, by currency',
    labelNames: ['currency'],
    registers: [this.registry],
  });

  private readonly gateRefusals = new Counter({
    name: 'platepay_gate_refusals_total',
    help: 'Gate messages refused, by code (bad signature, replay, unknown or revoked gate, ...)',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly gates = new Gauge({
    name: 'platepay_gates_connected',
    help: 'Gate units connected and authenticated',
    registers: [this.registry],
  });

  constructor(
    reviewQueueDepth: () => Promise<number>,
    storage?: { stats: () => StoreStats; isSequencer: () => boolean; ledgerSize: () => number },
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'platepay_' });
    if (storage) this.storageMetrics(storage);
    new Gauge({
      name: 'platepay_review_queue_depth',
      help: 'Exits waiting for an operator',
      registers: [this.registry],
      async collect() {
        this.set(await reviewQueueDepth());
      },
    });
  }

  /** The store's counters and the ledger's state, read when /metrics is scraped. */
  private storageMetrics(storage: { stats: () => StoreStats; isSequencer: () => boolean; ledgerSize: () => number }) {
    const counter = (name: string, help: string, value: (s: StoreStats) => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(value(storage.stats()));
        },
      });
    counter('platepay_store_transactions_total', 'Store transactions committed', (s) => s.transactions);
    counter('platepay_store_failed_total', 'Store transactions that failed', (s) => s.failed);
    counter('platepay_store_commits_total', 'Database COMMITs (SQLite: one per group-commit batch)', (s) => s.commits);
    counter(
      'platepay_store_retries_total',
      'Transaction attempts the database aborted and the store ran again (PostgreSQL serialization failures)',
      (s) => s.retries,
    );
    new Gauge({
      name: 'platepay_ledger_sequencer',
      help: '1 while this instance sequences the ledger (SQLite: always; PostgreSQL: while it holds the lock)',
      registers: [this.registry],
      collect() {
        this.set(storage.isSequencer() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'platepay_ledger_records',
      help: "Records in this instance's copy of the ledger",
      registers: [this.registry],
      collect() {
        this.set(storage.ledgerSize());
      },
    });
  }

  gateRefused(code: string): void {
    this.gateRefusals.inc({ code });
  }

  gatesConnected(n: number): void {
    this.gates.set(n);
  }

  decided(d: Decision): void {
    this.decisions.inc({ action: d.action, reason: d.reason });
  }

  settled(s: Settlement): void {
    this.settlements.inc({ method: s.method, currency: s.currency });
    if (s.amount > 0) this.settledAmount.inc({ currency: s.currency }, s.amount);
  }

  /** Times every request, and serves `GET /metrics` to callers `guard` lets through. */
  install(app: FastifyInstance, guard: preHandlerAsyncHookHandler): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unknown';
      this.requestSeconds.observe(
        { method: request.method, route, status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
    app.get(
      '/metrics',
      { schema: { tags: ['service'], summary: 'Prometheus metrics (an operator API key)' }, preHandler: guard },
      async (_request, reply) => reply.type(this.registry.contentType).send(await this.registry.metrics()),
    );
  }
}
