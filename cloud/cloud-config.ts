/**
 * Configuration of `platepay cloud`: a JSON file (all keys optional) plus
 * two secrets that may come from the environment instead of the file:
 * PLATEPAY_ADMIN_KEY and PLATEPAY_PLATE_KEY. Every value is checked and a
 * bad one is named.
 *
 * The plate key (32 bytes, hex) keys the plate hashes in the ledger; when it
 * is not given, one is generated and kept in `<database>.platekey` (mode
 * 0600) so that hashes stay stable across restarts; the ledger's signing key
 * likewise in `<database>.ledgerkey`. Reading a ledger (`loadLedgerReadConfig`)
 * never generates a key.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { NoteSigningKey } from './ledger/signed-note.js';
import { formatSigningKey, generateSigningKey, parseSigningKey, parseVerifierKey } from './ledger/signed-note.js';
import type { WitnessEndpoint } from './ledger/witness-client.js';
import { CURRENCY_EXPECTED, isCurrencyCode } from './currencies.js';

export interface CloudConfig {
  host: string;
  port: number;
  /** SQLite file (":memory:" for a throwaway database), or a PostgreSQL URL (postgres://...) */
  database: string;
  /** an admin API key installed at start (must start with "ppkey_"), or null */
  adminKey: string | null;
  plateKey: Buffer;
  tokenTtlMinutes: number;
  defaultCurrency: string;
  /** the largest credit a driver in the best standing gets (minor units of the default currency; README "Money") */
  defaultCreditLimit: number;
  /** the payment provider money enters through (README "Money") */
  payments: PaymentsConfig;
  /** how long a gate waits at an exit for the provider to answer a card charge, ms */
  exitChargeBudgetMs: number;
  /** past that budget: hold the car, or let it out when the driver's credit standing covers the fee */
  whenProviderSlow: 'hold' | 'credit';
  /** reads below this confidence never match an exit by tolerance (look-alikes, one character missing or extra) */
  matchMinConfidence: number;
  /** reads below this confidence never match an exit even when they equal the one plate that fits */
  matchMinExactConfidence: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  bodyLimitBytes: number;
  /** a connection that has not sent a request's headers within this long is closed (408), ms */
  headersTimeoutMs: number;
  /** a connection that has not sent a whole request (headers and body) within this long is closed (408), ms */
  requestTimeoutMs: number;
  /** an idle kept-alive connection is closed after this long, ms */
  keepAliveTimeoutMs: number;
  /**
   * /metrics on the API port needs an operator API key; with a port here the same figures are also
   * served without a key on a listener of their own (host `metricsHost`), e.g. for a private network
   */
  metricsPort: number | null;
  metricsHost: string;
  /** the ledger: its origin line, its signing key, and how often checkpoints are issued */
  ledgerOrigin: string;
  ledgerKey: NoteSigningKey;
  ledgerBatchMs: number;
  /** partners' witnesses: where they listen and their cosignature keys (vkey) */
  witnesses: WitnessEndpoint[];
  /** cosignatures a checkpoint needs to be final */
  witnessQuorum: number;
  /** commit the transactions queued at the same moment together (one fsync for all); false: one fsync each */
  groupCommit: boolean;
}

export type PaymentsConfig =
  | { provider: 'test'; webhookSecret: string | null }
  | { provider: 'stripe'; apiKey: string; webhookSecrets: string[]; baseUrl: string; timeoutMs: number };

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
}

/** the ledger's name in its checkpoints when `ledgerOrigin` is not set */
export const DEFAULT_LEDGER_ORIGIN = 'platepay.local/ledger';

const defaults = {
  host: '127.0.0.1',
  port: 8080,
  database: 'platepay.db',
  tokenTtlMinutes: 24 * 60,
  defaultCurrency: 'CNY',
  defaultCreditLimit: 5000,
  matchMinConfidence: 0.9,
  matchMinExactConfidence: 0.7,
  logLevel: 'info' as CloudConfig['logLevel'],
  bodyLimitBytes: 64 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // longer than the 60 s idle timeout of common load balancers, so that the balancer closes first
  keepAliveTimeoutMs: 72_000,
  ledgerOrigin: DEFAULT_LEDGER_ORIGIN,
  ledgerBatchMs: 200,
  witnessQuorum: 0,
  exitChargeBudgetMs: 800,
  whenProviderSlow: 'hold',
  metricsHost: '127.0.0.1',
};

