/**
 * One lane of a gate unit, as a state machine:
 *
 *   idle -> reading (frames voted per character; stops early once
 *   confident) -> deciding (the cloud, or the offline policy) -> barrier
 *   -> waiting for the vehicle to leave -> idle
 *
 * Guarantees:
 * - the same car is not triggered twice: a trigger outside `idle` is
 *   ignored;
 * - a hard time budget: whatever the camera, reader or network do, the
 *   lane has decided within `budgetMs` of the trigger (reading gets at
 *   most `readShare` of it; the cloud gets what is left minus a reserve;
 *   then the fallback policy decides);
 * - the event is in the journal (durable) before it is sent, and reaches
 *   the cloud exactly once even if the decision came from the fallback;
 * - "opened" is recorded only after the barrier driver confirmed.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Clock } from '../../time/clock.js';
import type { PlateReader } from '../vision/plate-reader.js';
import type { Quad, Rect } from '../vision/geometry.js';
import type { FrameSource } from '../camera/frame-source.js';
import type { ConfirmingBarrier } from '../barrier/barrier-driver.js';
import { PlateVote } from './plate-vote.js';
import type { RawFrame } from './plate-crop.js';
import { plateCrop } from './plate-crop.js';
import type { Journal } from '../journal/journal.js';
import type { OutboxSender } from '../uplink/outbox-sender.js';
import type { Uplink } from '../uplink/uplink.js';
import type { LaneEventBody, Policy } from '../../proto/v1/messages.js';
import { allowlistEntry } from '../../proto/v1/allowlist-entry.js';

export type OfflinePolicy = 'allowlist' | 'hold-all' | 'open-all';

export interface LaneSettings {
  laneId: string;
  direction: 'entry' | 'exit';
  /** trigger -> decision, at most (ms) */
  budgetMs: number;
  /** share of the budget reading may take */
  readShare: number;
  /** time kept for the barrier command after the decision (ms) */
  barrierReserveMs: number;
  maxFrames: number;
  roi: Rect | null;
  offlinePolicy: OfflinePolicy;
  /** after the decision, the lane waits this long for the vehicle to leave (0: ready at once) */
  holdMs: number;
}

export type LaneState = 'idle' | 'reading' | 'deciding' | 'barrier' | 'occupied';

export interface LaneOutcome {
  laneId: string;
  eventId: string | null;
  plate: string;
  confidence: number;
  frames: number;
  action: 'open' | 'hold';
  /** cloud reasons (charged, entry, payment_required, ...) or offline-allowlist, offline-hold, no-read */
  reason: string;
  decidedBy: 'cloud' | 'offline-policy' | 'no-read';
  fee: number | null;
  barrierAcked: boolean | null;
  /** when the car triggered the lane (the clock's time) */
  triggeredAt: number;
  timings: { triggerToReadMs: number; readToDecisionMs: number; decisionToBarrierMs: number | null; totalMs: number };
}

export interface LaneDeps {
  gateId: string;
  reader: PlateReader;
  camera: FrameSource;
  barrier: ConfirmingBarrier;
  journal: Journal;
  uplink: Uplink;
  outbox: OutboxSender;
  clock: Clock;
}

export class Lane extends EventEmitter {
  private stateNow: LaneState = 'idle';
  private holdTimer: NodeJS.Timeout | null = null;
  /** the barrier was opened for the car now in the lane: close it once the car has left */
  private openedForCar = false;
  private eventCounter = 0;

  constructor(
    readonly settings: LaneSettings,
    private readonly deps: LaneDeps,
  ) {
    super();
  }

  get state(): LaneState {
    return this.stateNow;
  }

  /** The vehicle has left the lane (presence sensor or motion): ready for the next car. */
  vehicleLeft(): void {
    if (this.openedForCar) {
      this.openedForCar = false;
      // an unconfirmed close raises the barrier's alarm; the lane goes on
      void this.deps.barrier.close('vehicle left').catch(() => undefined);
    }
    if (this.stateNow !== 'occupied') return;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    this.stateNow = 'idle';
  }

