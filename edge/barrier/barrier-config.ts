/**
 * A lane's `barrier` setting: checked in full from untrusted JSON, then
 * turned into a driver.
 *
 *   { "type": "simulated", "ackDelayMs"?: 5, "timeoutMs"?: 1000 }
 *   { "type": "http-relay", "url": "http://10.0.0.9/relay/{lane}/{command}", "method"?: "POST",
 *     "headers"?: {...}, "body"?: "...", "timeoutMs"?: 1000, "expectStatus"?: 200 }
 *   { "type": "command", "program": "/usr/bin/gpioset", "args"?: ["gpiochip0", "17=1"], "timeoutMs"?: 1000 }
 *
 * Guarantees: `parseBarrierConfig` returns a complete config (defaults
 * filled in) or throws a BarrierConfigError (code 'INVALID_CONFIG') whose
 * message starts with the path of the offending field, e.g.
 * `lanes[0].barrier.url: expected an http(s) URL`. Unknown keys, timeouts
 * that are not integers from 1 to 60000, non-http(s) URLs, header values
 * with line breaks and a body on a GET are rejected.
 */
import type { BarrierDriver } from './barrier-driver.js';
import { CommandBarrier } from './command-barrier.js';
import { HttpRelayBarrier } from './http-relay-barrier.js';
import { SimulatedBarrier } from './simulated-barrier.js';
import { PLACEHOLDERS } from './template.js';

export interface SimulatedBarrierConfig {
  type: 'simulated';
  ackDelayMs: number;
  timeoutMs: number;
}

export type HttpRelayMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRelayBarrierConfig {
  type: 'http-relay';
  url: string;
  method: HttpRelayMethod;
  headers: Record<string, string>;
  body: string | null;
  timeoutMs: number;
  expectStatus: number | null;
}

export interface CommandBarrierConfig {
  type: 'command';
  program: string;
  args: string[];
  timeoutMs: number;
}

export type BarrierConfig = SimulatedBarrierConfig | HttpRelayBarrierConfig | CommandBarrierConfig;

export class BarrierConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  override name = 'BarrierConfigError';
}

type Obj = Record<string, unknown>;

const TYPES = ['simulated', 'http-relay', 'command'] as const;
const METHODS: readonly HttpRelayMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_STRING = 4096;
const MAX_BODY = 16 * 1024;
const MAX_HEADERS = 32;
const MAX_ARGS = 64;

function bad(path: string, message: string): never {
  throw new BarrierConfigError(`${path}: ${message}`);
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) bad(`${path}.${k}`, 'unknown setting');
  }
}

function integer(o: Obj, key: string, path: string, min: number, max: number, fallback: number): number {
  const v = o[key] === undefined ? fallback : o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(`${path}.${key}`, `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** a string without control characters that could end a line or a C string */
function text(v: unknown, path: string, max: number, allowEmpty = false): string {
  if (typeof v !== 'string' || (!allowEmpty && v.length === 0) || v.length > max) {
    bad(path, `expected ${allowEmpty ? 'a string' : 'a non-empty string'} of at most ${max} characters`);
  }
  if (v.includes('\0')) bad(path, 'must not contain a NUL character');
  return v;
}

function relayUrl(v: unknown, path: string): string {
  const url = text(v, path, MAX_STRING);
  // placeholders are filled per command; check the URL with sample values in them
  const sample = PLACEHOLDERS.reduce((s, name) => s.split(`{${name}}`).join('x'), url);
  let parsed: URL;
  try {
    parsed = new URL(sample);
  } catch {
    bad(path, 'expected an http(s) URL');
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
    bad(path, 'expected an http(s) URL');
  }
  return url;
}

function headers(v: unknown, path: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) bad(path, 'expected an object of header names to strings');
  const entries = Object.entries(v);
  if (entries.length > MAX_HEADERS) bad(path, `expected at most ${MAX_HEADERS} headers`);
  return Object.fromEntries(
    entries.map(([name, value]): [string, string] => {
      const at = HEADER_NAME.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`;
      if (!HEADER_NAME.test(name)) bad(at, 'not a valid header name');
      if (name.toLowerCase() === 'content-length') bad(at, 'is set from the body; leave it out');
      const s = text(value, at, MAX_STRING, true);
      if (/[\r\n]/.test(s)) bad(at, 'must not contain line breaks');
      return [name, s];
    }),
  );
}

