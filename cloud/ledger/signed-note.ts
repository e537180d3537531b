/**
 * Signed notes, checkpoints and witness cosignatures in the C2SP formats:
 *
 * - https://c2sp.org/signed-note — a UTF-8 text ending in "\n", a blank line,
 *   then one or more lines `— <key name> <base64(4-byte key ID || signature)>\n`.
 *   Ed25519 signatures (type 0x01) cover the text bytes exactly.
 * - https://c2sp.org/tlog-checkpoint — the text is `<origin>\n<size>\n<base64 root>\n`
 *   plus optional non-empty extension lines.
 * - https://c2sp.org/tlog-cosignature — cosignature/v1 (type 0x04): a witness
 *   signs `cosignature/v1\ntime <T>\n` + the checkpoint text, and the line's
 *   value is base64(key ID || u64 big-endian T || 64-byte Ed25519 signature).
 *
 * Key ID = SHA-256(key name || 0x0A || type byte || 32-byte public key)[:4].
 *
 * Text formats for keys:
 * - verifier key ("vkey"), as in the spec and Go's golang.org/x/mod/sumdb/note:
 *     `<name>+<8 lowercase hex key ID>+<base64(type byte || 32-byte public key)>`
 * - signing key (a private key file; never publish it), as in Go's note package:
 *     `PRIVATE+KEY+<name>+<8 lowercase hex key ID>+<base64(type byte || 32-byte Ed25519 seed)>`
 *   with type byte 0x01 for a note (log) key — byte-for-byte Go-compatible — or
 *   0x04 for a cosignature/v1 witness key (same layout, our extension). The key
 *   ID is that of the public key derived from the seed, and is checked on parse.
 *
 * Parsing is strict: every malformed input throws a NoteError saying what is
 * wrong. Verification of a well-formed input never throws; it returns false
 * or null.
 */
import {
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  randomBytes,
} from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';

export class NoteError extends Error {
  readonly code = 'BAD_NOTE';
  constructor(message: string) {
    super(message);
    this.name = 'NoteError';
  }
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions: string[];
}

export type NoteKeyType = 'ed25519' | 'cosignature';

export interface NoteKey {
  name: string;
  publicKey: Uint8Array;
  keyId: Uint8Array;
  type: NoteKeyType;
}

export interface NoteSigningKey extends NoteKey {
  /** the 32-byte Ed25519 seed (RFC 8032 private key) */
  secretKey: Uint8Array;
}

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  /** the signature bytes after the 4-byte key ID */
  value: Uint8Array;
}

/** upper bound on a whole note, in UTF-8 bytes (1 MiB) */
export const MAX_NOTE_BYTES = 1 << 20;
/** upper bound on the number of signature lines in a note */
export const MAX_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 ';
const TYPE_BYTE: Record<NoteKeyType, number> = { ed25519: 0x01, cosignature: 0x04 };
const COSIGNATURE_HEADER = 'cosignature/v1\n';
const SIGNING_KEY_PREFIX = 'PRIVATE+KEY+';
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const utf8 = new TextEncoder();

// ---------------------------------------------------------------- helpers

const fail = (message: string): never => {
  throw new NoteError(message);
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** canonical standard base64 (RFC 4648 §4, padded, zero pad bits) or null */
function decodeBase64(s: string): Uint8Array | null {
  if (!BASE64.test(s)) return null;
  const bytes = Buffer.from(s, 'base64');
  if (bytes.toString('base64') !== s) return null;
  return new Uint8Array(bytes);
}

const encodeBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** note text rules: valid UTF-8 (no lone surrogates), no ASCII control characters but "\n" */
function checkChars(s: string, what: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) fail(`${what} contains an ASCII control character`);
  }
  if (/\p{Cs}/u.test(s)) fail(`${what} is not valid UTF-8 (lone surrogate)`);
}

function checkNoteText(body: string): void {
  if (typeof body !== 'string' || body.length === 0) fail('note text is empty');
  if (!body.endsWith('\n')) fail('note text does not end with a newline');
  checkChars(body, 'note text');
}

