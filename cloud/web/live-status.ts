/**
 * The operator dashboard's data: lots with their lanes (latest reads with
 * crops, the last barrier command, and the lane and barrier state the gate
 * reports) and gates (online or not, their offline queue), the open
 * review queue with the sessions a read could belong to, today's
 * settlements per lot, and the latest ledger checkpoint with its
 * cosignatures. Reads come from the read log (lane-read-log.ts), gate state
 * from the gate board (gate-board.ts); on PostgreSQL both hold every
 * instance's gates.
 *
 * `watch` tells a subscriber when any of it changed: at once for this
 * instance's gate activity (connections, lane events, a gate status that
 * differs from the gate's last one, or an unchanged one every 30 s, so the
 * report time stays fresh without a refresh every 5 s per gate), and within
 * a second for what the API and other instances change (review queue,
 * ledger, and on PostgreSQL other instances' reads and gates), by polling a
 * cheap fingerprint while anyone watches. The fingerprint counts what
 * happened, not only what is: a review item queued and resolved between
 * two polls changes it (a page may have shown the item meanwhile). Every lane event the gates send
 * is written to the read log here, whether anyone watches or not.
 */
import type { Clock } from '../../time/clock.js';
import type { GateActivity, GateStatusSeen, LaneEventSeen } from '../gates/gate-activity.js';
import type { Ledger } from '../ledger/ledger.js';
import type { NoteKey } from '../ledger/signed-note.js';
import { parseNote, verifyCheckpointNote, verifyCosignature } from '../ledger/signed-note.js';
import type { SettlementRecord } from '../ledger/settlement-record.js';
import type { ParkingSession, ReviewItem, Store } from '../storage/repositories.js';
import type { GateBoard } from './gate-board.js';
import { StatusFilter } from './gate-board.js';
import type { LaneRead, LaneReadLog } from './lane-read-log.js';

export interface LiveStatusDeps {
  store: Store;
  ledger: Ledger;
  /** this process's gates, for changes to pass on at once */
  activity: GateActivity;
  reads: LaneReadLog;
  gates: GateBoard;
  clock: Clock;
  logKey: NoteKey;
  witnesses: NoteKey[];
  quorum: number;
}

export type Change = 'gate' | 'read' | 'reviews' | 'ledger';

const READS_PER_LANE = 6;
const TODAY_SCAN_LIMIT = 20_000;
const POLL_MS = 1000;

/** The parts of the polled fingerprint, each with the change it stands for. */
interface Fingerprint {
  reviews: string;
  ledger: string;
  read: string;
  gate: string;
}

export class LiveStatus {
  private readonly watchers = new Set<(change: Change) => void>();
  private poll: NodeJS.Timeout | null = null;
  private fingerprint: Fingerprint | null = null;
  private readonly detach: () => void;
  private readonly statuses = new StatusFilter();

  constructor(private readonly d: LiveStatusDeps) {
    const onGate = () => this.notify('gate');
    const onRead = (e: LaneEventSeen) => {
      d.reads.add(e);
      this.notify('read');
    };
    const onStatus = (s: GateStatusSeen) => {
      if (this.statuses.passes(s)) this.notify('gate');
    };
    const onGone = (p: { gateId: string }) => this.statuses.forget(p.gateId);
    d.activity.on('connected', onGate);
    d.activity.on('disconnected', onGate);
    d.activity.on('disconnected', onGone);
    d.activity.on('laneEvent', onRead);
    d.activity.on('status', onStatus);
    this.detach = () => {
      d.activity.off('connected', onGate);
      d.activity.off('disconnected', onGate);
      d.activity.off('disconnected', onGone);
      d.activity.off('laneEvent', onRead);
      d.activity.off('status', onStatus);
    };
  }

  /** Calls `listener` on every change until the returned function is called. */
  watch(listener: (change: Change) => void): () => void {
    this.watchers.add(listener);
    if (!this.poll) {
      this.fingerprint = null;
      void this.checkFingerprint();
      this.poll = setInterval(() => void this.checkFingerprint(), POLL_MS);
      this.poll.unref();
    }
    return () => {
      this.watchers.delete(listener);
      if (this.watchers.size === 0 && this.poll) {
        clearInterval(this.poll);
        this.poll = null;
      }
    };
  }

  close(): void {
    this.detach();
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.watchers.clear();
  }