const keys = [
  ...Object.keys(defaults),
  'adminKey',
  'plateKey',
  'ledgerKey',
  'witnesses',
  'groupCommit',
  'payments',
  'metricsPort',
];

/**
 * Where the keys come from when the config does not give them: `create` (the cloud) reads them
 * from the files beside a SQLite database, generating and keeping them there on the first start;
 * `read` (the ledger CLI, which writes nothing) only reads those files, and a key found nowhere
 * is null.
 */
type KeyFiles = 'create' | 'read';

type Settings = Omit<CloudConfig, 'ledgerKey' | 'plateKey'> & {
  ledgerKey: NoteSigningKey | null;
  plateKey: Buffer | null;
};

export function parseCloudConfig(raw: unknown, env: Record<string, string | undefined> = process.env): CloudConfig {
  const settings = parseSettings(raw, env, 'create');
  return { ...settings, ledgerKey: settings.ledgerKey!, plateKey: settings.plateKey! };
}

/** What `platepay ledger export` and `reconcile` take from a cloud's configuration. */
export interface LedgerReadConfig {
  database: string;
  ledgerOrigin: string;
  /** the log's key: given, or kept beside the SQLite database; null when found nowhere (never generated) */
  ledgerKey: NoteSigningKey | null;
  witnesses: WitnessEndpoint[];
  witnessQuorum: number;
}

/** The cloud's configuration as `loadCloudConfig` reads it, for reading its ledger: no key file is ever created. */
export function loadLedgerReadConfig(
  path: string | null,
  overrides: Record<string, unknown> = {},
  env: Record<string, string | undefined> = process.env,
): LedgerReadConfig {
  const settings = parseSettings(readConfigFile(path, overrides), env, 'read');
  return {
    database: settings.database,
    ledgerOrigin: settings.ledgerOrigin,
    ledgerKey: settings.ledgerKey,
    witnesses: settings.witnesses,
    witnessQuorum: settings.witnessQuorum,
  };
}

