/**
 * Plate voting (edge/lane/plate-vote.ts): a lane combines the reads of
 * several frames into one plate, grouped by length and format, voted per
 * character position, with order-independent tie-breaks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PlateVote, defaultVoteOptions, votePlates } from '../../edge/lane/plate-vote.js';
import type { VoteInput, VoteResult } from '../../edge/lane/plate-vote.js';
import { areLookAlikes } from '../../proto/look-alikes.js';

const CN = 'CN blue';
const read = (text: string, charConfidences: number[], format = CN): VoteInput => ({ text, charConfidences, format });
const flat = (text: string, c: number, format = CN): VoteInput =>
  read(
    text,
    [...text].map(() => c),
    format,
  );
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const near = (a: number, b: number, what = ''): void => assert.ok(Math.abs(a - b) < 1e-9, `${what} ${a} vs ${b}`);

// Small alphabet (look-alikes, province characters, one beyond the BMP) and short texts, so reads collide and tie often.
const ALPHABET = [...'皖京A8B1I0O𠀀'];
const FORMATS = [CN, 'US generic'];
const conf = fc.oneof(fc.constantFrom(0, 0.25, 0.5, 0.75, 1), fc.double({ min: 0, max: 1, noNaN: true }));
const textOf = (min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...ALPHABET), { minLength: min, maxLength: max }).map((cs) => cs.join(''));
const readOfText = (text: string, format: fc.Arbitrary<string>): fc.Arbitrary<VoteInput> =>
  fc.record({
    text: fc.constant(text),
    charConfidences: fc.array(conf, { minLength: [...text].length, maxLength: [...text].length }),
    format,
  });
const anyRead = textOf(1, 4).chain((t) => readOfText(t, fc.constantFrom(...FORMATS)));
/** Noisy reads of one plate: each read is the plate with some characters swapped for others. */
const noisyReads = fc
  .tuple(textOf(2, 4), fc.array(fc.array(fc.option(fc.constantFrom(...ALPHABET), { freq: 3 })), { maxLength: 8 }))
  .chain(([plate, edits]) =>
    fc.tuple(
      ...edits.map((e) => readOfText([...plate].map((c, i) => e[i] ?? c).join(''), fc.constantFrom(...FORMATS))),
    ),
  );
const reads = fc.oneof(fc.array(anyRead, { maxLength: 8 }), noisyReads);
const runs = { numRuns: 200 };

/** Invariants every result must satisfy, checked against the reads by an independent oracle. */
function checkInvariants(input: VoteInput[], r: VoteResult): void {
  assert.equal(r.frames, input.length);
  if (input.length === 0) {
    assert.deepEqual(r, votePlates([]));
    return;
  }
  assert.ok(r.confidence >= 0 && r.confidence <= 1, `confidence ${r.confidence}`);
  assert.equal(r.confidence, Math.min(...r.charConfidences));
  const chars = [...r.text];
  assert.equal(r.charConfidences.length, chars.length);
  // The winning group is one with the largest mass (to rounding).
  const mass = new Map<string, number>();
  const key = (n: number, f: string): string => `${n}|${f}`;
  for (const x of input) {
    const k = key([...x.text].length, x.format);
    mass.set(k, (mass.get(k) ?? 0) + mean(x.charConfidences));
  }
  const heaviest = Math.max(...mass.values());
  const won = mass.get(key(chars.length, r.format));
  assert.ok(won !== undefined && won >= heaviest - 1e-9, `group ${key(chars.length, r.format)} is not the heaviest`);
  const group = input.filter((x) => [...x.text].length === chars.length && x.format === r.format);
  chars.forEach((c, p) => {
    const voters = group.filter((x) => [...x.text][p] === c);
    assert.ok(voters.length > 0, `${c} at ${p} was read by no one`);
    const top = Math.max(...voters.map((x) => x.charConfidences[p]!));
    assert.ok(r.charConfidences[p]! >= 0 && r.charConfidences[p]! <= top + 1e-12, `position ${p} above its best read`);
  });
  assert.equal(r.agreeing, input.filter((x) => x.text === r.text).length);
}