function parseSimulated(o: Obj, path: string): SimulatedBarrierConfig {
  onlyKeys(o, path, ['type', 'ackDelayMs', 'timeoutMs']);
  return {
    type: 'simulated',
    ackDelayMs: integer(o, 'ackDelayMs', path, 0, 60_000, 5),
    timeoutMs: integer(o, 'timeoutMs', path, 1, 60_000, 1000),
  };
}

function parseHttpRelay(o: Obj, path: string): HttpRelayBarrierConfig {
  onlyKeys(o, path, ['type', 'url', 'method', 'headers', 'body', 'timeoutMs', 'expectStatus']);
  const url = relayUrl(o.url, `${path}.url`);
  const rawMethod = o.method ?? 'POST';
  const method = (typeof rawMethod === 'string' ? rawMethod.toUpperCase() : '') as HttpRelayMethod;
  if (!METHODS.includes(method)) bad(`${path}.method`, `expected one of ${METHODS.join(', ')}`);
  const body = o.body === undefined || o.body === null ? null : text(o.body, `${path}.body`, MAX_BODY, true);
  if (body !== null && method === 'GET') bad(`${path}.body`, 'a GET request cannot have a body');
  return {
    type: 'http-relay',
    url,
    method,
    headers: headers(o.headers, `${path}.headers`),
    body,
    timeoutMs: integer(o, 'timeoutMs', path, 1, 60_000, 1000),
    expectStatus: o.expectStatus === undefined ? null : integer(o, 'expectStatus', path, 100, 599, 200),
  };
}

function parseCommand(o: Obj, path: string): CommandBarrierConfig {
  onlyKeys(o, path, ['type', 'program', 'args', 'timeoutMs']);
  const program = text(o.program, `${path}.program`, MAX_STRING);
  let args: string[] = [];
  if (o.args !== undefined) {
    if (!Array.isArray(o.args) || o.args.length > MAX_ARGS) {
      bad(`${path}.args`, `expected an array of at most ${MAX_ARGS} strings`);
    }
    args = o.args.map((a: unknown, i) => text(a, `${path}.args[${i}]`, MAX_STRING, true));
  }
  return { type: 'command', program, args, timeoutMs: integer(o, 'timeoutMs', path, 1, 60_000, 1000) };
}

/** validates a lane's barrier setting from untrusted JSON; throws BarrierConfigError naming the field */
export function parseBarrierConfig(input: unknown, path = 'barrier'): BarrierConfig {
  if (!isObject(input)) bad(path, 'expected an object with a "type"');
  switch (input.type) {
    case 'simulated':
      return parseSimulated(input, path);
    case 'http-relay':
      return parseHttpRelay(input, path);
    case 'command':
      return parseCommand(input, path);
    default:
      return bad(`${path}.type`, `expected one of ${TYPES.join(', ')}`);
  }
}

export function createBarrierDriver(config: BarrierConfig): BarrierDriver {
  switch (config.type) {
    case 'simulated':
      return new SimulatedBarrier({ ackDelayMs: config.ackDelayMs, timeoutMs: config.timeoutMs });
    case 'http-relay':
      return new HttpRelayBarrier(config);
    case 'command':
      return new CommandBarrier(config);
    default: {
      const unknownType: never = config;
      throw new BarrierConfigError(`barrier.type: unknown type ${JSON.stringify((unknownType as Obj).type)}`);
    }
  }
}