function parseSettings(raw: unknown, env: Record<string, string | undefined>, keyFiles: KeyFiles): Settings {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError('config: expected a JSON object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new ConfigError(`config.${k}: unknown setting`);
  const str = (
    k: keyof typeof defaults | 'adminKey' | 'plateKey' | 'ledgerKey',
    fallback: string | null,
  ): string | null => {
    const v = o[k];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v.length === 0 || v.length > 4096)
      throw new ConfigError(`config.${k}: expected a non-empty string`);
    return v;
  };
  const int = (k: keyof typeof defaults, fallback: number, min: number, max: number): number => {
    // null is no integer: only a missing setting takes the default
    const v = o[k] === undefined ? fallback : o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new ConfigError(`config.${k}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const database = str('database', defaults.database)!;
  const postgres = /^postgres(ql)?:\/\//i.test(database);
  if (postgres && keyFiles === 'create') {
    // several instances share the database: they must share the keys too, so none may be generated here
    if ((str('plateKey', null) ?? env.PLATEPAY_PLATE_KEY ?? null) === null) {
      throw new ConfigError('config.plateKey: required with a PostgreSQL database (or env PLATEPAY_PLATE_KEY)');
    }
    if ((str('ledgerKey', null) ?? env.PLATEPAY_LEDGER_KEY ?? null) === null) {
      throw new ConfigError('config.ledgerKey: required with a PostgreSQL database (or env PLATEPAY_LEDGER_KEY)');
    }
  }
  const adminKey = str('adminKey', null) ?? env.PLATEPAY_ADMIN_KEY ?? null;
  if (adminKey !== null && !/^ppkey_[A-Za-z0-9_-]{20,200}$/.test(adminKey)) {
    throw new ConfigError('config.adminKey: expected "ppkey_" followed by at least 20 base64url characters');
  }
  const currency = str('defaultCurrency', defaults.defaultCurrency)!;
  if (!isCurrencyCode(currency))
    throw new ConfigError(`config.defaultCurrency: expected ${CURRENCY_EXPECTED}, got ${JSON.stringify(currency)}`);
  const logLevel = str('logLevel', defaults.logLevel)!;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'silent'].includes(logLevel)) {
    throw new ConfigError('config.logLevel: expected fatal, error, warn, info, debug or silent');
  }
  const confidence = o.matchMinConfidence === undefined ? defaults.matchMinConfidence : o.matchMinConfidence;
  if (typeof confidence !== 'number' || !(confidence >= 0 && confidence <= 1)) {
    throw new ConfigError('config.matchMinConfidence: expected a number from 0 to 1');
  }
  const exactConfidence =
    o.matchMinExactConfidence === undefined ? defaults.matchMinExactConfidence : o.matchMinExactConfidence;
  if (typeof exactConfidence !== 'number' || !(exactConfidence >= 0 && exactConfidence <= 1)) {
    throw new ConfigError('config.matchMinExactConfidence: expected a number from 0 to 1');
  }
  // a read matched by tolerance (a look-alike or a character off) must be at least as sure as an exact one
  if (confidence < exactConfidence) {
    throw new ConfigError(
      `config.matchMinConfidence: ${confidence} is below config.matchMinExactConfidence (${exactConfidence}); a tolerant match needs at least the confidence of an exact one`,
    );
  }
  const origin = str('ledgerOrigin', defaults.ledgerOrigin)!;
  if (!/^[\x21-\x7e]{1,200}$/.test(origin))
    throw new ConfigError('config.ledgerOrigin: expected printable ASCII without spaces');
  const groupCommit = o.groupCommit === undefined ? true : o.groupCommit;
  if (typeof groupCommit !== 'boolean') throw new ConfigError('config.groupCommit: expected true or false');
  const witnesses = parseWitnesses(o.witnesses);
  const whenProviderSlow = str('whenProviderSlow', defaults.whenProviderSlow)!;
  if (whenProviderSlow !== 'hold' && whenProviderSlow !== 'credit') {
    throw new ConfigError('config.whenProviderSlow: expected "hold" or "credit"');
  }
  const metricsPort = o.metricsPort ?? null;
  if (
    metricsPort !== null &&
    (typeof metricsPort !== 'number' || !Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)
  ) {
    throw new ConfigError(
      `config.metricsPort: expected an integer from 0 to 65535, or null, got ${JSON.stringify(metricsPort)}`,
    );
  }
  const headersTimeoutMs = int('headersTimeoutMs', defaults.headersTimeoutMs, 1000, 120_000);
  const requestTimeoutMs = int('requestTimeoutMs', defaults.requestTimeoutMs, 1000, 600_000);
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new ConfigError(
      `config.requestTimeoutMs: ${requestTimeoutMs} is less than headersTimeoutMs (${headersTimeoutMs}); a request's headers come first`,
    );
  }
  const quorum = int('witnessQuorum', defaults.witnessQuorum, 0, 100);
  if (quorum > witnesses.length) {
    throw new ConfigError(`config.witnessQuorum: ${quorum} is more than the ${witnesses.length} configured witnesses`);
  }
  const settings: Omit<Settings, 'ledgerKey' | 'plateKey'> = {
    ledgerOrigin: origin,
    ledgerBatchMs: int('ledgerBatchMs', defaults.ledgerBatchMs, 10, 60_000),
    witnesses,
    witnessQuorum: quorum,
    groupCommit,
    host: str('host', defaults.host)!,
    port: int('port', defaults.port, 0, 65535),
    database,
    adminKey,
    tokenTtlMinutes: int('tokenTtlMinutes', defaults.tokenTtlMinutes, 1, 60 * 24 * 90),
    defaultCurrency: currency,
    defaultCreditLimit: int('defaultCreditLimit', defaults.defaultCreditLimit, 0, 100_000_000),
    payments: parsePayments(o.payments, env),
    exitChargeBudgetMs: int('exitChargeBudgetMs', defaults.exitChargeBudgetMs, 50, 10_000),
    whenProviderSlow,
    matchMinConfidence: confidence,
    matchMinExactConfidence: exactConfidence,
    logLevel: logLevel as CloudConfig['logLevel'],
    bodyLimitBytes: int('bodyLimitBytes', defaults.bodyLimitBytes, 1024, 10 * 1024 * 1024),
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: int('keepAliveTimeoutMs', defaults.keepAliveTimeoutMs, 1000, 600_000),
    metricsPort,
    metricsHost: str('metricsHost', defaults.metricsHost)!,
  };
  // the keys last: a key file may be created beside the database, which only a valid config may do
  return {
    ...settings,
    ledgerKey: ledgerKeyFor(str('ledgerKey', null) ?? env.PLATEPAY_LEDGER_KEY ?? null, database, origin, keyFiles),
    plateKey: plateKeyFor(str('plateKey', null) ?? env.PLATEPAY_PLATE_KEY ?? null, database, keyFiles),
  };
}