/** key names: non-empty, no Unicode spaces, no "+", valid note characters */
function checkKeyName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) fail('key name is empty');
  if (/\p{White_Space}/u.test(name)) fail(`key name ${JSON.stringify(name)} contains a space`);
  if (name.includes('+')) fail(`key name ${JSON.stringify(name)} contains "+"`);
  checkChars(name, `key name ${JSON.stringify(name)}`);
}

function checkType(type: unknown): NoteKeyType {
  if (type !== 'ed25519' && type !== 'cosignature') return fail(`unknown key type ${String(type)}`);
  return type;
}

function typeFromByte(byte: number | undefined): NoteKeyType {
  if (byte === TYPE_BYTE.ed25519) return 'ed25519';
  if (byte === TYPE_BYTE.cosignature) return 'cosignature';
  return fail(`unknown signature type byte ${byte === undefined ? 'none' : `0x${byte.toString(16).padStart(2, '0')}`}`);
}

function utf8Bytes(s: string): Uint8Array {
  return utf8.encode(s);
}

/** SHA-256(name || 0x0A || type byte || public key)[:4] */
export function computeKeyId(name: string, publicKey: Uint8Array, type: NoteKeyType = 'ed25519'): Uint8Array {
  checkKeyName(name);
  checkType(type);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) fail('public key must be 32 bytes');
  return sha256(concat(utf8Bytes(name), Uint8Array.of(0x0a, TYPE_BYTE[type]), publicKey)).slice(0, 4);
}

function checkKey(k: NoteKey): void {
  const id = computeKeyId(k.name, k.publicKey, k.type);
  if (!(k.keyId instanceof Uint8Array) || !bytesEqual(id, k.keyId)) {
    fail(`key ID of ${k.name} does not match its name, type and public key`);
  }
}

const sameKey = (sig: NoteSignature, key: NoteKey): boolean =>
  sig.name === key.name && bytesEqual(sig.keyId, key.keyId);

function nobleVerify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(sig, msg, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- checkpoints

/** the checkpoint as note text; throws NoteError if a field cannot be represented */
export function formatCheckpoint(c: Checkpoint): string {
  if (typeof c.origin !== 'string' || c.origin.length === 0) fail('checkpoint origin is empty');
  if (c.origin.includes('\n')) fail('checkpoint origin contains a newline');
  if (!Number.isSafeInteger(c.size) || c.size < 0) fail(`checkpoint size ${c.size} is not an integer in 0..2^53-1`);
  if (!(c.root instanceof Uint8Array) || c.root.length !== 32) fail('checkpoint root hash must be 32 bytes');
  for (const e of c.extensions ?? []) {
    if (typeof e !== 'string' || e.length === 0) fail('checkpoint extension line is empty');
    if (e.includes('\n')) fail('checkpoint extension line contains a newline');
  }
  const text = [c.origin, String(c.size), encodeBase64(c.root), ...(c.extensions ?? [])].join('\n') + '\n';
  checkChars(text, 'checkpoint');
  return text;
}

/** strict parse of a checkpoint note text */
export function parseCheckpoint(body: string): Checkpoint {
  if (typeof body !== 'string') return fail('checkpoint is not a string');
  if (!body.endsWith('\n')) fail('checkpoint does not end with a newline');
  checkChars(body, 'checkpoint');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) fail(`checkpoint has ${lines.length} line(s), needs origin, size and root hash`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) fail('checkpoint origin is empty');
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeText))
    fail(`checkpoint size ${JSON.stringify(sizeText)} is not canonical decimal`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) fail(`checkpoint size ${sizeText} exceeds 2^53-1`);
  const root = decodeBase64(rootText);
  if (root === null || root.length !== 32) {
    fail(`checkpoint root hash ${JSON.stringify(rootText)} is not base64 of 32 bytes`);
  }
  for (let i = 0; i < extensions.length; i++) {
    if (extensions[i] === '') fail(`checkpoint extension line ${i + 1} is empty`);
  }
  return { origin, size, root: root!, extensions };
}

