/**
 * A barrier behind a network relay board: each command is one HTTP(S)
 * request, built from the configured URL, method, headers and body, where
 * `{lane}`, `{command}` and `{reason}` are filled in (URL-encoded in the URL;
 * in the body JSON-escaped for a JSON content type, form-encoded for a form
 * content type, raw otherwise).
 *
 * Guarantees: ok:true only when the expected status (`expectStatus`, or any
 * 2xx) arrived before `timeoutMs` (default 1000); otherwise ok:false with a
 * plain error ("relay answered 500 Internal Server Error", "no answer in
 * 1000 ms", "connection refused by 10.0.0.9:80", ...). Never throws, never
 * resolves later than the timeout: the request is aborted then. Every
 * command uses a fresh connection (relay boards keep-alive badly) and the
 * error text never contains the URL's path or credentials. `close()`
 * answers and aborts the requests in flight.
 */
import http from 'node:http';
import https from 'node:https';
import type { BarrierCommand, BarrierContext, BarrierDriver, BarrierResult } from './barrier-driver.js';
import { elapsedMs } from './barrier-driver.js';
import { escapeForContentType, fillTemplate } from './template.js';

export interface HttpRelayBarrierOptions {
  /** http(s) URL, may hold placeholders */
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** request body template; none when null or absent */
  body?: string | null;
  timeoutMs?: number;
  /** the one status that means "done"; any 2xx when null or absent */
  expectStatus?: number | null;
}

function describeError(err: unknown, url: URL): string {
  const code = (err as { code?: unknown }).code;
  const host = url.host;
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${host}`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `connection reset by ${host}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${url.hostname}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${host} is unreachable`;
    case 'ETIMEDOUT':
      return `connection to ${host} timed out`;
    default:
      return `request to ${host} failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export class HttpRelayBarrier implements BarrierDriver {
  readonly kind = 'http-relay';
  readonly timeoutMs: number;
  private readonly url: string;
  private readonly method: string;
  private readonly headers: Record<string, string>;
  private readonly body: string | null;
  private readonly expectStatus: number | null;
  private readonly escapeBody: (v: string) => string;
  private readonly inFlight = new Set<() => void>();
  private closed = false;

  constructor(options: HttpRelayBarrierOptions) {
    this.url = options.url;
    this.method = (options.method ?? 'POST').toUpperCase();
    this.headers = Object.fromEntries(
      Object.entries(options.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'content-length'),
    );
    this.body = options.body ?? null;
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.expectStatus = options.expectStatus ?? null;
    const contentType = Object.entries(this.headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
    this.escapeBody = escapeForContentType(contentType);
  }

  send(command: BarrierCommand, context: BarrierContext): Promise<BarrierResult> {
    const startedAt = performance.now();
    const fail = (error: string): BarrierResult => ({ ok: false, error, afterMs: elapsedMs(startedAt) });
    if (this.closed) return Promise.resolve(fail('http relay driver is closed'));

    let url: URL;
    try {
      url = new URL(fillTemplate(this.url, command, context, encodeURIComponent));
    } catch {
      return Promise.resolve(fail('the relay URL is not valid once its placeholders are filled'));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return Promise.resolve(fail(`the relay URL must be http(s), not ${url.protocol}`));
    }
    const body = this.body === null ? null : Buffer.from(fillTemplate(this.body, command, context, this.escapeBody));

    return new Promise<BarrierResult>((resolve) => {
      const controller = new AbortController();
      let settled = false;
      const finish = (r: BarrierResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(abortByClose);
        resolve(r);
      };
      const abortByClose = (): void => {
        finish(fail('http relay driver closed'));
        controller.abort();
      };
      const timer = setTimeout(() => {
        finish(fail(`no answer in ${this.timeoutMs} ms`));
        controller.abort();
      }, this.timeoutMs);
      this.inFlight.add(abortByClose);

      const headers: Record<string, string | number> = { ...this.headers };
      if (body !== null) headers['content-length'] = body.length;
      let req: http.ClientRequest;
      try {
        req = (url.protocol === 'https:' ? https : http).request(
          url,
          { method: this.method, headers, agent: false, signal: controller.signal },
          (res) => {
            const status = res.statusCode ?? 0;
            res.on('error', () => {});
            res.resume();
            // a relay that keeps streaming after its status does not keep the socket for ever
            const reaper = setTimeout(() => req.destroy(), this.timeoutMs);
            reaper.unref();
            res.on('close', () => clearTimeout(reaper));
            const expected = this.expectStatus === null ? status >= 200 && status < 300 : status === this.expectStatus;
            if (expected) finish({ ok: true, ackMs: elapsedMs(startedAt) });
            else finish(fail(`relay answered ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`));
          },
        );
      } catch (err) {
        finish(fail(describeError(err, url)));
        return;
      }
      req.on('error', (err) => finish(fail(describeError(err, url))));
      req.end(body ?? undefined);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const abort of [...this.inFlight]) abort();
  }
}
