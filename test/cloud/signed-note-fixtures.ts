/** What the signed-note tests share: the reference keys, notes and signatures of golang.org/x/mod's sumdb/note and the C2SP spec, and mutation helpers. */
import assert from 'node:assert/strict';
import { NoteError, type Checkpoint } from '../../cloud/ledger/signed-note.js';

// golang.org/x/mod/sumdb/note note_test.go (TestSign, TestOpen)
export const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';

export const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';

export const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';

export const GO_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";

export const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

export const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

// the example in c2sp.org/tlog-cosignature (its keys are not published)
export const SPEC_CHECKPOINT = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

export const SPEC_NOTE =
  SPEC_CHECKPOINT +
  '\n' +
  '— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n' +
  '— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n';

export const enc = new TextEncoder();

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export const seedOf = (n: number) => new Uint8Array(32).fill(n);

export const throwsNote = (f: () => unknown, pattern?: RegExp) =>
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof NoteError, `expected NoteError, got ${String(e)}`);
    assert.equal(e.code, 'BAD_NOTE');
    if (pattern) assert.match(e.message, pattern);
    return true;
  });

/** replaces the character at i by a different one of the same kind */
export function mutateAt(s: string, i: number): string {
  const c = s[i]!;
  const r = c === 'A' ? 'B' : c === '\n' ? 'x' : String.fromCharCode(c.charCodeAt(0) ^ 1);
  return s.slice(0, i) + r + s.slice(i + 1);
}

export function sampleCheckpoint(size = 42, extensions: string[] = []): Checkpoint {
  return { origin: 'ledger.platepay.example/settlements', size, root: new Uint8Array(32).fill(7), extensions };
}