/** Reads the config file (none: all defaults), applies command-line overrides, and checks it all. */
export function loadCloudConfig(
  path: string | null,
  overrides: Record<string, unknown> = {},
  env: Record<string, string | undefined> = process.env,
): CloudConfig {
  return parseCloudConfig(readConfigFile(path, overrides), env);
}

/** The config file's settings (none: {}) with the command-line overrides applied, not yet checked. */
function readConfigFile(path: string | null, overrides: Record<string, unknown>): unknown {
  if (path === null) return overrides;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`config file ${path}: expected a JSON object`);
  return { ...raw, ...overrides };
}

/**
 * `payments`: `{"provider": "test"}` (the default: the built-in test
 * provider) or `{"provider": "stripe", "apiKey": "sk_...", "webhookSecrets":
 * ["whsec_..."], "baseUrl"?, "timeoutMs"?}`; the Stripe secrets may come from
 * env PLATEPAY_STRIPE_API_KEY and PLATEPAY_STRIPE_WEBHOOK_SECRET instead.
 */
function parsePayments(v: unknown, env: Record<string, string | undefined>): PaymentsConfig {
  if (v === undefined) return { provider: 'test', webhookSecret: null };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ConfigError('config.payments: expected an object such as {"provider": "test"}');
  }
  const o = v as Record<string, unknown>;
  const allowed =
    o.provider === 'stripe'
      ? ['provider', 'apiKey', 'webhookSecrets', 'baseUrl', 'timeoutMs']
      : ['provider', 'webhookSecret'];
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw new ConfigError(`config.payments.${k}: unknown setting`);
  const secret = (x: unknown, where: string): string => {
    if (typeof x !== 'string' || !/^whsec_[A-Za-z0-9_-]{8,200}$/.test(x)) {
      throw new ConfigError(`${where}: expected a webhook signing secret "whsec_..."`);
    }
    return x;
  };
  if (o.provider === 'test') {
    return {
      provider: 'test',
      webhookSecret: o.webhookSecret === undefined ? null : secret(o.webhookSecret, 'config.payments.webhookSecret'),
    };
  }
  if (o.provider !== 'stripe') throw new ConfigError('config.payments.provider: expected "test" or "stripe"');
  const apiKey = o.apiKey === undefined ? env.PLATEPAY_STRIPE_API_KEY : o.apiKey;
  if (typeof apiKey !== 'string' || !/^(sk|rk)_[A-Za-z0-9_]{8,250}$/.test(apiKey)) {
    throw new ConfigError(
      'config.payments.apiKey: expected a Stripe secret key "sk_..." (or env PLATEPAY_STRIPE_API_KEY)',
    );
  }
  const rawSecrets =
    o.webhookSecrets !== undefined
      ? o.webhookSecrets
      : env.PLATEPAY_STRIPE_WEBHOOK_SECRET
        ? [env.PLATEPAY_STRIPE_WEBHOOK_SECRET]
        : undefined;
  if (!Array.isArray(rawSecrets) || rawSecrets.length === 0 || rawSecrets.length > 5) {
    throw new ConfigError(
      'config.payments.webhookSecrets: expected 1 to 5 secrets "whsec_..." (or env PLATEPAY_STRIPE_WEBHOOK_SECRET)',
    );
  }
  const webhookSecrets = rawSecrets.map((x, i) => secret(x, `config.payments.webhookSecrets[${i}]`));
  const baseUrl = o.baseUrl === undefined ? 'https://api.stripe.com' : o.baseUrl;
  if (typeof baseUrl !== 'string' || !/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(baseUrl)) {
    throw new ConfigError('config.payments.baseUrl: expected an http(s) URL such as https://api.stripe.com');
  }
  const timeoutMs = o.timeoutMs === undefined ? 10_000 : o.timeoutMs;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000) {
    throw new ConfigError('config.payments.timeoutMs: expected an integer from 100 to 120000');
  }
  return { provider: 'stripe', apiKey, webhookSecrets, baseUrl: baseUrl.replace(/\/$/, ''), timeoutMs };
}

