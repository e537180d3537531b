/**
 * The dashboard's write-behind queue (cloud/web/write-queue.ts): a push
 * never writes in the caller's turn; items are written in order, in
 * batches; `flushed` waits for what was pushed before it; a failed batch is
 * logged and the queue goes on; a full queue drops (and says so) instead of
 * growing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WriteQueue } from '../../cloud/web/write-queue.js';

function recorder() {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  return {
    lines,
    log: {
      warn: (obj: object, msg: string) => lines.push({ level: 'warn', obj, msg }),
      error: (obj: object, msg: string) => lines.push({ level: 'error', obj, msg }),
    },
  };
}

describe('dashboard write queue', () => {
  it('writes after the caller returns, in order and in batches; flushed waits for earlier pushes', async () => {
    const batches: number[][] = [];
    const { log, lines } = recorder();
    const q = new WriteQueue<number>({
      what: 'numbers',
      log,
      limit: 100,
      batch: 3,
      write: (b) => void batches.push(b),
    });
    for (let i = 1; i <= 7; i++) assert.equal(q.push(i), true);
    assert.deepEqual(batches, [], 'nothing written in the pushing turn');
    await q.flushed();
    assert.deepEqual(batches, [[1, 2, 3], [4, 5, 6], [7]]);
    await q.flushed(); // nothing pending: resolves at once
    assert.deepEqual(lines, []);
  });

  it('logs and drops a failed batch, then goes on', async () => {
    const written: number[] = [];
    const { log, lines } = recorder();
    const q = new WriteQueue<number>({
      what: 'numbers',
      log,
      limit: 100,
      batch: 1,
      write: async (b) => {
        if (b[0] === 2) throw new Error('disk on fire');
        written.push(...b);
      },
    });
    for (const i of [1, 2, 3]) q.push(i);
    await q.flushed();
    assert.deepEqual(written, [1, 3]);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 'error');
    assert.match(lines[0]!.msg, /writing numbers failed/);
  });

  it('drops what does not fit while a write is slow, and says how much', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const written: number[] = [];
    const { log, lines } = recorder();
    const q = new WriteQueue<number>({
      what: 'numbers',
      log,
      limit: 2,
      batch: 10,
      write: async (b) => {
        await slow;
        written.push(...b);
      },
    });
    q.push(1);
    await new Promise((r) => setImmediate(r)); // the first batch [1] is being written
    assert.equal(q.push(2), true);
    assert.equal(q.push(3), true);
    assert.equal(q.push(4), false, 'the queue is full');
    release();
    await q.flushed();
    assert.deepEqual(written, [1, 2, 3]);
    assert.ok(lines.some((l) => l.level === 'warn' && (l.obj as { dropped: number }).dropped === 1));
    await q.close();
    assert.equal(q.push(5), false, 'a closed queue takes nothing');
  });
});