  /** A vehicle arrived. Returns null when the lane is busy with a car already. */
  async trigger(): Promise<LaneOutcome | null> {
    if (this.stateNow !== 'idle') return null;
    const { clock, camera, reader } = this.deps;
    const s = this.settings;
    const triggeredAt = clock.now();
    const deadline = triggeredAt + s.budgetMs;
    this.stateNow = 'reading';
    try {
      camera.vehicleArrived();
      const vote = new PlateVote();
      const evidence = createHash('sha256');
      let frames = 0;
      /** the frame and box of the most confident read of each text, for the evidence crop */
      const bestSeen = new Map<string, { confidence: number; frame: RawFrame; box: Quad }>();
      const readUntil = triggeredAt + s.budgetMs * s.readShare;
      while (frames < s.maxFrames && clock.now() < readUntil) {
        const frame = await camera.next();
        if (!frame) break;
        frames++;
        evidence.update(frame.rgb);
        const raw: RawFrame = { data: frame.rgb, width: frame.width, height: frame.height, channels: 3 };
        const reads = await reader.readImage(raw, s.roi ? { roi: s.roi } : {});
        const best = reads[0];
        if (best) {
          const seen = bestSeen.get(best.text);
          if (!seen || best.confidence > seen.confidence)
            bestSeen.set(best.text, { confidence: best.confidence, frame: raw, box: best.box });
          const result = vote.add({ text: best.text, charConfidences: best.charConfidences, format: best.format });
          if (result.confident) break;
        }
      }
      const voted = vote.result;
      const seen = voted.text ? (bestSeen.get(voted.text) ?? [...bestSeen.values()][0]) : undefined;
      const crop = seen ? await plateCrop(seen.frame, seen.box).catch(() => null) : null;
      const readAt = clock.now();
      this.stateNow = 'deciding';
      if (!voted.text) {
        return await this.finish(
          {
            eventId: null,
            plate: '',
            confidence: 0,
            frames,
            action: 'hold',
            reason: 'no-read',
            decidedBy: 'no-read',
            fee: null,
          },
          triggeredAt,
          readAt,
        );
      }
      const event = this.deps.journal.record(
        (counter): LaneEventBody => ({
          gateId: this.deps.gateId,
          counter,
          eventId: `${this.deps.gateId.slice(4, 16)}-${counter}-${++this.eventCounter}`,
          laneId: s.laneId,
          kind: s.direction,
          plate: voted.text,
          confidence: round(voted.confidence),
          evidenceDigest: evidence.digest('hex'),
          triggeredAt,
          at: readAt,
          ...(crop ? { crop } : {}),
        }),
        this.deps.uplink.lastAppliedCounter,
        readAt,
      );
      const base = { eventId: event.eventId, plate: voted.text, confidence: voted.confidence, frames };
      try {
        const decision = await this.deps.outbox.decisionFor(event.eventId, deadline - s.barrierReserveMs - clock.now());
        return await this.finish(
          { ...base, action: decision.action, reason: decision.reason, decidedBy: 'cloud', fee: decision.fee },
          triggeredAt,
          readAt,
        );
      } catch {
        const open = await this.offlineAllows(voted.text);
        return await this.finish(
          {
            ...base,
            action: open ? 'open' : 'hold',
            reason: open ? 'offline-allowlist' : 'offline-hold',
            decidedBy: 'offline-policy',
            fee: null,
          },
          triggeredAt,
          readAt,
        );
      }
    } catch (err) {
      this.stateNow = 'idle';
      throw err;
    }
  }

  /** The offline policy's answer for a read plate: its allowlist entry (a few ms of scrypt) looked up in the lot's list. */
  private async offlineAllows(plate: string): Promise<boolean> {
    if (this.settings.offlinePolicy === 'open-all') return true;
    if (this.settings.offlinePolicy === 'hold-all') return false;
    const policy: Policy | null = this.deps.uplink.latestPolicy ?? this.deps.journal.loadPolicy();
    if (!policy) return false;
    try {
      return policy.allow.includes(await allowlistEntry(plate, Buffer.from(policy.salt, 'base64'), policy.kdf));
    } catch {
      return false; // parameters this machine cannot run: hold, as without a list
    }
  }

  private async finish(
    d: Omit<LaneOutcome, 'laneId' | 'barrierAcked' | 'triggeredAt' | 'timings'>,
    triggeredAt: number,
    readAt: number,
  ): Promise<LaneOutcome> {
    const { clock } = this.deps;
    const decidedAt = clock.now();
    let barrierAcked: boolean | null = null;
    let barrierAt: number | null = null;
    if (d.action === 'open') {
      this.stateNow = 'barrier';
      const r = await this.deps.barrier.open(`${d.reason} ${d.plate}`);
      barrierAcked = r.ok;
      this.openedForCar = true;
      barrierAt = clock.now();
    }
    if (d.eventId) this.deps.journal.setOutcome(d.eventId, { action: d.action, reason: d.reason, barrierAcked });
    const outcome: LaneOutcome = {
      laneId: this.settings.laneId,
      ...d,
      barrierAcked,
      triggeredAt,
      timings: {
        triggerToReadMs: readAt - triggeredAt,
        readToDecisionMs: decidedAt - readAt,
        decisionToBarrierMs: barrierAt === null ? null : barrierAt - decidedAt,
        totalMs: (barrierAt ?? decidedAt) - triggeredAt,
      },
    };
    this.emit('outcome', outcome);
    this.stateNow = 'occupied';
    if (this.settings.holdMs <= 0) this.stateNow = 'idle';
    else this.holdTimer = setTimeout(() => this.vehicleLeft(), this.settings.holdMs);
    return outcome;
  }
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
