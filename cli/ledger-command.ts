/**
 * `platepay ledger <export|verify|witness|reconcile|keygen>`: the signed
 * settlement ledger from the command line, for operators and partners.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { parseCommandArgs, positiveInteger, UsageError } from './args.js';
import type { LedgerReadConfig } from '../cloud/cloud-config.js';
import { loadLedgerReadConfig } from '../cloud/cloud-config.js';
import { NoLedgerError, openLedgerDatabaseToRead, readOnlyLedger } from '../cloud/ledger/ledger-database.js';
import type { LedgerKeys } from '../cloud/ledger/ledger-export.js';
import { checkLedgerSigner } from '../cloud/ledger/ledger-signer.js';
import type { LedgerStore } from '../cloud/ledger/ledger-store.js';
import { exportLedger, parseKeys, readExportFile } from '../cloud/ledger/ledger-export.js';
import { directorySource, httpSource, verifyLedger } from '../cloud/ledger/ledger-verifier.js';
import { MemorySubtrees, leafHash } from '../cloud/ledger/merkle.js';
import { reconcile } from '../cloud/ledger/reconcile.js';
import type { NoteKey } from '../cloud/ledger/signed-note.js';
import {
  formatSigningKey,
  formatVerifierKey,
  generateSigningKey,
  parseSigningKey,
  parseVerifierKey,
} from '../cloud/ledger/signed-note.js';
import { Witness } from '../cloud/ledger/witness.js';
import { buildWitnessServer } from '../cloud/ledger/witness-server.js';
import { systemClock } from '../time/clock.js';
import { loggerOptions } from '../cloud/cloud-service.js';
import { databaseLabel } from '../cloud/storage/open-store.js';
import { isPostgresUrl } from '../cloud/storage/postgres/pg-connection.js';
import { readPgLedger } from '../cloud/storage/postgres/pg-ledger-store.js';

const help = `usage: platepay ledger <command> [options]

  export --out DIR [--db FILE|URL] [--config FILE]
      write the ledger to files: records, leaves, checkpoints, keys
      (the database: a SQLite file or a postgres:// URL, read only; nothing
      is written beside it; the log key as the cloud takes it, which must be
      the key that signed the checkpoints)
  verify (--dir DIR | --url URL [--api-key KEY]) [--log-key VKEY] [--witness-key VKEY]... [--quorum N] [--json]
      re-derive every leaf and root, check every checkpoint signature,
      cosignature quorum and consistency; exits 1 naming the first bad
      record or checkpoint. Keys not given come from DIR/keys.
  witness --key FILE --log-key VKEY --origin ORIGIN --state FILE [--host H] [--port N]
      run a partner's cosigner (HTTP: POST /cosign, GET /state)
  reconcile [--db FILE|URL] [--config FILE] (--dir DIR | --url URL [--api-key KEY]) [--json]
      compare our copy with a partner's by Merkle roots, top-down
  keygen --name NAME --out FILE [--witness]
      a new Ed25519 note key (PRIVATE+KEY+... in FILE, mode 0600); prints its vkey
`;

export const ledgerCommand = {
  async run(argv: string[]): Promise<number> {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'export':
        return exportCommand(rest);
      case 'verify':
        return verifyCommand(rest);
      case 'witness':
        return witnessCommand(rest);
      case 'reconcile':
        return reconcileCommand(rest);
      case 'keygen':
        return keygenCommand(rest);
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(help);
        return sub ? 0 : 2;
      default:
        throw new UsageError(`unknown ledger command "${sub}"\n\n${help}`);
    }
  },
};

/**
 * The cloud's ledger as configured (database, key, witnesses), to read only:
 * the SQLite file opened read-only, or one snapshot of the PostgreSQL log
 * (no sequencer lock taken, nothing written). No key file is created beside
 * the database. A database that holds no ledger is a usage error.
 */
