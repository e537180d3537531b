/** Signed notes (C2SP signed-note, checkpoints): key IDs and the reference vectors byte for byte, checkpoint text, and keys. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  computeKeyId,
  formatCheckpoint,
  formatSigningKey,
  formatVerifierKey,
  generateSigningKey,
  parseCheckpoint,
  parseNote,
  parseSigningKey,
  parseVerifierKey,
  signNote,
  signingKeyFromSeed,
  verifyNoteSignature,
  type Checkpoint,
} from '../../cloud/ledger/signed-note.js';
import {
  ENOCH_SIG,
  ENOCH_VKEY,
  GO_TEXT,
  PETER_SIG,
  PETER_SKEY,
  PETER_VKEY,
  SPEC_CHECKPOINT,
  SPEC_NOTE,
  b64,
  hex,
  sampleCheckpoint,
  seedOf,
  throwsNote,
} from './signed-note-fixtures.js';

describe('signed-note: key IDs and reference vectors', () => {
  it('computes the key ID as SHA-256(name || 0x0A || type || public key)[:4]', () => {
    for (const [type, byte] of [
      ['ed25519', 1],
      ['cosignature', 4],
    ] as const) {
      const k = generateSigningKey('ledger.example/log', type);
      const want = createHash('sha256')
        .update(Buffer.concat([Buffer.from('ledger.example/log\n'), Buffer.of(byte), k.publicKey]))
        .digest()
        .subarray(0, 4);
      assert.equal(hex(k.keyId), want.toString('hex'));
      assert.equal(hex(computeKeyId(k.name, k.publicKey, type)), want.toString('hex'));
    }
    const k = signingKeyFromSeed('witness.example/w', seedOf(3), 'ed25519');
    const c = signingKeyFromSeed('witness.example/w', seedOf(3), 'cosignature');
    assert.deepEqual(k.publicKey, c.publicKey);
    assert.notEqual(hex(k.keyId), hex(c.keyId));
    // UTF-8 names are hashed as UTF-8
    const u = signingKeyFromSeed('zürich.example/log', seedOf(4));
    const want = createHash('sha256')
      .update(Buffer.concat([Buffer.from('zürich.example/log\n\x01', 'utf8'), u.publicKey]))
      .digest()
      .subarray(0, 4);
    assert.equal(hex(u.keyId), want.toString('hex'));
  });

  it('reproduces the Go note package example byte for byte', () => {
    const peter = parseSigningKey(PETER_SKEY);
    assert.equal(peter.name, 'PeterNeumann');
    assert.equal(peter.type, 'ed25519');
    assert.equal(hex(peter.keyId), 'c74f20a3');
    assert.equal(formatVerifierKey(peter), PETER_VKEY);
    assert.equal(formatSigningKey(peter), PETER_SKEY);
    assert.equal(signNote(GO_TEXT, [peter]), GO_TEXT + '\n' + PETER_SIG);

    const vkey = parseVerifierKey(PETER_VKEY);
    assert.deepEqual(vkey, { name: 'PeterNeumann', keyId: peter.keyId, type: 'ed25519', publicKey: peter.publicKey });
    const enoch = parseVerifierKey(ENOCH_VKEY);
    assert.equal(hex(enoch.keyId), 'af0cfe78');

    const { body, signatures } = parseNote(GO_TEXT + '\n' + PETER_SIG + ENOCH_SIG);
    assert.equal(body, GO_TEXT);
    assert.equal(signatures.length, 2);
    assert.equal(verifyNoteSignature(body, signatures[0]!, vkey), true);
    assert.equal(verifyNoteSignature(body, signatures[1]!, enoch), true);
    assert.equal(verifyNoteSignature(body, signatures[1]!, vkey), false);
    assert.equal(verifyNoteSignature(body, signatures[0]!, enoch), false);
    assert.equal(verifyNoteSignature(GO_TEXT.replace('cryptography', 'cryptographY'), signatures[0]!, vkey), false);
  });

  it('rejects every substring and every single-byte mangling of the Go example keys', () => {
    for (const [key, parse] of [
      [PETER_VKEY, parseVerifierKey],
      [PETER_SKEY, parseSigningKey],
    ] as const) {
      for (let i = 0; i <= key.length; i++) {
        for (let j = i + 1; j <= key.length; j++) {
          if (i !== 0 || j !== key.length) throwsNote(() => parse(key.slice(i, j)));
        }
      }
      for (let i = 0; i < key.length; i++) {
        throwsNote(() => parse(key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1)));
      }
    }
    // the Go test's wrong-length key and unknown algorithm, each with its key ID adjusted
    throwsNote(() => parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='));
    throwsNote(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), /type/);
  });

  it('parses the tlog-cosignature spec example and its timestamp', () => {
    const { body, signatures } = parseNote(SPEC_NOTE);
    assert.equal(body, SPEC_CHECKPOINT);
    assert.deepEqual(
      signatures.map((s) => [s.name, s.value.length]),
      [
        ['example.com/behind-the-sofa', 64],
        ['witness.example.com/w1', 72],
      ],
    );
    assert.equal(Buffer.from(signatures[1]!.value).readBigUInt64BE(0), 1679315147n);
    const c = parseCheckpoint(body);
    assert.equal(c.origin, 'example.com/behind-the-sofa');
    assert.equal(c.size, 20852163);
    assert.equal(b64(c.root), 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    assert.deepEqual(c.extensions, []);
  });
});

describe('signed-note: checkpoints', () => {
  it('formats and parses back', () => {
    assert.equal(
      formatCheckpoint({
        origin: 'example.com/behind-the-sofa',
        size: 20852163,
        root: Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64'),
        extensions: [],
      }),
      SPEC_CHECKPOINT,
    );
    const cases: Checkpoint[] = [
      sampleCheckpoint(0),
      sampleCheckpoint(1),
      sampleCheckpoint(Number.MAX_SAFE_INTEGER),
      sampleCheckpoint(123456789, ['ext one', 'another — extension']),
    ];
    for (let i = 0; i < 20; i++) {
      cases.push({
        origin: `log${i}.example/ä`,
        size: Math.floor(Math.random() * 2 ** 40),
        root: new Uint8Array(randomBytes(32)),
        extensions: i % 3 === 0 ? [`e${i}`] : [],
      });
    }
    for (const c of cases) {
      const text = formatCheckpoint(c);
      assert.ok(text.startsWith(`${c.origin}\n${c.size}\n`));
      assert.equal(text.split('\n').length, 4 + c.extensions.length);
      assert.deepEqual(parseCheckpoint(text), c);
    }
  });

  it('rejects malformed checkpoint bodies, naming the problem', () => {
    const root = 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=';
    const bad: [string, RegExp][] = [
      ['', /newline/],
      [`o\n5\n${root}`, /newline/],
      [`o\n5\n`, /line/],
      [`\n5\n${root}\n`, /origin is empty/],
      [`o\n05\n${root}\n`, /canonical/],
      [`o\n-1\n${root}\n`, /canonical/],
      [`o\n+1\n${root}\n`, /canonical/],
      [`o\n 1\n${root}\n`, /canonical/],
      [`o\n1.0\n${root}\n`, /canonical/],
      [`o\n1e3\n${root}\n`, /canonical/],
      [`o\n0x10\n${root}\n`, /canonical/],
      [`o\n\n${root}\n`, /canonical/],
      [`o\n9007199254740992\n${root}\n`, /2\^53/],
      [`o\n123456789012345678901234567890\n${root}\n`, /2\^53/],
      [`o\n5\n${root.slice(0, -4)}\n`, /root/],
      [`o\n5\n${b64(new Uint8Array(33))}\n`, /root/],
      [`o\n5\n${root.replace('=', '')}\n`, /root/],
      [`o\n5\n${root.slice(0, -2)}J=\n`, /root/], // non-zero pad bits
      [`o\n5\n${root.replace('/', '_')}\n`, /root/],
      [`o\n5\n${root} \n`, /root/],
      [`o\n5\n${root}\n\n`, /extension line 1 is empty/],
      [`o\n5\n${root}\next\n\n`, /extension line 2 is empty/],
      [`o\r\n5\n${root}\n`, /control/],
      [`o\n5\r\n${root}\n`, /control/],
      [`o\t\n5\n${root}\n`, /control/],
      [`o\uD800\n5\n${root}\n`, /UTF-8/],
    ];
    for (const [body, pattern] of bad) throwsNote(() => parseCheckpoint(body), pattern);
  });

  it('refuses to format a checkpoint it could not parse back', () => {
    const bad: [Partial<Checkpoint>, RegExp][] = [
      [{ origin: '' }, /origin/],
      [{ origin: 'a\nb' }, /origin/],
      [{ origin: 'a\tb' }, /control/],
      [{ size: -1 }, /size/],
      [{ size: 1.5 }, /size/],
      [{ size: 2 ** 53 }, /size/],
      [{ size: NaN }, /size/],
      [{ root: new Uint8Array(31) }, /root/],
      [{ extensions: [''] }, /extension/],
      [{ extensions: ['a\nb'] }, /extension/],
    ];
    for (const [patch, pattern] of bad)
      throwsNote(() => formatCheckpoint({ ...sampleCheckpoint(), ...patch }), pattern);
  });
});

describe('signed-note: keys', () => {
  it('round-trips verifier and signing keys of both types', () => {
    for (const type of ['ed25519', 'cosignature'] as const) {
      for (let i = 0; i < 5; i++) {
        const k = generateSigningKey(`witness-${i}.example/w`, type);
        assert.equal(k.type, type);
        assert.equal(k.secretKey.length, 32);
        assert.deepEqual(k.publicKey, ed25519.getPublicKey(k.secretKey));

        const vkey = formatVerifierKey(k);
        const [name, id, material] = [vkey.split('+')[0], vkey.split('+')[1], vkey.split('+').slice(2).join('+')];
        assert.equal(name, k.name);
        assert.equal(id, hex(k.keyId));
        assert.deepEqual(
          Buffer.from(material, 'base64'),
          Buffer.concat([Buffer.of(type === 'ed25519' ? 1 : 4), k.publicKey]),
        );
        assert.deepEqual(parseVerifierKey(vkey), { name: k.name, keyId: k.keyId, type, publicKey: k.publicKey });

        const skey = formatSigningKey(k);
        assert.ok(skey.startsWith(`PRIVATE+KEY+${k.name}+${hex(k.keyId)}+`));
        assert.deepEqual(
          Buffer.from(skey.split('+').slice(4).join('+'), 'base64'),
          Buffer.concat([Buffer.of(type === 'ed25519' ? 1 : 4), k.secretKey]),
        );
        assert.deepEqual(parseSigningKey(skey), k);
      }
    }
    const a = signingKeyFromSeed('log.example', seedOf(9));
    assert.deepEqual(signingKeyFromSeed('log.example', seedOf(9)), a);
    assert.notDeepEqual(generateSigningKey('log.example').secretKey, generateSigningKey('log.example').secretKey);
  });

  it('rejects bad key names, seeds and mismatched key IDs', () => {
    for (const name of ['', 'a b', 'a+b', 'a\u3000b', 'a\u0085b', 'a\u00a0b', 'a\tb', 'a\nb', 'a\u2028b', '\uD800']) {
      throwsNote(() => generateSigningKey(name), /key name/);
    }
    throwsNote(() => signingKeyFromSeed('log.example', new Uint8Array(31)), /32 bytes/);
    throwsNote(() => signingKeyFromSeed('log.example', seedOf(1), 'rsa' as 'ed25519'), /type/);

    const k = signingKeyFromSeed('log.example', seedOf(1));
    const other = signingKeyFromSeed('log.example', seedOf(2));
    throwsNote(() => formatVerifierKey({ ...k, keyId: other.keyId }), /key ID/);
    throwsNote(() => formatVerifierKey({ ...k, type: 'cosignature' }), /key ID/);
    throwsNote(() => formatSigningKey({ ...k, secretKey: other.secretKey }), /seed/);

    const vkey = formatVerifierKey(k);
    const [name, id, material] = [vkey.split('+')[0]!, vkey.split('+')[1]!, vkey.split('+').slice(2).join('+')];
    throwsNote(() => parseVerifierKey(`${name}+${id.toUpperCase()}+${material}`), /lowercase hex/);
    throwsNote(() => parseVerifierKey(`${name}+${hex(other.keyId)}+${material}`), /does not match/);
    throwsNote(() => parseVerifierKey(`other.example+${id}+${material}`), /does not match/);
    throwsNote(() => parseVerifierKey(`${name}+${id}`), /name>\+<key ID>/);
    throwsNote(() => parseVerifierKey(`${name}+${id}+`), /type/);
    throwsNote(() => parseVerifierKey(`${name} x+${id}+${material}`), /space/);
    const raw = Buffer.from(material, 'base64');
    throwsNote(() => parseVerifierKey(`${name}+${id}+${b64(Buffer.concat([Buffer.of(2), raw.subarray(1)]))}`), /type/);
    throwsNote(() => parseVerifierKey(`${name}+${id}+${b64(raw.subarray(0, 32))}`), /31 bytes/);
    // a cosignature vkey carries type 0x04 and the 0x04 key ID
    const w = signingKeyFromSeed('log.example', seedOf(1), 'cosignature');
    const wRaw = b64(Buffer.concat([Buffer.of(4), w.publicKey]));
    assert.equal(parseVerifierKey(`${name}+${hex(w.keyId)}+${wRaw}`).type, 'cosignature');
    throwsNote(() => parseVerifierKey(`${name}+${id}+${wRaw}`), /does not match/);

    const skey = formatSigningKey(k);
    throwsNote(() => parseSigningKey(skey.replace('PRIVATE+KEY+', 'PRIVATE+KEYS+')), /PRIVATE\+KEY/);
    throwsNote(() => parseSigningKey(skey.replace(hex(k.keyId), hex(other.keyId))), /does not match/);
    throwsNote(() => parseSigningKey(vkey), /PRIVATE\+KEY/);
  });
});