  private notify(change: Change): void {
    for (const w of this.watchers) {
      try {
        w(change);
      } catch {
        // a watcher's failure (a closed stream) is its own business
      }
    }
  }

  private async computeFingerprint(): Promise<Fingerprint> {
    const [queue, read, gate] = await Promise.all([
      this.d.store.transaction(async (repos) => ({
        open: await repos.sessions.reviews('open'),
        counts: await repos.sessions.reviewQueueCounts(),
      })),
      this.d.reads.changes(),
      this.d.gates.changes(),
    ]);
    const latest = this.d.ledger.latest();
    const cosigs = latest ? parseNote(latest.note).signatures.length : 0;
    return {
      // with the counts: an item queued and resolved between two checks is a change too
      reviews: `${queue.counts.queued}/${queue.counts.resolved}/${queue.open.map((r) => r.id).join(',')}`,
      ledger: `${latest?.checkpoint.size ?? 0}|${cosigs}`,
      read,
      gate,
    };
  }

  private async checkFingerprint(): Promise<void> {
    try {
      const f = await this.computeFingerprint();
      const before = this.fingerprint;
      this.fingerprint = f;
      if (!before) return;
      const changed = (['reviews', 'ledger', 'read', 'gate'] as const).find((part) => f[part] !== before[part]);
      if (changed) this.notify(changed);
    } catch {
      // storage trouble shows on the next poll or on /health
    }
  }

  /** Everything the dashboard shows, now. */
  async snapshot() {
    const now = this.d.clock.now();
    const { lots, reviews, sessionsByLot } = await this.d.store.transaction(async (repos) => {
      const lots = await repos.lots.lots();
      const withParts = await Promise.all(
        lots.map(async (l) => ({
          lot: l,
          lanes: await repos.lots.lanesOf(l.id),
          gates: await repos.lots.gatesOf(l.id),
        })),
      );
      const reviews = await repos.sessions.reviews('open');
      const sessionsByLot = new Map<string, ParkingSession[]>();
      for (const lotId of new Set(reviews.map((r) => r.lotId))) {
        sessionsByLot.set(lotId, await repos.sessions.unclosedInLot(lotId));
      }
      return { lots: withParts, reviews, sessionsByLot };
    });
    const today = this.todaysSettlements(now, new Map(lots.map((l) => [l.lot.id, l.lot.tariff.utcOffsetMinutes])));
    const [reviewReads, laneReads, gateView] = await Promise.all([
      this.d.reads.ofEvents(reviews.map((r) => r.eventId)),
      this.d.reads.recent(
        lots.flatMap((l) => l.lanes.map((lane) => lane.id)),
        READS_PER_LANE,
      ),
      this.d.gates.view(),
    ]);
    return {
      now,
      lots: lots.map(({ lot, lanes, gates }) => {
        const mine = today.filter((s) => s.lotId === lot.id);
        const totals: Record<string, number> = {};
        for (const s of mine) totals[s.currency] = (totals[s.currency] ?? 0) + s.amount;
        return {
          id: lot.id,
          name: lot.name,
          currency: lot.tariff.currency,
          /** the lot's local time is UTC + this (its tariff's fixed offset): the page shows its times in it */
          utcOffsetMinutes: lot.tariff.utcOffsetMinutes,
          lanes: lanes.map((lane) => {
            const reads = laneReads.get(lane.id) ?? [];
            const last = reads[0];
            const reported = gateView.laneStatus(lane.id);
            return {
              id: lane.id,
              name: lane.name,
              direction: lane.direction,
              /** the last command the cloud gave this lane's barrier */
              barrier: last
                ? { action: last.action, reason: last.reason, plate: last.plate, at: last.receivedAt }
                : null,
              /** the lane's state and its barrier's confirmed state, as a connected gate last reported them */
              reported: reported
                ? {
                    gateId: reported.gateId,
                    state: reported.state,
                    barrier: reported.barrier,
                    at: reported.at,
                    receivedAt: reported.receivedAt,
                  }
                : null,
              reads: reads.map(publicRead),
            };
          }),
          gates: gates.map((g) => {
            const since = gateView.onlineSince(g.id);
            const status = gateView.statusOf(g.id);
            return {
              id: g.id,
              name: g.name,
              online: since !== null,
              onlineSince: since,
              revoked: g.revokedAt !== null,
              lastCounter: g.lastCounter,
              /** the gate's last report while connected: its offline queue (lane events not yet answered) */
              status: status ? { outboxDepth: status.outboxDepth, at: status.at, receivedAt: status.receivedAt } : null,
            };
          }),
          today: { settlements: mine.length, totals, latest: mine.slice(0, 10) },
        };
      }),
      reviews: reviews.map((r) => this.reviewView(r, sessionsByLot.get(r.lotId) ?? [], reviewReads.get(r.eventId))),
      checkpoint: this.checkpointView(),
    };
  }

