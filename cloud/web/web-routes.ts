/**
 * The web pages, served by the cloud itself: `/driver` (sign up or in,
 * plates, wallet, the current stay with its running fee, receipts checked
 * in the browser) and `/operator` (lots and lanes live, the review queue,
 * today's settlements, the latest checkpoint). Plain ES modules from
 * `cloud/web/static/`, plus @noble/curves and @noble/hashes served from
 * node_modules for the in-browser receipt check and uPlot for the operator
 * console's charts (/web/vendor/uplot.js, uplot.css); nothing from elsewhere.
 *
 * The pages call the ordinary API with the caller's bearer token or API
 * key, and these few routes of their own:
 * - `GET /web/api/ledger-keys` (anyone): the log's and witnesses' verifier
 *   keys, the origin and the quorum a receipt is checked against;
 * - `GET /web/api/me/parking` (driver): my unclosed stays with the fee so far
 *   (null, with a `note`, for a stay whose entry time cannot be right);
 * - `GET /web/api/operator/dashboard` (operator roles): everything the
 *   dashboard shows; `GET /web/api/operator/stream`: server-sent events, one
 *   `change` whenever that changes (the key is checked again before each
 *   event and heartbeat: a revoked key's stream gets `revoked` and ends); `GET /web/api/operator/reads/:eventId/crop`:
 *   the plate crop of a lane event (JPEG).
 *
 * What the dashboard keeps besides the business data (lane reads with their
 * crops, gate state) is opened here for the service's backend
 * (dashboard-stores.ts); on PostgreSQL every instance shows every gate.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DriverService } from '../accounts/driver-service.js';
import { requireDriver, requireRole } from '../api/auth.js';
import type { Clock } from '../../time/clock.js';
import type { CloudConfig } from '../cloud-config.js';
import { notFound } from '../errors.js';
import { gateActivity } from '../gates/gate-activity.js';
import type { Ledger } from '../ledger/ledger.js';
import { formatVerifierKey } from '../ledger/signed-note.js';
import type { OperatorKeys } from '../operators/operator-keys.js';
import type { Store } from '../storage/repositories.js';
import { feeFor, isPriceableStay } from '../tariffs/tariff.js';
import { openDashboardStores } from './dashboard-stores.js';
import { LiveStatus } from './live-status.js';

export interface WebDeps {
  config: CloudConfig;
  clock: Clock;
  store: Store;
  drivers: DriverService;
  keys: OperatorKeys;
  ledger: Ledger;
}

const STATIC_DIR = fileURLToPath(new URL('../../../cloud/web/static/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The page assets, read once at start. */
function loadStatic(): Map<string, { type: string; body: Buffer }> {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(STATIC_DIR)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { type, body: readFileSync(join(STATIC_DIR, name)) });
  }
  return files;
}

/** uPlot (charts on the operator console, MIT), served as /web/vendor/uplot.js and /web/vendor/uplot.css */
function loadUplot(): Map<string, { type: string; body: Buffer }> {
  const dist = dirname(fileURLToPath(import.meta.resolve('uplot')));
  return new Map([
    ['uplot.js', { type: TYPES['.js']!, body: readFileSync(join(dist, 'uPlot.esm.js')) }],
    ['uplot.css', { type: TYPES['.css']!, body: readFileSync(join(dist, 'uPlot.min.css')) }],
  ]);
}