async function openCloudLedger(values: { db?: string; config?: string }) {
  const overrides: Record<string, unknown> = {};
  if (values.db) overrides.database = values.db;
  const config = loadLedgerReadConfig(values.config ?? null, overrides);
  try {
    if (isPostgresUrl(config.database)) {
      const store = await readPgLedger(config.database);
      return { ledger: readOnlyLedger(store), store, config, close: async () => {} };
    }
    return { ...openLedgerDatabaseToRead(config.database), config };
  } catch (err) {
    if (err instanceof NoLedgerError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * The keys an export names: the log's (it must be the one that signed the checkpoints: it is read,
 * never generated) and the configured witnesses and quorum.
 */
function exportKeys(config: LedgerReadConfig, store: LedgerStore): LedgerKeys {
  const where = databaseLabel(config.database);
  if (!config.ledgerKey) {
    const file = isPostgresUrl(config.database) ? '' : `, or keep it in ${config.database}.ledgerkey`;
    throw new UsageError(`no ledger key for ${where}: give it (config.ledgerKey or env PLATEPAY_LEDGER_KEY)${file}`);
  }
  checkLedgerSigner(store.latestCheckpoint()?.note ?? null, config.ledgerKey, null, where);
  return { log: config.ledgerKey, witnesses: config.witnesses.map((w) => w.key), quorum: config.witnessQuorum };
}

async function exportCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    out: { type: 'string' },
    db: { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return printHelp();
  if (!values.out) throw new UsageError('--out DIR is required');
  const { ledger, store, config, close } = await openCloudLedger(values);
  try {
    const r = await exportLedger(ledger, values.out, exportKeys(config, store));
    process.stderr.write(`wrote ${r.records} records and ${r.checkpoints} checkpoints to ${values.out}\n`);
  } finally {
    await close();
  }
  return 0;
}

async function verifyCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    dir: { type: 'string' },
    url: { type: 'string' },
    'api-key': { type: 'string' },
    'log-key': { type: 'string' },
    'witness-key': { type: 'string', multiple: true },
    quorum: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return printHelp();
  if (Boolean(values.dir) === Boolean(values.url)) throw new UsageError('give exactly one of --dir DIR or --url URL');
  if (values.dir && !existsSync(`${values.dir}/records`)) {
    throw new UsageError(
      existsSync(values.dir)
        ? `${values.dir} holds no ledger export (no records file): give the folder \`platepay ledger export\` wrote`
        : `${values.dir}: no such folder`,
    );
  }
  let fileKeys: LedgerKeys | null = null;
  if (values.dir && existsSync(`${values.dir}/keys`)) fileKeys = parseKeys(await readExportFile(values.dir, 'keys'));
  const logKey: NoteKey | undefined = values['log-key'] ? parseVerifierKey(values['log-key']) : fileKeys?.log;
  if (!logKey) throw new UsageError('--log-key VKEY is required (no keys file to take it from)');
  const witnesses = values['witness-key']?.length
    ? values['witness-key'].map((k) => parseVerifierKey(k))
    : (fileKeys?.witnesses ?? []);
  const quorum =
    values.quorum !== undefined
      ? values.quorum === '0'
        ? 0
        : positiveInteger(values.quorum, '--quorum')!
      : (fileKeys?.quorum ?? witnesses.length);
  if (!values['log-key'] && !values.json) {
    process.stderr.write(
      'note: the log key comes from the export itself; pass --log-key to trust only your own copy of it\n',
    );
  }
  const source = values.dir ? directorySource(values.dir) : httpSource(values.url!, values['api-key'] ?? null);
  const progress = process.stderr.isTTY && !values.json;
  const result = await verifyLedger(source, { log: logKey, witnesses, quorum }, (n) => {
    if (progress) process.stderr.write(`\rverified ${n} records`);
  });
  if (progress) process.stderr.write('\n');
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else if (result.ok) {
    process.stdout.write(
      `ok: ${result.records} records, ${result.checkpoints} checkpoints, tree size ${result.size}` +
        (result.cosignedBy.length ? `, last checkpoint cosigned by ${result.cosignedBy.join(', ')}` : '') +
        '\n',
    );
  } else process.stdout.write(`FAILED: ${result.problem}\n`);
  return result.ok ? 0 : 1;
}

async function witnessCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    key: { type: 'string' },
    'log-key': { type: 'string' },
    origin: { type: 'string' },
    state: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return printHelp();
  for (const k of ['key', 'log-key', 'origin', 'state'] as const) {
    if (!values[k]) throw new UsageError(`--${k} is required`);
  }
  const key = parseSigningKey((await readFile(values.key!, 'utf8')).trim());
  if (key.type !== 'cosignature')
    throw new UsageError(`${values.key} is not a witness key (make one with keygen --witness)`);
  const witness = new Witness(key, parseVerifierKey(values['log-key']!), values.origin!, values.state!, systemClock);
  const app = await buildWitnessServer(witness, loggerOptions('info'));
  const port = values.port === undefined ? 8090 : values.port === '0' ? 0 : positiveInteger(values.port, '--port')!;
  await app.listen({ host: values.host ?? '127.0.0.1', port });
  const address = app.server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  process.stderr.write(
    `platepay witness ${key.name} listening on http://${values.host ?? '127.0.0.1'}:${actual} (vkey ${formatVerifierKey(key)})\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.close();
  return 0;
}

async function reconcileCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    db: { type: 'string' },
    config: { type: 'string' },
    dir: { type: 'string' },
    url: { type: 'string' },
    'api-key': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return printHelp();
  if (Boolean(values.dir) === Boolean(values.url)) throw new UsageError('give exactly one of --dir DIR or --url URL');
  const ours = await openCloudLedger(values);
  try {
    const source = values.dir ? directorySource(values.dir) : httpSource(values.url!, values['api-key'] ?? null);
    await source.checkpoints(); // the URL source learns the size to read from them
    const theirs = new MemorySubtrees();
    for await (const chunk of source.records())
      for (const line of chunk) theirs.append(leafHash(Buffer.from(line, 'utf8')));
    const report = reconcile(ours.store, ours.ledger.size, theirs, theirs.size);
    if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
    else {
      const list = (xs: number[]) =>
        xs.length > 20 ? `${xs.slice(0, 20).join(', ')}, ... (${xs.length})` : xs.join(', ') || 'none';
      process.stdout.write(
        `matched: ${report.matched}\nours only: ${list(report.oursOnly)}\ntheirs only: ${list(report.theirsOnly)}\n`,
      );
    }
    return report.oursOnly.length || report.theirsOnly.length ? 1 : 0;
  } finally {
    await ours.close();
  }
}

async function keygenCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    name: { type: 'string' },
    out: { type: 'string' },
    witness: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return printHelp();
  if (!values.name || !values.out) throw new UsageError('--name NAME and --out FILE are required');
  const key = generateSigningKey(values.name, values.witness ? 'cosignature' : 'ed25519');
  await writeFile(values.out, formatSigningKey(key) + '\n', { mode: 0o600, flag: 'wx' });
  process.stdout.write(formatVerifierKey(key) + '\n');
  return 0;
}

function printHelp(): number {
  process.stdout.write(help);
  return 0;
}