describe('votePlates: examples', () => {
  it('three agreeing reads give that text, confidently', () => {
    const r = votePlates([
      read('皖A12345', [0.9, 0.95, 0.97, 0.93, 0.96, 0.92, 0.94]),
      read('皖A12345', [0.95, 0.91, 0.92, 0.96, 0.94, 0.97, 0.9]),
      read('皖A12345', [0.92, 0.93, 0.95, 0.91, 0.93, 0.95, 0.96]),
    ]);
    assert.equal(r.text, '皖A12345');
    assert.equal(r.format, CN);
    assert.deepEqual(r.charConfidences, [0.95, 0.95, 0.97, 0.96, 0.96, 0.97, 0.96]);
    assert.equal(r.confidence, 0.95);
    assert.equal(r.frames, 3);
    assert.equal(r.agreeing, 3);
    assert.equal(r.confident, true);
  });

  it('two reads outvote a third that is less sure of the character they differ on', () => {
    const r = votePlates([
      flat('皖A12345', 0.9),
      read('皖A12845', [0.9, 0.9, 0.9, 0.9, 0.5, 0.9, 0.9]),
      flat('皖A12345', 0.88),
    ]);
    assert.equal(r.text, '皖A12345');
    assert.equal(r.agreeing, 2);
    assert.equal(r.frames, 3);
    // position 4: '3' has 0.9 + 0.88 of 2.28, times its best read 0.9
    near(r.charConfidences[4]!, (1.78 / 2.28) * 0.9, 'dissent lowers the character');
    near(r.confidence, (1.78 / 2.28) * 0.9);
    assert.equal(r.confident, false, 'the dissent keeps it below 0.9');
  });

  it('fuses per character: each read has a different unsure error, the vote has none of them', () => {
    const plate = 'PP587A0';
    const wrong = (i: number, c: string): VoteInput => {
      const cs = [...plate];
      assert.ok(areLookAlikes(cs[i]!, c), 'errors are look-alikes, as OCR makes them');
      cs[i] = c;
      return read(
        cs.join(''),
        cs.map((_, j) => (j === i ? 0.4 : 0.95)),
        'SK/FR/IT',
      );
    };
    const input = [wrong(2, 'S'), wrong(3, 'B'), wrong(6, 'O')];
    assert.ok(!input.some((x) => x.text === plate));
    const r = votePlates(input);
    assert.equal(r.text, plate);
    assert.equal(r.agreeing, 0);
    near(r.confidence, (1.9 / 2.3) * 0.95);
    assert.equal(r.confident, false, 'no frame read the whole plate');
  });

  it('a lone read at 0.6 is not confident and stays at 0.6', () => {
    const r = votePlates([flat('AB123CD', 0.6)]);
    assert.equal(r.text, 'AB123CD');
    assert.equal(r.confidence, 0.6);
    assert.equal(r.agreeing, 1);
    assert.equal(r.confident, false);
  });

  it('a single read at or above singleFrameConfident is enough on its own', () => {
    assert.equal(votePlates([flat('AB123CD', 0.97)]).confident, true);
    assert.equal(votePlates([flat('AB123CD', 0.99)]).confident, true);
    assert.equal(votePlates([flat('AB123CD', 0.96)]).confident, false, 'below it, one frame is not enough');
    assert.equal(votePlates([flat('AB123CD', 0.9)], { singleFrameConfident: 0.9 }).confident, true);
    const dissent = votePlates([flat('AB123CD', 0.99), read('AB128CD', [0.5, 0.5, 0.5, 0.5, 0.3, 0.5, 0.5])]);
    assert.equal(dissent.text, 'AB123CD');
    assert.equal(dissent.confident, false, 'not when another frame disagrees');
  });

  it('needs minAgreeing frames on the whole text for the ordinary threshold', () => {
    const two = [flat('AB123CD', 0.93), flat('AB123CD', 0.91)];
    assert.equal(votePlates(two).confident, true);
    assert.equal(votePlates(two, { minAgreeing: 3 }).confident, false);
    assert.equal(votePlates(two, { confident: 0.95 }).confident, false);
    assert.equal(votePlates([flat('AB123CD', 0.93)], { minAgreeing: 1 }).confident, true);
  });

  it('reads of another length or format count as frames but not in positions; the heavier group wins', () => {
    const r = votePlates([
      flat('AB123CD', 0.7, 'SK/FR/IT'),
      flat('AB12CD', 0.9, 'US generic'),
      flat('AB12CD', 0.8, 'US generic'),
      flat('A812CD', 0.6, 'US generic'),
      flat('AB123C', 0.95, 'CN blue'),
    ]);
    assert.equal(r.text, 'AB12CD');
    assert.equal(r.format, 'US generic');
    assert.equal(r.frames, 5);
    assert.equal(r.agreeing, 2);
    near(r.charConfidences[1]!, (1.7 / 2.3) * 0.9);
    near(r.charConfidences[0]!, 0.9);

    const heavier = votePlates([flat('AB123CD', 0.9), flat('AB123CD', 0.9), flat('AB12CD', 0.99)]);
    assert.equal(heavier.text, 'AB123CD', 'two frames outweigh one surer frame of another length');
    assert.equal(heavier.frames, 3);
  });

  it('breaks ties the same way whatever the order: heavier, more frames, longer, format name, lowest code point', () => {
    // equal mass (1): the group with more frames wins, even though it is shorter
    const more = [flat('AB12', 1, 'X'), flat('AB1', 0.5, 'Y'), flat('AB1', 0.5, 'Y')];
    assert.equal(votePlates(more).text, 'AB1');
    // equal mass and frames: the longer text, then the format name
    assert.equal(votePlates([flat('AB1', 0.8, 'X'), flat('AB12', 0.8, 'Y')]).text, 'AB12');
    assert.equal(votePlates([flat('AB1', 0.8, 'Y'), flat('AB2', 0.8, 'X')]).format, 'X');
    // equal weight at a position: the lowest code point
    for (const pair of [
      [flat('A1', 0.8), flat('B1', 0.8)],
      [flat('B1', 0.8), flat('A1', 0.8)],
    ]) {
      const r = votePlates(pair);
      assert.equal(r.text, 'A1');
      assert.equal(r.confidence, 0.4);
    }
    assert.equal(
      votePlates([flat('𠀀1', 0.8), flat('\uffff1', 0.8)]).text,
      '\uffff1',
      'by code point, not UTF-16 unit',
    );
  });

  it('counts characters as code points', () => {
    const r = votePlates([read('𠀀A1', [0.9, 0.8, 0.7]), read('𠀀A1', [0.7, 0.9, 0.8])]);
    assert.equal(r.text, '𠀀A1');
    assert.deepEqual(r.charConfidences, [0.9, 0.9, 0.8]);
  });

  it('no reads: empty text, nothing confident', () => {
    const expected = {
      text: '',
      format: '',
      confidence: 0,
      charConfidences: [],
      frames: 0,
      agreeing: 0,
      confident: false,
    };
    assert.deepEqual(votePlates([]), expected);
    assert.deepEqual(new PlateVote().result, expected);
  });

  it('rejects malformed reads and options with RangeError', () => {
    const bad: VoteInput[] = [
      read('AB1', [0.9, 0.9]),
      read('皖A1', [0.9, 0.9, 0.9, 0.9]),
      read('𠀀A1', [0.9, 0.9, 0.9, 0.9]), // counts UTF-16 units, not code points
      read('AB1', [0.9, 1.1, 0.9]),
      read('AB1', [0.9, -0.1, 0.9]),
      read('AB1', [0.9, NaN, 0.9]),
      read('AB1', [0.9, Infinity, 0.9]),
      // eslint-disable-next-line no-sparse-arrays
      read('AB1', [0.9, , 0.9] as number[]),
      read('AB1', [0.9, '0.5', 0.9] as unknown as number[]),
      read('', []),
    ];
    for (const r of bad) {
      assert.throws(() => votePlates([flat('AB1', 0.9), r]), RangeError, JSON.stringify(r));
      const vote = new PlateVote();
      vote.add(flat('AB1', 0.9));
      assert.throws(() => vote.add(r), RangeError);
      assert.equal(vote.result.frames, 1, 'a rejected read is not counted');
    }
    assert.doesNotThrow(() => votePlates([read('皖A1', [0, 1, 0.5])]));
    assert.throws(() => new PlateVote({ confident: 1.5 }), RangeError);
    assert.throws(() => votePlates([], { singleFrameConfident: -0.1 }), RangeError);
    assert.throws(() => new PlateVote({ minAgreeing: 1.5 }), RangeError);
    assert.throws(() => new PlateVote({ minAgreeing: -1 }), RangeError);
  });

  it('PlateVote keeps its own copies: changing a read or a result afterwards changes nothing', () => {
    const vote = new PlateVote();
    const input = flat('AB1', 0.9);
    vote.add(input);
    input.charConfidences[0] = 0;
    const first = vote.result;
    first.charConfidences[0] = 0;
    assert.deepEqual(vote.result.charConfidences, [0.9, 0.9, 0.9]);
  });

  it('defaults are as documented', () => {
    assert.deepEqual({ ...defaultVoteOptions }, { confident: 0.9, minAgreeing: 2, singleFrameConfident: 0.97 });
  });
});

