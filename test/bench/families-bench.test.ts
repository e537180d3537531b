/**
 * `platepay bench families` (bench/families-bench.ts) on a few scenes: one
 * figure per family, with both readers' counts, rates and the misses that
 * explain every scene not read right.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { familyCountry, runFamiliesBench } from '../../bench/families-bench.js';
import { plateStyles } from '../../scenes/plate-renderer.js';

describe('bench families', { timeout: 300_000 }, () => {
  it('names a country for every plate style', () => {
    for (const style of plateStyles) assert.ok(familyCountry[style], style);
  });

  it('reads each family with all regions and with its own, and lists every scene it missed', async () => {
    const lines: string[] = [];
    const result = await runFamiliesBench({ styles: ['br-old', 'cn-hk'], scenes: 2, firstSeed: 10_001 }, (m) =>
      lines.push(m),
    );
    assert.deepEqual(result.seeds, { first: 10_001, last: 10_002 });
    assert.deepEqual(
      result.families.map((f) => [f.style, f.country, f.scenes]),
      [
        ['br-old', 'BR', 2],
        ['cn-hk', 'CN', 2],
      ],
    );
    for (const f of result.families) {
      const missedAll = f.misses.filter((m) => m.allRegions !== m.expected).length;
      const missedOwn = f.misses.filter((m) => m.ownRegion !== m.expected).length;
      assert.equal(f.rightAllRegions, f.scenes - missedAll, `${f.style}: all regions`);
      assert.equal(f.rightOwnRegion, f.scenes - missedOwn, `${f.style}: own region`);
      assert.equal(f.rateAllRegions, f.rightAllRegions / f.scenes);
      assert.equal(f.meetsTargets, f.rateAllRegions >= 0.95 && f.rateOwnRegion >= 0.98);
    }
    assert.equal(result.worstRateAllRegions, Math.min(...result.families.map((f) => f.rateAllRegions)));
    assert.equal(lines.length, 2, 'one progress line per family');
  });
});