/** @noble's ES modules, with their bare imports of each other turned into paths under /web/vendor/. */
function nobleModule(pkg: 'curves' | 'hashes', file: string): Buffer | null {
  if (!/^(?:[a-z0-9_-]+\/)?[a-z0-9_-]+\.js$/.test(file)) return null;
  const root = dirname(fileURLToPath(import.meta.resolve(`@noble/${pkg}/utils.js`)));
  const path = resolve(root, file);
  if (!path.startsWith(root + sep)) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  return Buffer.from(text.replace(/(from\s*|import\s*)(['"])@noble\/(curves|hashes)\//g, '$1$2/web/vendor/noble-$3/'));
}

const secure = (reply: FastifyReply, type: string) =>
  reply
    .type(type)
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache');

export function webRoutes(d: WebDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    const files = loadStatic();
    const vendor = new Map<string, Buffer>();
    const activity = gateActivity(d.store);
    const dashboard = openDashboardStores(d.config.database, activity, app.log.child({ component: 'dashboard' }));
    const live = new LiveStatus({
      store: d.store,
      ledger: d.ledger,
      activity,
      reads: dashboard.reads,
      gates: dashboard.gates,
      clock: d.clock,
      logKey: d.config.ledgerKey,
      witnesses: d.config.witnesses.map((w) => w.key),
      quorum: d.config.witnessQuorum,
    });
    const streams = new Set<() => void>();
    app.addHook('preClose', async () => {
      for (const end of [...streams]) end();
    });
    app.addHook('onClose', async () => {
      live.close();
      await dashboard.close();
    });
    const driver = requireDriver(d.drivers);
    const operator = requireRole(d.keys, 'admin', 'operator', 'auditor');
    const page = { tags: ['web'], hide: true };

    const servePage = (name: string) => async (_request: unknown, reply: FastifyReply) => {
      const f = files.get(name)!;
      return secure(reply, f.type).send(f.body);
    };
    app.get('/', { schema: page }, async (_request, reply) => reply.redirect('/driver'));
    app.get('/driver', { schema: page }, servePage('driver.html'));
    app.get('/operator', { schema: page }, servePage('operator.html'));

    app.get<{ Params: { file: string } }>('/web/static/:file', { schema: page }, async (request, reply) => {
      const f = files.get(request.params.file);
      if (!f) throw notFound('file', request.params.file);
      return secure(reply, f.type).send(f.body);
    });

    const uplot = loadUplot();
    app.get<{ Params: { file: string } }>('/web/vendor/:file', { schema: page }, async (request, reply) => {
      const f = uplot.get(request.params.file);
      if (!f) throw notFound('file', request.params.file);
      return secure(reply, f.type).header('cache-control', 'max-age=3600').send(f.body);
    });

    app.get<{ Params: { pkg: string; '*': string } }>(
      '/web/vendor/noble-:pkg/*',
      { schema: page },
      async (request, reply) => {
        const { pkg } = request.params;
        const file = request.params['*'];
        if (pkg !== 'curves' && pkg !== 'hashes') throw notFound('module', file);
        const key = `${pkg}/${file}`;
        let body = vendor.get(key) ?? null;
        if (!body) {
          body = nobleModule(pkg, file);
          if (!body) throw notFound('module', file);
          vendor.set(key, body);
        }
        return secure(reply, TYPES['.js']!).header('cache-control', 'max-age=3600').send(body);
      },
    );

    app.get(
      '/web/api/ledger-keys',
      { schema: { tags: ['web'], summary: 'Keys a receipt is checked against' } },
      () => ({
        origin: d.config.ledgerOrigin,
        logKey: formatVerifierKey(d.config.ledgerKey),
        witnesses: d.config.witnesses.map((w) => formatVerifierKey(w.key)),
        quorum: d.config.witnessQuorum,
      }),
    );

    app.get(
      '/web/api/me/parking',
      {
        schema: {
          tags: ['web'],
          summary:
            "My unclosed stays with the fee so far, and the car parks of all my stays (their currency and UTC offset, for the page's times)",
        },
        preHandler: driver,
      },
      async (request) => {
        const now = d.clock.now();
        const all = await d.drivers.sessions(request.driver!);
        const sessions = all.filter((s) => s.status !== 'closed');
        const lots = await d.store.transaction(async (repos) => {
          const out = new Map<string, Awaited<ReturnType<typeof repos.lots.lotById>>>();
          for (const id of new Set(all.map((s) => s.lotId))) out.set(id, await repos.lots.lotById(id));
          return out;
        });
        return {
          now,
          lots: [...lots.values()].flatMap((lot) =>
            lot
              ? [
                  {
                    id: lot.id,
                    name: lot.name,
                    currency: lot.tariff.currency,
                    utcOffsetMinutes: lot.tariff.utcOffsetMinutes,
                  },
                ]
              : [],
          ),
          sessions: sessions.map((s) => {
            const lot = lots.get(s.lotId) ?? null;
            const priceable = isPriceableStay(s.entryAt, now);
            return {
              id: s.id,
              plate: s.plate,
              lot: lot?.name ?? null,
              entryAt: s.entryAt,
              status: s.status,
              fee: s.fee ?? (lot && priceable ? feeFor(lot.tariff, s.entryAt, Math.max(now, s.entryAt)) : null),
              currency: lot?.tariff.currency ?? null,
              /** the lot's local time is UTC + this; null when the lot is gone */
              utcOffsetMinutes: lot?.tariff.utcOffsetMinutes ?? null,
              note:
                s.fee === null && !priceable
                  ? 'the entry time of this stay cannot be right; the car park will settle it with you'
                  : null,
            };
          }),
        };
      },
    );

    app.get(
      '/web/api/operator/dashboard',
      { schema: { tags: ['web'], summary: 'Everything the operator dashboard shows' }, preHandler: operator },
      async () => live.snapshot(),
    );

    app.get<{ Params: { eventId: string } }>(
      '/web/api/operator/reads/:eventId/crop',
      {
        schema: {
          tags: ['web'],
          summary: "A lane event's plate crop (JPEG)",
          params: {
            type: 'object',
            properties: { eventId: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' } },
            required: ['eventId'],
            additionalProperties: false,
          },
        },
        preHandler: operator,
      },
      async (request, reply) => {
        const crop = await dashboard.reads.crop(request.params.eventId);
        if (!crop) throw notFound('crop of lane event', request.params.eventId);
        return reply
          .type('image/jpeg')
          .header('x-content-type-options', 'nosniff')
          .header('cache-control', 'private, max-age=86400')
          .send(crop);
      },
    );

    app.get(
      '/web/api/operator/stream',
      {
        schema: { tags: ['web'], summary: 'Server-sent events: `change` when the dashboard data changed' },
        preHandler: operator,
      },
      async (request, reply) => {
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          'x-accel-buffering': 'no',
          connection: 'keep-alive',
        });
        res.write('retry: 2000\n\n');
        const key = request.operatorKey!;
        // what waits to be sent; it goes out only after the key is found still valid (one check per burst)
        let waiting = '';
        let checking = false;
        const send = (text: string) => {
          waiting += text;
          if (checking) return;
          checking = true;
          void (async () => {
            try {
              while (waiting && !res.writableEnded) {
                const batch = waiting;
                waiting = '';
                if (!(await d.keys.stillValid(key))) {
                  res.write('event: revoked\ndata: {}\n\n');
                  return end();
                }
                if (!res.writableEnded) res.write(batch);
              }
            } catch (err) {
              request.log.warn({ err }, 'operator stream: the key could not be checked; stream ended');
              end();
            } finally {
              checking = false;
            }
          })();
        };
        const stop = live.watch((change) => send(`event: change\ndata: ${JSON.stringify({ change })}\n\n`));
        const heartbeat = setInterval(() => send(': keep-alive\n\n'), 15_000);
        heartbeat.unref();
        const end = () => {
          clearInterval(heartbeat);
          stop();
          streams.delete(end);
          if (!res.writableEnded) res.end();
        };
        streams.add(end);
        request.raw.on('close', end);
        res.on('error', end);
      },
    );
  };
}