describe('votePlates: properties', () => {
  it('does not depend on the order of reads, nor on adding them one at a time', () => {
    fc.assert(
      fc.property(
        reads.chain((rs) => fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length }))),
        ([rs, shuffled]) => {
          const r = votePlates(rs);
          assert.deepEqual(votePlates(shuffled), r);
          const vote = new PlateVote();
          let last = vote.result;
          for (const x of shuffled) last = vote.add(x);
          assert.deepEqual(last, r);
          assert.deepEqual(vote.result, r);
        },
      ),
      runs,
    );
  });

  it('keeps its invariants on any reads', () => {
    fc.assert(
      fc.property(reads, (rs) => checkInvariants(rs, votePlates(rs))),
      runs,
    );
  });

  it('unanimous reads give that text, each character at its best read', () => {
    fc.assert(
      fc.property(
        textOf(1, 8).chain((t) => fc.array(readOfText(t, fc.constant(CN)), { minLength: 1, maxLength: 6 })),
        (rs) => {
          const r = votePlates(rs);
          assert.equal(r.text, rs[0]!.text);
          assert.equal(r.agreeing, rs.length);
          const best = rs[0]!.charConfidences.map((_, p) => Math.max(...rs.map((x) => x.charConfidences[p]!)));
          assert.deepEqual(r.charConfidences, best);
          assert.equal(r.confidence, Math.min(...best));
        },
      ),
      runs,
    );
  });

  it('a read agreeing with the winner keeps the winner and does not lower agreeing', () => {
    fc.assert(
      fc.property(
        reads
          .filter((rs) => rs.length > 0)
          .chain((rs) => {
            const r = votePlates(rs);
            return fc.tuple(fc.constant(rs), fc.constant(r), readOfText(r.text, fc.constant(r.format)), fc.nat());
          }),
        ([rs, before, extra, at]) => {
          const more = [...rs];
          more.splice(at % (rs.length + 1), 0, extra);
          const after = votePlates(more);
          assert.equal(after.text, before.text);
          assert.equal(after.format, before.format);
          assert.ok(after.agreeing >= before.agreeing);
          assert.equal(after.frames, before.frames + 1);
        },
      ),
      runs,
    );
  });

  it('confident only as the options say', () => {
    fc.assert(
      fc.property(
        reads,
        fc.record({ confident: conf, minAgreeing: fc.nat(4), singleFrameConfident: conf }),
        (rs, o) => {
          const r = votePlates(rs, o);
          const expected =
            r.agreeing >= 1 &&
            ((r.agreeing >= o.minAgreeing && r.confidence >= o.confident) || r.confidence >= o.singleFrameConfident);
          assert.equal(r.confident, expected);
        },
      ),
      runs,
    );
  });
});