// ---------------------------------------------------------------- keys

/** a key pair from a 32-byte Ed25519 seed */
export function signingKeyFromSeed(name: string, seed: Uint8Array, type: NoteKeyType = 'ed25519'): NoteSigningKey {
  checkKeyName(name);
  checkType(type);
  if (!(seed instanceof Uint8Array) || seed.length !== 32) fail('Ed25519 seed must be 32 bytes');
  const secretKey = new Uint8Array(seed);
  const publicKey = ed25519.getPublicKey(secretKey);
  return { name, type, publicKey, keyId: computeKeyId(name, publicKey, type), secretKey };
}

/** a fresh random key pair */
export function generateSigningKey(name: string, type: NoteKeyType = 'ed25519'): NoteSigningKey {
  return signingKeyFromSeed(name, new Uint8Array(randomBytes(32)), type);
}

/** `<name>+<hex key ID>+<base64(type || public key)>` */
export function formatVerifierKey(k: NoteKey): string {
  checkKey(k);
  return `${k.name}+${toHex(k.keyId)}+${encodeBase64(concat(Uint8Array.of(TYPE_BYTE[k.type]), k.publicKey))}`;
}

function parseKeyParts(
  text: string,
  what: string,
): { name: string; keyId: Uint8Array; type: NoteKeyType; key: Uint8Array } {
  const i = text.indexOf('+');
  const j = i < 0 ? -1 : text.indexOf('+', i + 1);
  if (j < 0) fail(`${what} is not <name>+<key ID>+<key>`);
  const name = text.slice(0, i);
  const idHex = text.slice(i + 1, j);
  const keyText = text.slice(j + 1);
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) fail(`${what} key ID ${JSON.stringify(idHex)} is not 8 lowercase hex digits`);
  const raw = decodeBase64(keyText);
  if (raw === null) return fail(`${what} key material is not base64`);
  const type = typeFromByte(raw[0]);
  if (raw.length !== 33) fail(`${what} key material is ${raw.length - 1} bytes, needs 32`);
  return { name, keyId: Uint8Array.from(Buffer.from(idHex, 'hex')), type, key: raw.slice(1) };
}

/** parses a vkey; throws NoteError if malformed or if the key ID does not match */
export function parseVerifierKey(vkey: string): NoteKey {
  if (typeof vkey !== 'string') return fail('verifier key is not a string');
  const { name, keyId, type, key } = parseKeyParts(vkey, 'verifier key');
  if (!bytesEqual(keyId, computeKeyId(name, key, type))) fail(`verifier key ID for ${name} does not match the key`);
  return { name, keyId, type, publicKey: key };
}

/** `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || 32-byte seed)>` — keep it secret */
export function formatSigningKey(k: NoteSigningKey): string {
  checkKey(k);
  if (!(k.secretKey instanceof Uint8Array) || k.secretKey.length !== 32) fail('Ed25519 seed must be 32 bytes');
  if (!bytesEqual(ed25519.getPublicKey(k.secretKey), k.publicKey))
    fail(`seed of ${k.name} does not match its public key`);
  const material = encodeBase64(concat(Uint8Array.of(TYPE_BYTE[k.type]), k.secretKey));
  return `${SIGNING_KEY_PREFIX}${k.name}+${toHex(k.keyId)}+${material}`;
}

/** parses a signing key written by formatSigningKey (or Go's note.GenerateKey) */
export function parseSigningKey(skey: string): NoteSigningKey {
  if (typeof skey !== 'string' || !skey.startsWith(SIGNING_KEY_PREFIX)) {
    return fail('signing key does not start with PRIVATE+KEY+');
  }
  const { name, keyId, type, key } = parseKeyParts(skey.slice(SIGNING_KEY_PREFIX.length), 'signing key');
  const k = signingKeyFromSeed(name, key, type);
  if (!bytesEqual(keyId, k.keyId)) fail(`signing key ID for ${name} does not match the key`);
  return k;
}