  private reviewView(r: ReviewItem, unclosed: ParkingSession[], read: LaneRead | undefined) {
    const session = (s: ParkingSession) => ({ id: s.id, plate: s.plate, entryAt: s.entryAt, status: s.status });
    const candidates = unclosed.filter((s) => r.candidateSessionIds.includes(s.id));
    const others = unclosed.filter((s) => !r.candidateSessionIds.includes(s.id) && s.entryEventId !== r.eventId);
    return {
      id: r.id,
      lotId: r.lotId,
      laneId: r.laneId,
      eventId: r.eventId,
      plate: r.plate,
      confidence: r.confidence,
      at: r.at,
      reason: r.reason,
      hasCrop: read?.hasCrop ?? false,
      candidates: candidates.map(session),
      otherSessions: others.slice(0, 50).map(session),
    };
  }

  /** Settlements recorded in the ledger since the start of the lot's local day (newest first). */
  private todaysSettlements(now: number, offsets: Map<string, number>) {
    const dayStart = (offsetMin: number) => {
      const local = now + offsetMin * 60_000;
      return local - (local % 86_400_000) - offsetMin * 60_000;
    };
    const starts = new Map([...offsets].map(([lot, off]) => [lot, dayStart(off)]));
    const earliest = Math.min(now - 86_400_000, ...starts.values());
    const out: Array<{
      settlementId: string;
      lotId: string;
      amount: number;
      currency: string;
      method: string;
      settledAt: number;
      ledgerIndex: number;
    }> = [];
    let end = this.d.ledger.size;
    const stopAt = Math.max(0, end - TODAY_SCAN_LIMIT);
    while (end > stopAt) {
      const start = Math.max(stopAt, end - 1000);
      const page = this.d.ledger.records(start, end);
      let older = false;
      for (let i = page.length - 1; i >= 0; i--) {
        const rec = JSON.parse(page[i]!.record) as SettlementRecord;
        if (rec.settledAt < earliest) {
          older = true;
          break;
        }
        const from = starts.get(rec.lotId);
        if (from === undefined || rec.settledAt < from) continue;
        out.push({
          settlementId: rec.settlementId,
          lotId: rec.lotId,
          amount: rec.amount,
          currency: rec.currency,
          method: rec.method,
          settledAt: rec.settledAt,
          ledgerIndex: page[i]!.index,
        });
      }
      if (older) break;
      end = start;
    }
    return out;
  }

  private checkpointView() {
    const latest = this.d.ledger.latest();
    if (!latest) return null;
    const { body, signatures } = parseNote(latest.note);
    let cosignedBy: string[] = [];
    let logSignatureValid = false;
    try {
      cosignedBy = verifyCheckpointNote(latest.note, this.d.logKey, this.d.witnesses).cosignedBy;
      logSignatureValid = true;
    } catch {
      logSignatureValid = false;
    }
    const cosignatures = this.d.witnesses
      .filter((w) => cosignedBy.includes(w.name))
      .map((w) => {
        const sig = signatures.find((s) => s.name === w.name && verifyCosignature(body, s, w));
        const t = sig ? verifyCosignature(body, sig, w) : null;
        return { name: w.name, timestamp: t ? t.timestamp : null };
      });
    return {
      origin: latest.checkpoint.origin,
      size: latest.checkpoint.size,
      root: Buffer.from(latest.checkpoint.root).toString('base64'),
      createdAt: latest.createdAt,
      note: latest.note,
      logSignatureValid,
      cosignatures,
      quorum: this.d.quorum,
      final: cosignedBy.length >= this.d.quorum,
    };
  }
}

const publicRead = (r: LaneRead) => ({
  eventId: r.eventId,
  gateId: r.gateId,
  kind: r.kind,
  plate: r.plate,
  confidence: r.confidence,
  at: r.at,
  action: r.action,
  reason: r.reason,
  fee: r.fee,
  currency: r.currency,
  reviewId: r.reviewId,
  hasCrop: r.hasCrop,
});
