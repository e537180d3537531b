/**
 * The operator stream (GET /web/api/operator/stream, server-sent events)
 * over real HTTP: a review item queued and resolved between two of the
 * server's checks still makes a `change` event. The open queue looks the
 * same before and after, but a page may have shown the item in between
 * (read on another change, such as a gate's report): without the event it
 * would keep showing it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, TestCloud, eventId, setUpLot } from './cloud-harness.js';

describe('operator stream', { timeout: 120_000 }, () => {
  let t: TestCloud;
  let lanes: { entry: string; exit: string };
  before(async () => {
    t = await TestCloud.start();
    lanes = await setUpLot(t, 'Stream P1');
  });
  after(async () => {
    await t.stop();
  });

  /** the stream's change events, as they arrive */
  async function openStream() {
    const abort = new AbortController();
    const res = await fetch(`${t.url}/web/api/operator/stream`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let changes = 0;
    const waiters: Array<() => void> = [];
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (/^event: change$/m.test(block)) {
              changes++;
              for (const w of waiters.splice(0)) w();
            }
          }
        }
      } catch {
        // aborted
      }
    })();
    return {
      /** resolves at the next change event after now */
      nextChange: () => new Promise<void>((resolve) => waiters.push(resolve)),
      get changes() {
        return changes;
      },
      close: () => abort.abort(),
    };
  }

  const queueReview = async (plate: string) => {
    const r = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: lanes.exit, plate, confidence: 0.97, at: t.clock.now() },
    });
    assert.equal(r.body.reason, 'review', JSON.stringify(r.body));
    return r.body.reviewId as string;
  };

  it('tells of a review item queued and resolved between two checks', async () => {
    const stream = await openStream();
    try {
      // a first change, so the server is known to be watching
      const first = stream.nextChange();
      await queueReview('皖E10001');
      await first;
      // queued and resolved at once: the open queue is as it was
      const next = stream.nextChange();
      const id = await queueReview('皖E10002');
      const resolved = await t.call('POST', `/v1/reviews/${id}/resolve`, {
        token: ADMIN_KEY,
        body: { action: 'dismiss' },
      });
      assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
      await next;
    } finally {
      stream.close();
    }
  });
});
