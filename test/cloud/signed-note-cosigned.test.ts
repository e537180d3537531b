/** Signed notes: parsing and verifying notes, checkpoints with witness cosignatures, and node:crypto agreeing with noble's Ed25519. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  MAX_NOTE_BYTES,
  NoteError,
  addSignatureLines,
  cosignatureLine,
  formatCheckpoint,
  formatVerifierKey,
  nodeEd25519Sign,
  nodeEd25519Verify,
  parseNote,
  parseSigningKey,
  parseVerifierKey,
  signNote,
  signingKeyFromSeed,
  verifyCheckpointNote,
  verifyCosignature,
  verifyNoteSignature,
  type NoteKey,
  type NoteSigningKey,
} from '../../cloud/ledger/signed-note.js';
import {
  ENOCH_SIG,
  GO_TEXT,
  PETER_SIG,
  PETER_SKEY,
  b64,
  enc,
  hex,
  mutateAt,
  sampleCheckpoint,
  seedOf,
  throwsNote,
} from './signed-note-fixtures.js';

describe('signed-note: notes', () => {
  const log = signingKeyFromSeed('ledger.platepay.example/settlements', seedOf(11));
  const second = signingKeyFromSeed('backup.platepay.example', seedOf(12));

  it('signs and verifies, with one line per key, and parses back exactly', () => {
    for (const body of [
      formatCheckpoint(sampleCheckpoint()),
      'a\n\nb with blank line above\n',
      'x\n\n',
      '\n',
      'ü ☃ €\n',
    ]) {
      const note = signNote(body, [log, second]);
      assert.ok(note.startsWith(body + '\n\u2014 '));
      const lines = note.slice(body.length + 1).split('\n');
      assert.equal(lines.length, 3);
      assert.equal(lines[2], '');
      const parsed = parseNote(note);
      assert.equal(parsed.body, body);
      assert.deepEqual(
        parsed.signatures.map((s) => [s.name, hex(s.keyId), s.value.length]),
        [
          [log.name, hex(log.keyId), 64],
          [second.name, hex(second.keyId), 64],
        ],
      );
      assert.equal(verifyNoteSignature(body, parsed.signatures[0]!, log), true);
      assert.equal(verifyNoteSignature(body, parsed.signatures[1]!, second), true);
      assert.equal(verifyNoteSignature(body, parsed.signatures[0]!, second), false);
      assert.equal(verifyNoteSignature(body, parsed.signatures[1]!, log), false);
      // the signature is Ed25519 over exactly the body bytes
      assert.deepEqual(parsed.signatures[0]!.value, ed25519.sign(enc.encode(body), log.secretKey));
    }
  });

  it('verifies only ed25519 keys whose name and key ID match', () => {
    const body = 'hello\n';
    const sig = parseNote(signNote(body, [log])).signatures[0]!;
    assert.equal(verifyNoteSignature(body, sig, { ...log, name: 'renamed.example' }), false);
    assert.equal(verifyNoteSignature(body, { ...sig, keyId: second.keyId }, log), false);
    assert.equal(verifyNoteSignature(body, { ...sig, value: sig.value.subarray(0, 63) }, log), false);
    const asCosigner: NoteKey = { ...log, type: 'cosignature' };
    assert.equal(verifyNoteSignature(body, sig, asCosigner), false);
  });

  it('refuses to sign what it could not parse back', () => {
    throwsNote(() => signNote('', [log]), /empty/);
    throwsNote(() => signNote('no newline', [log]), /newline/);
    throwsNote(() => signNote('bell\x07\n', [log]), /control/);
    throwsNote(() => signNote('bad \uDC00\n', [log]), /UTF-8/);
    throwsNote(() => signNote('ok\n', []), /no signing keys/);
    throwsNote(() => signNote('ok\n', [signingKeyFromSeed('w.example', seedOf(1), 'cosignature')]), /not an ed25519/);
    throwsNote(() => signNote('ok\n', [{ ...log, keyId: second.keyId }]), /key ID/);
    throwsNote(() => signNote('x'.repeat(MAX_NOTE_BYTES) + '\n', [log]), /larger/);
  });

  it('rejects malformed notes', () => {
    const text = GO_TEXT;
    const bad: [string, RegExp][] = [
      [text, /blank line/],
      [text + '\n', /no signature lines/],
      [text + '\n' + PETER_SIG.slice(0, -1), /end with a newline/],
      ['\x01' + text + '\n' + PETER_SIG, /control/],
      ['\uDFFF' + text + '\n' + PETER_SIG, /UTF-8/],
      [text + '\n' + PETER_SIG.replace('\n', '\r\n'), /control/],
      [text + '\n' + PETER_SIG.replace('PeterNeumann', 'Bad Name'), /base64/],
      [text + '\n' + PETER_SIG + 'Unexpected line.\n', /does not start/],
      [text + '\n' + PETER_SIG.replace('\u2014', '--'), /does not start/],
      [text + '\n' + PETER_SIG.replace('\u2014 ', '\u2014'), /does not start/],
      [text + '\n' + PETER_SIG.replace('\u2014 ', '\u2014  '), /key name is empty/],
      [text + '\n' + PETER_SIG.replace('PeterNeumann ', 'PeterNeumann'), /no space/],
      [text + '\n' + PETER_SIG.replace('PeterNeumann', 'Peter+Neumann'), /"\+"/],
      [text + '\n' + PETER_SIG.replace('PeterNeumann', 'Peter\u00a0Neumann'), /base64|space/],
      [text + '\n\u2014 PeterNeumann \n', /too short/],
      [text + '\n\u2014 PeterNeumann AAAAAA==\n', /too short/],
      [text + '\n\u2014 PeterNeumann AAAAAAB=\n', /base64/],
      [text + '\n' + PETER_SIG.replace('AM=', 'AM'), /base64/],
      [text + '\n' + PETER_SIG.replace('AM=', 'AN='), /base64/],
      [text + '\n' + PETER_SIG.replace('x08go/', 'x08go_'), /base64/],
      [text + '\n' + PETER_SIG + '\n', /no signature lines/],
      [text + '\n' + PETER_SIG.repeat(101), /101 signatures/],
    ];
    for (const [note, pattern] of bad) throwsNote(() => parseNote(note), pattern);
    assert.equal(parseNote(text + '\n' + PETER_SIG.repeat(100)).signatures.length, 100);
    assert.equal(parseNote(text + '\n\u2014 PeterNeumann AAAAAAE=\n').signatures[0]!.value.length, 1);
  });

  it('caps the note at 1 MiB of UTF-8', () => {
    const tail = '\n' + PETER_SIG;
    const fill = MAX_NOTE_BYTES - Buffer.byteLength(tail) - 1;
    const atLimit = 'x'.repeat(fill) + '\n' + tail;
    assert.equal(Buffer.byteLength(atLimit), MAX_NOTE_BYTES);
    assert.equal(parseNote(atLimit).signatures.length, 1);
    throwsNote(() => parseNote('x' + atLimit), /larger/);
    // fewer characters than bytes: the cap is on bytes
    const wide = 'é'.repeat(Math.ceil(fill / 2) + 1) + '\n' + tail;
    assert.ok(wide.length < MAX_NOTE_BYTES);
    throwsNote(() => parseNote(wide), /larger/);
  });

  it('appends signature lines once each, and only well-formed ones', () => {
    const note = signNote(GO_TEXT, [parseSigningKey(PETER_SKEY)]);
    const both = addSignatureLines(note, [ENOCH_SIG]);
    assert.equal(both, GO_TEXT + '\n' + PETER_SIG + ENOCH_SIG);
    assert.equal(addSignatureLines(both, [ENOCH_SIG, PETER_SIG]), both);
    assert.equal(addSignatureLines(note, [ENOCH_SIG, ENOCH_SIG]), both);
    assert.equal(addSignatureLines(note, []), note);
    throwsNote(() => addSignatureLines(note, [ENOCH_SIG.slice(0, -1)]), /newline/);
    throwsNote(() => addSignatureLines(note, [ENOCH_SIG + ENOCH_SIG]), /more than one line/);
    throwsNote(() => addSignatureLines(note, ['- EnochRoot AAAAAAE=\n']), /does not start/);
    throwsNote(() => addSignatureLines(note, ['\u2014 Enoch\x00Root AAAAAAE=\n']), /control/);
    throwsNote(() => addSignatureLines(GO_TEXT, [ENOCH_SIG]), /blank line/);
    const many = Array.from({ length: 99 }, (_, i) => `\u2014 w${i}.example AAAAAAE=\n`);
    assert.equal(parseNote(addSignatureLines(note, many)).signatures.length, 100);
    throwsNote(() => addSignatureLines(note, [...many, ENOCH_SIG]), /101 signatures/);
  });
});

describe('signed-note: checkpoints with cosignatures', () => {
  const log = signingKeyFromSeed('ledger.platepay.example/settlements', seedOf(21));
  const w1 = signingKeyFromSeed('witness1.example/w', seedOf(22), 'cosignature');
  const w2 = signingKeyFromSeed('witness2.example/w', seedOf(23), 'cosignature');
  const stranger = signingKeyFromSeed('stranger.example/w', seedOf(24), 'cosignature');
  const public_ = (k: NoteSigningKey): NoteKey => parseVerifierKey(formatVerifierKey(k));
  const body = formatCheckpoint(sampleCheckpoint(1000));
  const T = 1_700_000_000;

  it('cosigns, verifies and reports which witnesses cosigned', () => {
    const note = addSignatureLines(signNote(body, [log]), [
      cosignatureLine(body, w1, T),
      cosignatureLine(body, stranger, T),
      cosignatureLine(body, w2, T + 5),
    ]);
    const r = verifyCheckpointNote(note, public_(log), [public_(w2), public_(w1)]);
    assert.equal(r.body, body);
    assert.deepEqual(r.checkpoint, sampleCheckpoint(1000));
    assert.deepEqual(r.cosignedBy, [w2.name, w1.name]);
    assert.deepEqual(verifyCheckpointNote(note, log, []).cosignedBy, []);
    assert.deepEqual(verifyCheckpointNote(note, log, [w1, w1]).cosignedBy, [w1.name]);

    const sigs = parseNote(note).signatures;
    assert.deepEqual(verifyCosignature(body, sigs[1]!, w1), { timestamp: T });
    assert.deepEqual(verifyCosignature(body, sigs[3]!, w2), { timestamp: T + 5 });
    assert.equal(verifyCosignature(body, sigs[1]!, w2), null);
    assert.equal(verifyCosignature(body, sigs[0]!, w1), null);
    // cosignatures are not plain note signatures, and vice versa
    assert.equal(verifyNoteSignature(body, sigs[1]!, w1), false);
    assert.equal(verifyCosignature(body, sigs[0]!, { ...log, type: 'cosignature' }), null);
  });

  it('encodes cosignature/v1 as specified', () => {
    for (const t of [0, 1, T, Number.MAX_SAFE_INTEGER]) {
      const line = cosignatureLine(body, w1, t);
      assert.match(line, /^\u2014 witness1\.example\/w [A-Za-z0-9+/]+=*\n$/);
      const raw = Buffer.from(line.slice(line.lastIndexOf(' ') + 1, -1), 'base64');
      assert.equal(raw.length, 4 + 8 + 64);
      assert.deepEqual(raw.subarray(0, 4), Buffer.from(w1.keyId));
      assert.equal(raw.readBigUInt64BE(4), BigInt(t));
      const msg = enc.encode(`cosignature/v1\ntime ${t}\n${body}`);
      assert.equal(ed25519.verify(raw.subarray(12), msg, w1.publicKey), true);
      assert.deepEqual(verifyCosignature(body, parseNote(`${body}\n${line}`).signatures[0]!, w1), { timestamp: t });
    }
  });

  it('refuses to cosign with the wrong key, time or body', () => {
    throwsNote(() => cosignatureLine(body, log, T), /not a cosignature key/);
    throwsNote(() => cosignatureLine(body, { ...w1, keyId: w2.keyId }, T), /key ID/);
    for (const t of [-1, 1.5, NaN, 2 ** 53]) throwsNote(() => cosignatureLine(body, w1, t), /timestamp/);
    throwsNote(() => cosignatureLine('not a checkpoint\n', w1, T), /checkpoint/);
  });

  it('does not accept a cosignature for another size, root, origin, time or extension', () => {
    const line = cosignatureLine(body, w1, T);
    const sig = parseNote(`${body}\n${line}`).signatures[0]!;
    const others = [
      sampleCheckpoint(1001),
      { ...sampleCheckpoint(1000), root: new Uint8Array(32).fill(8) },
      { ...sampleCheckpoint(1000), origin: 'other.example/log' },
      sampleCheckpoint(1000, ['ext']),
    ];
    for (const c of others) {
      const other = formatCheckpoint(c);
      assert.equal(verifyCosignature(other, sig, w1), null);
      const note = addSignatureLines(signNote(other, [log]), [line]);
      assert.deepEqual(verifyCheckpointNote(note, log, [w1]).cosignedBy, []);
    }
    const later = Buffer.from(sig.value);
    later.writeBigUInt64BE(BigInt(T + 1), 0);
    assert.equal(verifyCosignature(body, { ...sig, value: new Uint8Array(later) }, w1), null);
    assert.equal(verifyCosignature(body, { ...sig, value: sig.value.subarray(0, 71) }, w1), null);
  });

  it('refuses timestamps beyond 2^53-1 even when correctly signed', () => {
    const t = 2n ** 53n;
    const value = Buffer.alloc(72);
    value.writeBigUInt64BE(t, 0);
    value.set(ed25519.sign(enc.encode(`cosignature/v1\ntime ${t}\n${body}`), w1.secretKey), 8);
    assert.equal(verifyCosignature(body, { name: w1.name, keyId: w1.keyId, value: new Uint8Array(value) }, w1), null);
  });

  it('requires a valid log signature and ignores unknown signatures', () => {
    const note = signNote(body, [log]);
    const impostor = signingKeyFromSeed(log.name, seedOf(99));
    throwsNote(() => verifyCheckpointNote(signNote(body, [impostor]), log, []), /no signature by log key/);
    throwsNote(() => verifyCheckpointNote(note, impostor, []), /no signature by log key/);
    throwsNote(() => verifyCheckpointNote(note, w1, []), /not an ed25519/);
    // a second, bad line under the log's name and key ID rejects the note
    const forged = `\u2014 ${log.name} ${b64(Buffer.concat([log.keyId, Buffer.alloc(64, 1)]))}\n`;
    throwsNote(() => verifyCheckpointNote(addSignatureLines(note, [forged]), log, []), /invalid signature/);
    // other lines: unknown keys, same name other key, garbage values — all ignored
    const noisy = addSignatureLines(signNote(body, [impostor, log]), [
      `\u2014 ${w1.name} ${b64(Buffer.concat([w2.keyId, Buffer.alloc(72, 1)]))}\n`,
      '\u2014 someone.example AAAAAAE=\n',
      cosignatureLine(body, stranger, T),
    ]);
    assert.deepEqual(verifyCheckpointNote(noisy, log, [w1, w2]).cosignedBy, []);
    // the body must be a checkpoint, checked after the signature
    throwsNote(() => verifyCheckpointNote(signNote('just text\n', [log]), log, []), /checkpoint/);
    // a witness configured with the log's own key is not counted
    assert.deepEqual(verifyCheckpointNote(note, log, [log]).cosignedBy, []);
    // a plain ed25519 witness counts with a plain note signature
    const plain = signingKeyFromSeed('plain.example/w', seedOf(25));
    const both = signNote(body, [log, plain]);
    assert.deepEqual(verifyCheckpointNote(both, log, [plain, w1]).cosignedBy, [plain.name]);
    // a witness key of the wrong type does not validate a cosignature
    const w1AsPlain = signingKeyFromSeed(w1.name, seedOf(22));
    const cosigned = addSignatureLines(note, [cosignatureLine(body, w1, T)]);
    assert.deepEqual(verifyCheckpointNote(cosigned, log, [w1AsPlain]).cosignedBy, []);
    throwsNote(() => verifyCheckpointNote('garbage', log, []), /blank line/);
  });

  it('detects any changed character of the body or the log signature', () => {
    const note = signNote(body, [log]);
    for (let i = 0; i < note.length - 1; i++) {
      const changed = mutateAt(note, i);
      if (changed === note) continue;
      throwsNote(() => verifyCheckpointNote(changed, log, []));
    }
  });

  it('drops a witness whose cosignature line has any changed character', () => {
    const signed = signNote(body, [log]);
    const line = cosignatureLine(body, w1, T);
    assert.deepEqual(verifyCheckpointNote(addSignatureLines(signed, [line]), log, [w1]).cosignedBy, [w1.name]);
    const start = line.indexOf(' ') + 1;
    let checked = 0;
    for (let i = start; i < line.length - 1; i++) {
      const note = signed + mutateAt(line, i);
      let cosignedBy: string[];
      try {
        cosignedBy = verifyCheckpointNote(note, log, [w1]).cosignedBy;
      } catch (e) {
        assert.ok(e instanceof NoteError);
        continue;
      }
      assert.deepEqual(cosignedBy, [], `change at ${i} went unnoticed`);
      checked++;
    }
    assert.ok(checked > 50, `only ${checked} mutations reached verification`);
  });
});

describe('signed-note: node:crypto and noble Ed25519 agree', () => {
  it('produce identical signatures and verify each other, for random seeds and messages', () => {
    for (let i = 0; i < 120; i++) {
      const seed = new Uint8Array(randomBytes(32));
      const msg = new Uint8Array(randomBytes(i % 7 === 0 ? 0 : Math.floor(Math.random() * 300)));
      const pub = ed25519.getPublicKey(seed);
      const nodeSig = nodeEd25519Sign(seed, msg);
      const nobleSig = ed25519.sign(msg, seed);
      assert.ok(nodeSig instanceof Uint8Array && nodeSig.length === 64);
      assert.deepEqual(nodeSig, nobleSig);
      assert.equal(nodeEd25519Verify(pub, msg, nobleSig), true);
      assert.equal(ed25519.verify(nodeSig, msg, pub), true);

      const badSig = new Uint8Array(nodeSig);
      badSig[i % 64] ^= 1 << (i % 8);
      assert.equal(nodeEd25519Verify(pub, msg, badSig), false);
      assert.equal(ed25519.verify(badSig, msg, pub), false);
      if (msg.length > 0) {
        const badMsg = new Uint8Array(msg);
        badMsg[i % msg.length] ^= 0x80;
        assert.equal(nodeEd25519Verify(pub, badMsg, nodeSig), false);
        assert.equal(ed25519.verify(nodeSig, badMsg, pub), false);
      }
      const otherPub = ed25519.getPublicKey(new Uint8Array(randomBytes(32)));
      assert.equal(nodeEd25519Verify(otherPub, msg, nodeSig), false);
    }
  });

  it('signs the Go example note the same way, and rejects malformed inputs', () => {
    const peter = parseSigningKey(PETER_SKEY);
    const sig = nodeEd25519Sign(peter.secretKey, enc.encode(GO_TEXT));
    assert.deepEqual(sig, parseNote(GO_TEXT + '\n' + PETER_SIG).signatures[0]!.value);
    assert.equal(nodeEd25519Verify(peter.publicKey, enc.encode(GO_TEXT), sig), true);
    assert.equal(nodeEd25519Verify(peter.publicKey.subarray(1), enc.encode(GO_TEXT), sig), false);
    assert.equal(nodeEd25519Verify(peter.publicKey, enc.encode(GO_TEXT), sig.subarray(1)), false);
    throwsNote(() => nodeEd25519Sign(peter.secretKey.subarray(1), enc.encode(GO_TEXT)), /32 bytes/);
  });
});
