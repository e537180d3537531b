// The accounting export streams: 100,000 settlements (written straight into the database, as fast as it
// takes) exported over real HTTP from an in-process cloud while the test samples the process's live memory
// (JS heap and buffers, after a full GC, every 256 KiB received). It must stay far below the CSV's size (< 1/4 of its
// bytes): a cloud that built the whole file, or read every row at once, would hold all of it. Every
// settlement must be in the file exactly once and the amounts must add up. On both backends (the same
// 100,000 rows on PostgreSQL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import { ADMIN_KEY, T0, TEST_POSTGRES, TestCloud, queryCloudDatabase, setUpLot } from './cloud-harness.js';

const SETTLEMENTS = 100_000;
/** settlement i: settled at T0 + i s (2026-03-02 08:00 in UTC+8, so over two local days), amount i % 5000 */
const amountOf = (i: number) => i % 5000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** what the process holds after a full GC: the JS heap and the buffers outside it (socket write queues) */
function liveMemory(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Writes the sessions and settlements in two statements (the test's set-up, not the code under test). */
async function insertSettlements(t: TestCloud, lotId: string, laneId: string): Promise<void> {
  if (TEST_POSTGRES) {
    const rows = `FROM generate_series(0, ${SETTLEMENTS - 1}) AS n`;
    await queryCloudDatabase(
      t.dbPath,
      `INSERT INTO parking_sessions (id, lot_id, plate, entry_event_id, entry_lane_id, entry_at, entry_confidence,
         status, exit_event_id, exit_at, fee, paid_at, passback_flag)
       SELECT 'ses_' || lpad(to_hex(n), 32, '0'), ?, 'A' || lpad(n::text, 6, '0'), 'in-' || n, ?,
         ${T0} + n * 1000 - 3600000, 0.99, 'closed', 'out-' || n, ${T0} + n * 1000, n % 5000, NULL, 0 ${rows}`,
      [lotId, laneId],
    );
    await queryCloudDatabase(
      t.dbPath,
      `INSERT INTO settlements (id, exit_event_id, session_id, lot_id, account_id, driver_id, amount, currency,
         entry_at, exit_at, method, journal_entry_id, created_at)
       SELECT 'stl_' || lpad(to_hex(n), 32, '0'), 'out-' || n, 'ses_' || lpad(to_hex(n), 32, '0'), ?, NULL, NULL,
         n % 5000, 'CNY', ${T0} + n * 1000 - 3600000, ${T0} + n * 1000, 'waived', NULL, ${T0} + n * 1000 ${rows}`,
      [lotId],
    );
    return;
  }
  const db = new Database(t.dbPath);
  try {
    db.pragma('busy_timeout = 10000');
    const rows = `WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < ${SETTLEMENTS - 1})`;
    db.transaction(() => {
      db.prepare(
        `${rows} INSERT INTO parking_sessions (id, lot_id, plate, entry_event_id, entry_lane_id, entry_at,
           entry_confidence, status, exit_event_id, exit_at, fee, paid_at, passback_flag)
         SELECT printf('ses_%032x', n), ?, printf('A%06d', n), 'in-' || n, ?, ${T0} + n * 1000 - 3600000, 0.99,
           'closed', 'out-' || n, ${T0} + n * 1000, n % 5000, NULL, 0 FROM k`,
      ).run(lotId, laneId);
      db.prepare(
        `${rows} INSERT INTO settlements (id, exit_event_id, session_id, lot_id, account_id, driver_id, amount,
           currency, entry_at, exit_at, method, journal_entry_id, created_at)
         SELECT printf('stl_%032x', n), 'out-' || n, printf('ses_%032x', n), ?, NULL, NULL, n % 5000, 'CNY',
           ${T0} + n * 1000 - 3600000, ${T0} + n * 1000, 'waived', NULL, ${T0} + n * 1000 FROM k`,
      ).run(lotId);
    })();
  } finally {
    db.close();
  }
}

test(
  'the CSV export of 100,000 settlements streams in bounded memory, each settlement once',
  { timeout: 600_000 },
  async (context) => {
    const t = await TestCloud.start();
    try {
      const { lotId, entry } = await setUpLot(t);
      await insertSettlements(t, lotId, entry);

      gc();
      const baseline = liveMemory();
      let peak = baseline;
      const res = await fetch(`${t.url}/v1/lots/${lotId}/settlements.csv?from=2026-03-02&to=2026-03-03`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      assert.equal(res.status, 200);
      // the lines are counted as they come; nothing of the file is kept but the last partial line
      const seen = new Uint8Array(SETTLEMENTS);
      let sum = 0;
      let lines = 0;
      let bytes = 0;
      let sinceSample = 0;
      let partial = '';
      const decoder = new TextDecoder();
      const take = (line: string) => {
        lines++;
        if (lines === 1) return assert.match(line, /^settlement_id,session_id,plate,/);
        const fields = line.split(',');
        const i = parseInt(fields[0]!.slice(4), 16);
        assert.ok(i >= 0 && i < SETTLEMENTS, line);
        seen[i]!++;
        assert.equal(Number(fields[5]), amountOf(i), line);
        sum += Number(fields[5]);
      };
      for await (const chunk of res.body!) {
        bytes += chunk.byteLength;
        sinceSample += chunk.byteLength;
        const text = partial + decoder.decode(chunk, { stream: true });
        const parts = text.split('\r\n');
        partial = parts.pop()!;
        for (const line of parts) take(line);
        if (sinceSample >= 256 * 1024) {
          sinceSample = 0;
          gc();
          peak = Math.max(peak, liveMemory());
        }
      }
      assert.equal(partial, '', 'the file ends with a complete line');
      assert.equal(lines, SETTLEMENTS + 1);
      const twice = seen.findIndex((n) => n !== 1);
      assert.equal(twice, -1, `settlement ${twice} is in the file ${seen[twice]} times`);
      let expected = 0;
      for (let i = 0; i < SETTLEMENTS; i++) expected += amountOf(i);
      assert.equal(sum, expected);
      const growth = peak - baseline;
      const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
      context.diagnostic(`CSV ${mb(bytes)}; live memory grew at most ${mb(growth)} while it streamed`);
      assert.ok(growth < bytes / 4, `live memory grew by ${mb(growth)} for a CSV of ${mb(bytes)}: not streamed`);
    } finally {
      await t.stop();
    }
  },
);
