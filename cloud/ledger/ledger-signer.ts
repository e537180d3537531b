/**
 * Whose ledger is this? A log is one key and one origin for its whole life:
 * a checkpoint signed by another key, or naming another origin, makes the
 * log fail verification from there on. So a cloud must not start signing a
 * ledger that another key signed (a lost `<database>.ledgerkey` replaced by
 * a new one, another instance's key), and an export must not name a key
 * that did not sign the checkpoints it holds. Both look at the latest
 * checkpoint, which every earlier one agrees with.
 */
import type { NoteKey } from './signed-note.js';
import { parseCheckpoint, parseNote, verifyNoteSignature } from './signed-note.js';

/** The ledger's checkpoints were signed by another key, or name another origin, than the one given. */
export class LedgerKeyMismatchError extends Error {
  readonly code = 'LEDGER_KEY_MISMATCH';
}

const keyName = (name: string, keyId: Uint8Array): string => `${name}+${Buffer.from(keyId).toString('hex')}`;

/**
 * Throws LedgerKeyMismatchError, naming both keys (or both origins), unless `latestNote` (the
 * latest checkpoint's signed note; null for a ledger without one) was signed by `key` for
 * `origin` (null: any origin). `where` names the ledger (its database) in the message.
 */
export function checkLedgerSigner(latestNote: string | null, key: NoteKey, origin: string | null, where: string): void {
  if (latestNote === null) return;
  const { body, signatures } = parseNote(latestNote);
  if (!signatures.some((s) => verifyNoteSignature(body, s, key))) {
    const signers = signatures.map((s) => keyName(s.name, s.keyId)).join(', ') || 'no key';
    throw new LedgerKeyMismatchError(
      `the ledger in ${where} was signed by key ${signers}, but the key given is ${keyName(key.name, key.keyId)}: ` +
        'give the key that signed it (config.ledgerKey, env PLATEPAY_LEDGER_KEY, or the <database>.ledgerkey file ' +
        'beside a SQLite database)',
    );
  }
  const { origin: signedOrigin } = parseCheckpoint(body);
  if (origin !== null && signedOrigin !== origin) {
    throw new LedgerKeyMismatchError(
      `the ledger in ${where} is named "${signedOrigin}" in its checkpoints, but config.ledgerOrigin is "${origin}"`,
    );
  }
}
