// Checks a parking receipt in the browser, trusting nothing but the keys: the settlement record must
// describe the settlement shown, its leaf must be in the checkpoint's Merkle tree by the inclusion proof
// (RFC 9162), the checkpoint must carry a valid Ed25519 signature by the log's key for the expected
// origin (C2SP signed note), and at least `quorum` witnesses must have cosigned it (cosignature/v1).
import { ed25519 } from '/web/vendor/noble-curves/ed25519.js';
import { sha256 } from '/web/vendor/noble-hashes/sha2.js';
import { addMessages, t } from './i18n.js';

// why a receipt is not verified, in the driver's language
addMessages({
  en: {
    'receipt.pending': 'not in a signed checkpoint yet',
    'receipt.fieldDiffers': "the ledger record's {field} differs",
    'receipt.notSignedByLog': 'the checkpoint is not signed by the log',
    'receipt.badLogSignature': "the log's checkpoint signature is invalid",
    'receipt.otherLog': 'the checkpoint is for another log',
    'receipt.badSize': 'bad checkpoint size',
    'receipt.notInTree': 'the record is not in the signed tree (inclusion proof fails)',
    'receipt.quorum': 'cosigned by {n} of the {quorum} witnesses needed',
    'receipt.malformed': 'malformed receipt ({detail})',
  },
  'zh-CN': {
    'receipt.pending': '尚未纳入已签名的检查点',
    'receipt.fieldDiffers': '账本记录的 {field} 与显示的不一致',
    'receipt.notSignedByLog': '检查点没有账本日志的签名',
    'receipt.badLogSignature': '账本日志对检查点的签名无效',
    'receipt.otherLog': '检查点属于另一个账本日志',
    'receipt.badSize': '检查点大小有误',
    'receipt.notInTree': '记录不在已签名的树中（包含证明未通过）',
    'receipt.quorum': '只有 {n} 个见证方联署，需要 {quorum} 个',
    'receipt.malformed': '收据格式有误（{detail}）',
  },
});

const utf8 = new TextEncoder();
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TYPE_ED25519 = 0x01;
const TYPE_COSIGNATURE = 0x04;

function fromBase64(s) {
  if (typeof s !== 'string' || !BASE64.test(s)) throw new Error('not base64');
  const bin = atob(s);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** `name+<8 hex key id>+<base64(type || 32-byte key)>`, its key id checked */
export function parseVerifierKey(vkey) {
  // the key material is base64, which may itself hold "+"
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey);
  if (!m) throw new Error('bad verifier key');
  const [, name, idHex, material] = m;
  const raw = fromBase64(material);
  if (raw.length !== 33) throw new Error('bad verifier key length');
  const keyId = sha256(concat(utf8.encode(name), Uint8Array.of(0x0a, raw[0]), raw.slice(1))).slice(0, 4);
  if (toHex(keyId) !== idHex) throw new Error(`key id of ${name} does not match its key`);
  return { name, keyId, type: raw[0], publicKey: raw.slice(1) };
}

/** the note's text and its signature lines (`— name base64(keyid || signature)`) */
export function parseNote(text) {
  const split = text.lastIndexOf('\n\n');
  if (split < 0 || !text.endsWith('\n')) throw new Error('not a signed note');
  const body = text.slice(0, split + 1);
  const signatures = text
    .slice(split + 2, -1)
    .split('\n')
    .map((line) => {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) throw new Error('bad signature line');
      const raw = fromBase64(m[2]);
      if (raw.length < 5) throw new Error('short signature');
      return { name: m[1], keyId: raw.slice(0, 4), value: raw.slice(4) };
    });
  return { body, signatures };
}

function verifyEd25519(sig, msg, publicKey) {
  try {
    return ed25519.verify(sig, msg, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

const sameKey = (s, k) => s.name === k.name && equal(s.keyId, k.keyId);

function validCosignature(body, s, w) {
  if (w.type !== TYPE_COSIGNATURE || !sameKey(s, w) || s.value.length !== 72) return false;
  const t = new DataView(s.value.buffer, s.value.byteOffset, 8).getBigUint64(0);
  return verifyEd25519(s.value.subarray(8), utf8.encode(`cosignature/v1\ntime ${t}\n${body}`), w.publicKey);
}

export const leafHash = (text) => sha256(concat(Uint8Array.of(0), utf8.encode(text)));
const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

/** RFC 9162 2.1.3.2 */
export function verifyInclusion(leaf, index, size, proof, root) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (p.length !== 32 || sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/**
 * {status: 'verified' | 'failed' | 'pending', problem?, index?, size?, cosignedBy?}
 * `receipt` is what GET /v1/me/receipts gives; `keys` what GET /web/api/ledger-keys gives.
 */
export function checkReceipt(receipt, keys) {
  if (!receipt.record || receipt.ledgerIndex === null || !receipt.proof || !receipt.checkpoint) {
    return { status: 'pending', problem: t('receipt.pending') };
  }
  try {
    const s = receipt.settlement;
    const record = JSON.parse(receipt.record);
    for (const [field, shown] of [
      ['settlementId', s.id],
      ['amount', s.amount],
      ['currency', s.currency],
      ['entryAt', s.entryAt],
      ['exitAt', s.exitAt],
      ['accountId', s.accountId],
    ]) {
      if (record[field] !== shown) return { status: 'failed', problem: t('receipt.fieldDiffers', { field }) };
    }
    const log = parseVerifierKey(keys.logKey);
    const witnesses = keys.witnesses.map(parseVerifierKey);
    const { body, signatures } = parseNote(receipt.checkpoint);
    const logSigs = signatures.filter((sig) => sameKey(sig, log));
    if (log.type !== TYPE_ED25519 || logSigs.length === 0) {
      return { status: 'failed', problem: t('receipt.notSignedByLog') };
    }
    if (
      !logSigs.every((sig) => sig.value.length === 64 && verifyEd25519(sig.value, utf8.encode(body), log.publicKey))
    ) {
      return { status: 'failed', problem: t('receipt.badLogSignature') };
    }
    const lines = body.slice(0, -1).split('\n');
    if (lines.length < 3 || lines[0] !== keys.origin) return { status: 'failed', problem: t('receipt.otherLog') };
    if (!/^(?:0|[1-9][0-9]*)$/.test(lines[1])) return { status: 'failed', problem: t('receipt.badSize') };
    const size = Number(lines[1]);
    const root = fromBase64(lines[2]);
    const proof = receipt.proof.map(fromBase64);
    if (root.length !== 32 || !verifyInclusion(leafHash(receipt.record), receipt.ledgerIndex, size, proof, root)) {
      return { status: 'failed', problem: t('receipt.notInTree') };
    }
    const cosignedBy = witnesses
      .filter((w) => signatures.some((sig) => validCosignature(body, sig, w)))
      .map((w) => w.name);
    if (cosignedBy.length < keys.quorum) {
      return { status: 'failed', problem: t('receipt.quorum', { n: cosignedBy.length, quorum: keys.quorum }) };
    }
    return { status: 'verified', index: receipt.ledgerIndex, size, cosignedBy };
  } catch (err) {
    return { status: 'failed', problem: t('receipt.malformed', { detail: err.message }) };
  }
}