// ---------------------------------------------------------------- notes

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIG_PREFIX)) fail(`signature line ${JSON.stringify(line)} does not start with "— "`);
  const rest = line.slice(SIG_PREFIX.length);
  const sp = rest.indexOf(' ');
  if (sp < 0) fail(`signature line ${JSON.stringify(line)} has no space between key name and signature`);
  const name = rest.slice(0, sp);
  checkKeyName(name);
  const raw = decodeBase64(rest.slice(sp + 1));
  if (raw === null) return fail(`signature of ${name} is not base64`);
  if (raw.length < 5) fail(`signature of ${name} is too short`);
  return { name, keyId: raw.slice(0, 4), value: raw.slice(4) };
}

function formatSignatureLine(name: string, keyId: Uint8Array, value: Uint8Array): string {
  return `${SIG_PREFIX}${name} ${encodeBase64(concat(keyId, value))}\n`;
}

function checkNoteSize(text: string): void {
  if (text.length > MAX_NOTE_BYTES || Buffer.byteLength(text, 'utf8') > MAX_NOTE_BYTES) {
    fail(`note is larger than ${MAX_NOTE_BYTES} bytes`);
  }
}

/** strict parse of a signed note; signatures are not verified */
export function parseNote(text: string): { body: string; signatures: NoteSignature[] } {
  if (typeof text !== 'string') return fail('note is not a string');
  checkNoteSize(text);
  checkChars(text, 'note');
  const split = text.lastIndexOf('\n\n');
  if (split < 0) fail('note has no blank line between text and signatures');
  const body = text.slice(0, split + 1);
  const block = text.slice(split + 2);
  if (block.length === 0) fail('note has no signature lines');
  if (!block.endsWith('\n')) fail('note does not end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) fail(`note has ${lines.length} signatures, more than ${MAX_SIGNATURES}`);
  return { body, signatures: lines.map(parseSignatureLine) };
}

/** the body, a blank line and one Ed25519 signature line per key */
export function signNote(body: string, keys: NoteSigningKey[]): string {
  checkNoteText(body);
  if (keys.length === 0) fail('no signing keys');
  if (keys.length > MAX_SIGNATURES) fail(`more than ${MAX_SIGNATURES} signing keys`);
  const msg = utf8Bytes(body);
  let note = body + '\n';
  for (const k of keys) {
    if (k.type !== 'ed25519') fail(`key ${k.name} is a ${k.type} key, not an ed25519 note key`);
    checkKey(k);
    note += formatSignatureLine(k.name, k.keyId, ed25519.sign(msg, k.secretKey));
  }
  checkNoteSize(note);
  return note;
}

/**
 * Appends signature lines (each a full `— name base64\n` line, e.g. from
 * cosignatureLine) to a signed note. Lines already present are not repeated.
 */
export function addSignatureLines(note: string, lines: string[]): string {
  parseNote(note);
  const present = new Set(note.slice(note.lastIndexOf('\n\n') + 2).split('\n'));
  let out = note;
  for (const line of lines) {
    if (typeof line !== 'string' || !line.endsWith('\n')) fail('signature line does not end with a newline');
    const bare = line.slice(0, -1);
    if (bare.includes('\n')) fail('signature line contains more than one line');
    parseSignatureLine(bare);
    if (present.has(bare)) continue;
    present.add(bare);
    out += line;
  }
  parseNote(out);
  return out;
}

/** true iff sig is key's valid Ed25519 (type 0x01) signature of body */
export function verifyNoteSignature(body: string, sig: NoteSignature, key: NoteKey): boolean {
  if (key.type !== 'ed25519' || !sameKey(sig, key) || sig.value.length !== 64) return false;
  return nobleVerify(sig.value, utf8Bytes(body), key.publicKey);
}

// ---------------------------------------------------------------- cosignatures

function cosignedMessage(body: string, timestamp: number): Uint8Array {
  return utf8Bytes(`${COSIGNATURE_HEADER}time ${timestamp}\n${body}`);
}

/** the witness's cosignature/v1 line over a checkpoint body: "— name base64(id || time || sig)\n" */
export function cosignatureLine(body: string, witness: NoteSigningKey, timestampSeconds: number): string {
  parseCheckpoint(body);
  if (witness.type !== 'cosignature') fail(`key ${witness.name} is not a cosignature key`);
  checkKey(witness);
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    fail(`cosignature timestamp ${timestampSeconds} is not an integer in 0..2^53-1`);
  }
  const value = new Uint8Array(72);
  new DataView(value.buffer).setBigUint64(0, BigInt(timestampSeconds));
  value.set(ed25519.sign(cosignedMessage(body, timestampSeconds), witness.secretKey), 8);
  return formatSignatureLine(witness.name, witness.keyId, value);
}

