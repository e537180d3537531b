/**
 * Bounded load (loopback only, `npm run test:faults`; skipped in `npm test`):
 * 1,000 simulated gates connect over real WebSockets, each admitted by
 * signing the challenge; each sends signed exits at about one every 2 s
 * (a busy lane: 500 exits/s offered in all, about 12 s of load). Every exit
 * must be charged once, and the p99 time from sending an exit to its
 * decision must stay under a lane's budget (1,500 ms), so no lane would
 * fall back to its offline policy. (A load bound, not a speed figure:
 * `platepay bench cloud` measures the speed, with gates sending as fast as
 * the cloud answers.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runOnce } from '../../bench/cloud/cloud-bench.js';

const FULL = Boolean(process.env.PLATEPAY_FAULTS_FULL);
const LANE_BUDGET_MS = 1500;

describe('load: 1,000 gate connections', { timeout: 300_000 }, () => {
  it(
    'settles every exit once with p99 decision latency under the lane budget',
    {
      skip: FULL ? false : 'slow: npm run test:faults',
    },
    async (t) => {
      const run = await runOnce(1000, 6, true, () => undefined, 2000);
      t.diagnostic(
        `${run.exits} exits from ${run.gates} gates: ${run.exitsPerSecond} exits/s, ` +
          `decision p50 ${run.decisionP50Ms} ms, p99 ${run.decisionP99Ms} ms, max ${run.decisionMaxMs} ms`,
      );
      assert.equal(run.charged, run.exits, 'every exit charged');
      assert.ok(run.decisionP99Ms < LANE_BUDGET_MS, `p99 ${run.decisionP99Ms} ms is over the lane budget`);
    },
  );
});
