/**
 * Evaluation helpers (edge/vision/evaluation.ts): labels.csv parsing,
 * Levenshtein distance over code points, nearest-rank percentiles.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DatasetError, editDistance, loadDataset, parseLabels, percentile } from '../../edge/vision/evaluation.js';

function assertDatasetError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DatasetError, `expected a DatasetError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_DATASET');
    assert.match(err.message, pattern);
    return true;
  });
}

describe('parseLabels', () => {
  it('reads scene rows with a box as x, y, width, height', () => {
    const rows = parseLabels(
      'file,plate,x1,y1,x2,y2\nimages/a.jpg,BA123CD,10,20,110,45\nimages/b.jpg,皖A12345,0.5,1.5,2.5,4\n',
    );
    assert.deepEqual(rows, [
      { file: 'images/a.jpg', plate: 'BA123CD', box: { x: 10, y: 20, width: 100, height: 25 } },
      { file: 'images/b.jpg', plate: '皖A12345', box: { x: 0.5, y: 1.5, width: 2, height: 2.5 } },
    ]);
  });

  it('reads crop rows (no box columns) with a null box', () => {
    const rows = parseLabels('file,plate\nimages/c1.png,7ABC123\nimages/c2.png,粤BD23456');
    assert.deepEqual(rows, [
      { file: 'images/c1.png', plate: '7ABC123', box: null },
      { file: 'images/c2.png', plate: '粤BD23456', box: null },
    ]);
  });

  it('treats a row with empty box cells as a crop in a scene file', () => {
    const rows = parseLabels('file,plate,x1,y1,x2,y2\na.jpg,AB123,1,2,3,4\nb.png,CD456,,,,\n');
    assert.deepEqual(
      rows.map((r) => r.box),
      [{ x: 1, y: 2, width: 2, height: 2 }, null],
    );
  });

  it('finds columns by name in any order, with extra columns and spaces around names', () => {
    const rows = parseLabels(' y2 , plate ,note, x1,file,y1,x2\n40,ab-123 cd,seen twice,10,f.jpg,20,110\n');
    assert.deepEqual(rows, [{ file: 'f.jpg', plate: 'AB123CD', box: { x: 10, y: 20, width: 100, height: 20 } }]);
  });

  it('normalises plates (lower case, separators, full width)', () => {
    const rows = parseLabels('file,plate\na.png,ba 123-cd\nb.png,皖A·12345\nc.png,ＡＢＣ１２３');
    assert.deepEqual(
      rows.map((r) => r.plate),
      ['BA123CD', '皖A12345', 'ABC123'],
    );
  });

  it('strips a byte-order mark and accepts CRLF line ends and blank lines', () => {
    const csv = '\uFEFFfile,plate,x1,y1,x2,y2\r\nimages/a.jpg,BA123CD,1,2,3,4\r\n\r\nimages/b.jpg,PP587AO,5,6,7,8\r\n';
    const rows = parseLabels(csv);
    assert.deepEqual(
      rows.map((r) => [r.file, r.plate, r.box]),
      [
        ['images/a.jpg', 'BA123CD', { x: 1, y: 2, width: 2, height: 2 }],
        ['images/b.jpg', 'PP587AO', { x: 5, y: 6, width: 2, height: 2 }],
      ],
    );
  });

  it('rejects a header without "file" or "plate", naming both columns and the source', () => {
    for (const header of ['image,plate', 'file,text', 'name,number,x1,y1,x2,y2', '']) {
      assertDatasetError(
        () => parseLabels(`${header}\nx.jpg,AB123\n`, 'data/labels.csv'),
        /data\/labels\.csv.*"file".*"plate"/,
      );
    }
  });

  it('rejects a non-numeric box, naming the line', () => {
    assertDatasetError(
      () => parseLabels('file,plate,x1,y1,x2,y2\na.jpg,AB123,1,2,3,4\nb.jpg,CD456,1,two,3,4\n'),
      /labels\.csv line 3: box is not numeric/,
    );
    assertDatasetError(() => parseLabels('file,plate,x1,y1,x2,y2\na.jpg,AB123,1,2,3\n'), /line 2: box is not numeric/);
  });

  it('rejects a row without a file or with a plate that is not plate text', () => {
    assertDatasetError(() => parseLabels('file,plate\n,AB123\n'), /line 2: needs a file and a plate/);
    assertDatasetError(() => parseLabels('file,plate\na.jpg,\n'), /line 2: needs a file and a plate/);
    assertDatasetError(() => parseLabels('file,plate\na.jpg,AB#12\n'), /line 2/);
  });

  it('reads Cyrillic and Greek labels as the Latin twins their plates show; names a character with no twin', () => {
    const rows = parseLabels('file,plate\na.jpg,А123ВС77\nb.jpg,аа 1234 вх\nc.jpg,ΙΚΖ-1234\n');
    assert.deepEqual(
      rows.map((r) => r.plate),
      ['A123BC77', 'AA1234BX', 'IKZ1234'],
    );
    assertDatasetError(
      () => parseLabels('file,plate\na.jpg,Д123ВС77\n'),
      /line 2: plate "Д123ВС77" holds characters no plate alphabet has/,
    );
  });

  it('rejects a box whose second corner is not below and right of the first', () => {
    assertDatasetError(() => parseLabels('file,plate,x1,y1,x2,y2\na.jpg,AB123,10,2,3,4\n'), /line 2: box has x2 <= x1/);
    assertDatasetError(
      () => parseLabels('file,plate,x1,y1,x2,y2\na.jpg,AB123,1,20,3,4\n'),
      /line 2: box has x2 <= x1 or y2 <= y1/,
    );
  });

  it('names the line of the file a bad row is on, counting blank lines', () => {
    // the bad plate is on line 4 of the file (line 3 is blank)
    assertDatasetError(() => parseLabels('file,plate\r\na.jpg,AB123\r\n\r\nb.jpg,AB#12\r\n'), /labels\.csv line 4:/);
  });

  it('loadDataset names labels.csv when it is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eval-test-'));
    try {
      await assert.rejects(loadDataset(dir), (err: unknown) => {
        assert.ok(err instanceof DatasetError);
        assert.match(err.message, /labels\.csv/);
        assert.ok(err.message.includes(dir), err.message);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Textbook Levenshtein by recursion with memo, over code points (a reference for small strings). */
function referenceDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const memo = new Map<string, number>();
  const d = (i: number, j: number): number => {
    if (i === 0) return j;
    if (j === 0) return i;
    const key = `${i},${j}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const v = Math.min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (x[i - 1] === y[j - 1] ? 0 : 1));
    memo.set(key, v);
    return v;
  };
  return d(x.length, y.length);
}

describe('editDistance', () => {
  const text = fc.string({ unit: fc.constantFrom(...'ABC0128皖京', '𝔸'), maxLength: 9 });

  it('knows some distances', () => {
    assert.equal(editDistance('', ''), 0);
    assert.equal(editDistance('ABC', ''), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('PP587A0', 'PP587AO'), 1);
    assert.equal(editDistance('皖A12345', '京A12345'), 1);
    assert.equal(editDistance('皖A12345', 'A12345'), 1);
    // counted in code points, not UTF-16 units
    assert.equal(editDistance('𝔸B', 'AB'), 1);
    assert.equal(editDistance('𝔸', ''), 1);
  });

  it('is 0 exactly for equal strings, symmetric, and between the length difference and the longer length (property)', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const d = editDistance(a, b);
        const la = [...a].length;
        const lb = [...b].length;
        assert.equal(editDistance(a, a), 0);
        assert.equal(d === 0, a === b);
        assert.equal(d, editDistance(b, a));
        assert.ok(d >= Math.abs(la - lb) && d <= Math.max(la, lb), `${a} / ${b}: ${d}`);
      }),
    );
  });

  it('obeys the triangle inequality (property)', () => {
    fc.assert(
      fc.property(text, text, text, (a, b, c) => {
        assert.ok(editDistance(a, c) <= editDistance(a, b) + editDistance(b, c));
      }),
    );
  });

  it('matches a reference implementation (property)', () => {
    fc.assert(fc.property(text, text, (a, b) => assert.equal(editDistance(a, b), referenceDistance(a, b))));
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentile(ten, 50), 5);
    assert.equal(percentile(ten, 95), 10);
    assert.equal(percentile(ten, 99), 10);
    assert.equal(percentile(ten, 90), 9);
    assert.equal(percentile(ten, 100), 10);
    assert.equal(percentile(ten, 0), 1);
    assert.equal(percentile([7], 50), 7);
    assert.equal(percentile([], 50), 0);
    assert.equal(percentile([3, 9], 50), 3);
  });

  it('is an element, monotone in p, with at least p% of the elements at or below it (property)', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 50 })
          .map((a) => a.sort((x, y) => x - y)),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (sorted, p, q) => {
          const v = percentile(sorted, p);
          assert.ok(sorted.includes(v));
          if (p <= q) assert.ok(v <= percentile(sorted, q));
          const atOrBelow = sorted.filter((x) => x <= v).length;
          assert.ok(atOrBelow >= (p / 100) * sorted.length - 1e-9, `p${p} of ${sorted}: ${v}`);
          // and it is the smallest such element
          const below = sorted.filter((x) => x < v).length;
          assert.ok(
            below < Math.max(1, (p / 100) * sorted.length) + 1e-9,
            `p${p} of ${sorted}: ${v} is not the nearest rank`,
          );
        },
      ),
    );
  });
});
