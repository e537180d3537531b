/**
 * Prometheus metrics (prom-client), one registry per service instance:
 * request latency by route, decisions by action and reason, settlements and
 * settled amounts by currency, and the review queue depth.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision, SettlementObserver } from '../settlement/settler.js';
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

  constructor(reviewQueueDepth: () => Promise<number>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'platepay_' });
    new Gauge({
      name: 'platepay_review_queue_depth',
      help: 'Exits waiting for an operator',
      registers: [this.registry],
      async collect() {
        this.set(await reviewQueueDepth());
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

  install(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unknown';
      this.requestSeconds.observe(
        { method: request.method, route, status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
    app.get('/metrics', { schema: { tags: ['service'], summary: 'Prometheus metrics' } }, async (_request, reply) =>
      reply.type(this.registry.contentType).send(await this.registry.metrics()),
    );
  }
}