/** the cosignature's timestamp if sig is witness's valid cosignature/v1 of body, else null */
export function verifyCosignature(body: string, sig: NoteSignature, witness: NoteKey): { timestamp: number } | null {
  if (witness.type !== 'cosignature' || !sameKey(sig, witness) || sig.value.length !== 72) return null;
  const timestamp = new DataView(sig.value.buffer, sig.value.byteOffset, 8).getBigUint64(0);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const t = Number(timestamp);
  return nobleVerify(sig.value.subarray(8), cosignedMessage(body, t), witness.publicKey) ? { timestamp: t } : null;
}

/**
 * Verifies a checkpoint note: every signature line matching the log key must
 * verify and there must be at least one (else NoteError); the body must be a
 * well-formed checkpoint. Returns the names of the witnesses (in the order
 * given) with at least one valid signature — cosignature/v1 for 'cosignature'
 * keys, a plain note signature for 'ed25519' keys. Lines from unknown keys are
 * ignored; an invalid line from a witness simply does not count for it. The
 * caller decides whether checkpoint.origin is the log it expects.
 */
export function verifyCheckpointNote(
  text: string,
  logKey: NoteKey,
  witnesses: NoteKey[],
): { checkpoint: Checkpoint; body: string; cosignedBy: string[] } {
  if (logKey.type !== 'ed25519') fail(`log key ${logKey.name} is not an ed25519 key`);
  const { body, signatures } = parseNote(text);
  const logSigs = signatures.filter((s) => sameKey(s, logKey));
  if (logSigs.length === 0) fail(`note has no signature by log key ${logKey.name}+${toHex(logKey.keyId)}`);
  for (const s of logSigs) {
    if (!verifyNoteSignature(body, s, logKey)) fail(`invalid signature by log key ${logKey.name}`);
  }
  const checkpoint = parseCheckpoint(body);
  const cosignedBy: string[] = [];
  for (const w of witnesses) {
    if (w.name === logKey.name && bytesEqual(w.keyId, logKey.keyId)) continue;
    if (cosignedBy.includes(w.name)) continue;
    const ok = signatures.some((s) =>
      w.type === 'cosignature' ? verifyCosignature(body, s, w) !== null : verifyNoteSignature(body, s, w),
    );
    if (ok) cosignedBy.push(w.name);
  }
  return { checkpoint, body, cosignedBy };
}

// ---------------------------------------------------------------- node:crypto Ed25519

/** Ed25519 signature of msg by the 32-byte seed, computed by node:crypto (OpenSSL) */
export function nodeEd25519Sign(seed: Uint8Array, msg: Uint8Array): Uint8Array {
  if (seed.length !== 32) fail('Ed25519 seed must be 32 bytes');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return new Uint8Array(cryptoSign(null, msg, key));
}

/** Ed25519 verification by node:crypto (OpenSSL); false for any malformed input */
export function nodeEd25519Verify(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (publicKey.length !== 32 || sig.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
    return cryptoVerify(null, msg, key, sig);
  } catch {
    return false;
  }
}