function parseWitnesses(v: unknown): WitnessEndpoint[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 100) throw new ConfigError('config.witnesses: expected an array of {url, vkey}');
  return v.map((w, i) => {
    const o = w as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || typeof o.url !== 'string' || typeof o.vkey !== 'string') {
      throw new ConfigError(`config.witnesses[${i}]: expected {"url": "http://...", "vkey": "..."}`);
    }
    if (!/^https?:\/\/\S+$/.test(o.url)) throw new ConfigError(`config.witnesses[${i}].url: expected an http(s) URL`);
    try {
      return { url: o.url, key: parseVerifierKey(o.vkey) };
    } catch (err) {
      throw new ConfigError(`config.witnesses[${i}].vkey: ${(err as Error).message}`);
    }
  });
}

/**
 * A key is generated only with a new database: a database that exists was made with a key, and
 * one made up now would sign (or hash plates) unlike the records already there.
 */
function refuseNewKeyForOldDatabase(database: string, keyFile: string, setting: string): void {
  if (!existsSync(database)) return;
  throw new ConfigError(
    `${keyFile} is missing, and a key is made only for a new database: ${database} exists, so give the key ` +
      `it was made with, in ${setting} or in that file`,
  );
}

/**
 * The ledger's signing key: given (PRIVATE+KEY+...), or kept in `<database>.ledgerkey` (generated
 * on the cloud's first start, when the database is new; with `keyFiles` 'read', null instead).
 */
function ledgerKeyFor(
  text: string | null,
  database: string,
  origin: string,
  keyFiles: KeyFiles,
): NoteSigningKey | null {
  const parse = (t: string, where: string) => {
    try {
      return parseSigningKey(t.trim());
    } catch (err) {
      throw new ConfigError(`${where}: ${(err as Error).message}`);
    }
  };
  if (text !== null) return parse(text, 'config.ledgerKey');
  if (database === ':memory:') return keyFiles === 'create' ? generateSigningKey(origin) : null;
  const file = `${database}.ledgerkey`;
  if (existsSync(file)) return parse(readFileSync(file, 'utf8'), file);
  if (keyFiles === 'read') return null;
  refuseNewKeyForOldDatabase(database, file, 'config.ledgerKey (or env PLATEPAY_LEDGER_KEY)');
  const key = generateSigningKey(origin);
  writeFileSync(file, formatSigningKey(key) + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}

/** The plate key: given (64 hex), or kept in `<database>.platekey` (as the ledger key). */
function plateKeyFor(hex: string | null, database: string, keyFiles: KeyFiles): Buffer | null {
  if (hex !== null) {
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new ConfigError('config.plateKey: expected 64 hex characters (32 bytes)');
    return Buffer.from(hex, 'hex');
  }
  if (database === ':memory:') return keyFiles === 'create' ? randomBytes(32) : null;
  const file = `${database}.platekey`;
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/i.test(stored)) throw new ConfigError(`${file}: expected 64 hex characters`);
    return Buffer.from(stored, 'hex');
  }
  if (keyFiles === 'read') return null;
  refuseNewKeyForOldDatabase(database, file, 'config.plateKey (or env PLATEPAY_PLATE_KEY)');
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}
