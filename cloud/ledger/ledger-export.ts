/**
 * The ledger as files, for partners to keep and verify offline:
 *
 * - `records`: one canonical record per line, in log order, index 0 first;
 * - `leaves`: the RFC 9162 leaf hash of each record, hex, one per line (lets
 *   `verify` name the exact record that was changed, dropped or moved);
 * - `checkpoints`: the signed checkpoint notes with their cosignatures, in
 *   order, separated by one blank line;
 * - `keys`: `log <vkey>`, `witness <vkey>` lines and `quorum <n>`.
 *
 * An export goes into a new or empty folder, never over another one (a
 * partner's copy kept for `reconcile` would be lost): the files are
 * written into a scratch folder beside it and moved into place whole, so a
 * crash leaves the scratch folder, not half an export.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import type { Ledger } from './ledger.js';
import type { NoteKey } from './signed-note.js';
import { formatVerifierKey, parseVerifierKey } from './signed-note.js';

export interface LedgerKeys {
  log: NoteKey;
  witnesses: NoteKey[];
  quorum: number;
}

/** Refused: the export's folder already holds files. */
export class ExportFolderError extends Error {
  readonly code = 'EXPORT_FOLDER_NOT_EMPTY';
}

export async function exportLedger(
  ledger: Ledger,
  dir: string,
  keys: LedgerKeys,
): Promise<{ records: number; checkpoints: number }> {
  const existing = await entriesOf(dir);
  if (existing && existing.length > 0) {
    const shown = existing.slice(0, 4).join(', ') + (existing.length > 4 ? ', ...' : '');
    throw new ExportFolderError(
      `${dir} already holds files (${shown}): export into a new or empty folder, an export is never written over another`,
    );
  }
  await mkdir(dirname(dir), { recursive: true });
  const scratch = join(dirname(dir), `.${basename(dir)}.partial-${randomBytes(6).toString('hex')}`);
  await mkdir(scratch);
  try {
    const counts = await writeExport(ledger, scratch, keys);
    if (existing) await rmdir(dir); // empty (checked above); rename does not replace a folder everywhere
    await rename(scratch, dir);
    return counts;
  } catch (err) {
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
}

/** The names in `dir`, or null when there is no such folder. */
async function entriesOf(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function writeExport(
  ledger: Ledger,
  dir: string,
  keys: LedgerKeys,
): Promise<{ records: number; checkpoints: number }> {
  const checkpoints = ledger.checkpoints();
  const size = checkpoints.length ? checkpoints[checkpoints.length - 1]!.checkpoint.size : 0;
  const records = createWriteStream(join(dir, 'records'));
  const leaves = createWriteStream(join(dir, 'leaves'));
  const page = 10_000;
  for (let start = 0; start < size; start += page) {
    const end = Math.min(size, start + page);
    const rs = ledger.records(start, end);
    const hs = ledger.leafHashes(start, end);
    if (!records.write(rs.map((r) => r.record + '\n').join(''))) await once(records, 'drain');
    if (!leaves.write(hs.map((h) => Buffer.from(h).toString('hex') + '\n').join(''))) await once(leaves, 'drain');
  }
  records.end();
  leaves.end();
  await Promise.all([once(records, 'close'), once(leaves, 'close')]);
  await writeFile(join(dir, 'checkpoints'), checkpoints.map((c) => c.note).join('\n'));
  await writeFile(join(dir, 'keys'), formatKeys(keys));
  return { records: size, checkpoints: checkpoints.length };
}

export function formatKeys(keys: LedgerKeys): string {
  return [
    `log ${formatVerifierKey(keys.log)}`,
    ...keys.witnesses.map((w) => `witness ${formatVerifierKey(w)}`),
    `quorum ${keys.quorum}`,
  ]
    .map((l) => l + '\n')
    .join('');
}

export function parseKeys(text: string): LedgerKeys {
  let log: NoteKey | null = null;
  const witnesses: NoteKey[] = [];
  let quorum = 0;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const [kind, value, ...rest] = line.split(' ');
    if (!value || rest.length) throw new Error(`keys line ${i + 1}: expected "<log|witness|quorum> <value>"`);
    if (kind === 'log') log = parseVerifierKey(value);
    else if (kind === 'witness') witnesses.push(parseVerifierKey(value));
    else if (kind === 'quorum' && /^\d{1,3}$/.test(value)) quorum = Number(value);
    else throw new Error(`keys line ${i + 1}: unknown entry "${kind}"`);
  });
  if (!log) throw new Error('keys: no "log" key');
  return { log, witnesses, quorum };
}

/** Splits the `checkpoints` file into notes: each is body lines, a blank line, signature lines. */
export function splitCheckpointNotes(text: string): string[] {
  const notes: string[] = [];
  const lines = text.split('\n');
  let current: string[] = [];
  let inSignatures = false;
  for (const line of lines) {
    if (line === '') {
      if (inSignatures) {
        notes.push(current.join('\n') + '\n');
        current = [];
        inSignatures = false;
      } else if (current.length) {
        current.push('');
        inSignatures = true;
      }
      continue;
    }
    current.push(line);
  }
  if (current.length) notes.push(current.join('\n') + '\n');
  return notes;
}

export async function readExportFile(
  dir: string,
  name: 'records' | 'leaves' | 'checkpoints' | 'keys',
): Promise<string> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${join(dir, name)}: ${(err as Error).message}`);
  }
}
