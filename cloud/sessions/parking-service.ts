/**
 * Parking sessions: an entry event opens a session, an exit event closes
 * the matching one and settles it. This is the path the gate hub calls for
 * every lane event, and the HTTP API calls for simulated or manual events.
 *
 * Invariants:
 * - one decision per event id: a replay of the same event returns the
 *   first decision; the same id with different content is refused;
 * - an exit charges only when exactly one unclosed session in the lot fits
 *   the read (see plate-matching.ts); otherwise nothing is charged and the
 *   exit waits in the manual review queue;
 * - a second entry for a plate with an unclosed session is held and
 *   flagged (anti-passback), never opens a second session;
 * - an event's time must be plausible (see checkEventTime): never more than
 *   MAX_CLOCK_SKEW_MS ahead of the service clock, nor older than
 *   MAX_EVENT_AGE_MS, so a time in seconds or a zero never becomes an
 *   entry;
 * - a matched stay the tariff cannot price (longer than MAX_STAY_MS: an
 *   entry time stored wrong by an earlier version) is held for review with
 *   the reason `stay-too-long`, never a failure of the request; an
 *   operator waives it or dismisses the review.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../time/clock.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type {
  Lane,
  LaneDirection,
  Lot,
  ParkingSession,
  Payer,
  PendingPayment,
  Repositories,
  ReviewItem,
  Store,
  StoredLaneEvent,
} from '../storage/repositories.js';
import type { CardCharges } from '../settlement/card-charges.js';
import type { Decision, Settler } from '../settlement/settler.js';
import { normalisePlate } from '../../proto/plate-syntax.js';
import type { MatchOptions, MatchResult } from './plate-matching.js';
import { defaultMatchOptions, matchExit } from './plate-matching.js';
import { readKeys } from './plate-keys.js';
import { isPriceableStay, MAX_STAY_MS } from '../tariffs/tariff.js';

export interface LaneEventInput {
  /** unique per event, chosen by the gate (its idempotency key) */
  eventId: string;
  laneId: string;
  plate: string;
  /** 0..1, the read's confidence (lowest character confidence) */
  confidence: number;
  /** when the car was at the lane, ms since the epoch (gate clock) */
  at: number;
}

/** How far ahead of the service clock a gate timestamp may be. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** How old an event may be when it arrives: a gate's outbox is sent within a week (the gate hub's limit too). */
export const MAX_EVENT_AGE_MS = 7 * 24 * 3_600_000;
/** an exit of a plate whose session closed this recently is the same car seen again */
const RECENT_EXIT_MS = 10 * 60_000;

/**
 * What a caller has already read in the same transaction (the gate hub, with `eventContext`): the
 * event's lane, and that no event with its id was applied before (`resentDecisionOf` returned null), so
 * applyEvent need not read them again; and the lot and an exit's candidate sessions when it read them.
 */
export interface CheckedEvent {
  lane: Lane;
  idIsNew: true;
  /** the lane's lot (read again when it is another lot) */
  lot?: Lot | null;
  /** an exit's candidate sessions in `lot` (`unclosedByKeys` of the read's keys), read in this transaction */
  candidates?: ParkingSession[] | null;
}

/** What deciding a lane event starts from, read together (`ParkingService.eventContext`). */
export interface EventContext {
  /** the event stored under this id: a resend of it, or another event reusing the id; null when the id is new */
  stored: StoredLaneEvent | null;
  lane: Lane | null;
  /** the lot the caller expects the lane in */
  lot: Lot | null;
  /** an exit's candidate sessions in that lot (`unclosedByKeys` of the read's keys); null for an entry */
  candidates: ParkingSession[] | null;
}

export type ReviewResolution =
  { action: 'match'; sessionId: string } | { action: 'waive'; sessionId: string } | { action: 'dismiss' };

export class ParkingService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly settler: Settler,
    private readonly cardCharges: CardCharges,
    private readonly matchOptions: MatchOptions = defaultMatchOptions,
  ) {}

  /** Applies one lane event in a transaction of its own; a card charge is then asked of the provider within the lane's budget. */
  async submitEvent(input: LaneEventInput): Promise<Decision> {
    return this.cardCharges.decide(await this.store.transaction((repos) => this.applyEvent(repos, input)));
  }

  /**
   * Applies a lane event inside the caller's transaction (the gate hub runs
   * its own checks and the gate's counter in the same one), idempotent by
   * event id: a resend returns the first decision.
   */
  async applyEvent(repos: Repositories, input: LaneEventInput, checked?: CheckedEvent): Promise<Decision> {
    const plate = normalisePlate(input.plate);
    if (!plate) throw badRequest('INVALID_PLATE', 'plate must hold only letters, digits and a province character');
    const requestHash = eventContentHash(input, plate);
    if (!checked) {
      const previous = await this.firstDecision(repos, input.eventId, requestHash);
      if (previous) return previous;
    }
    const lane = checked?.lane ?? (await repos.lots.laneById(input.laneId));
    if (!lane) throw notFound('lane', input.laneId);
    const known = checked?.lot?.id === lane.lotId ? checked.lot : null;
    const lot = known ?? (await repos.lots.lotById(lane.lotId))!;
    this.checkEventTime(input.at);
    const event = { ...input, plate };
    const decision =
      lane.direction === 'entry'
        ? await this.entry(repos, lot, lane, event)
        : await this.exit(repos, lot, lane, event, known ? (checked?.candidates ?? null) : null);
    await repos.sessions.insertEvent({
      id: input.eventId,
      laneId: lane.id,
      kind: lane.direction,
      plate,
      confidence: input.confidence,
      at: input.at,
      receivedAt: this.clock.now(),
      requestHash,
      decision: JSON.stringify(decision),
    });
    return decision;
  }

  /**
   * Refuses an event time that cannot be right: ahead of the service clock
   * (beyond the skew a gate's clock may have), or older than a gate keeps
   * events (a time in seconds, a zero). An entry before its lot was
   * registered is allowed: cars parked before (entered by hand, or
   * simulated stays). A resend of an applied event never gets here: it is
   * answered with its first decision whatever its time.
   */
  private checkEventTime(at: number): void {
    const now = this.clock.now();
    const hint = 'event times are milliseconds since the epoch';
    if (at > now + MAX_CLOCK_SKEW_MS) {
      throw badRequest('EVENT_IN_FUTURE', `at: event time is more than 5 minutes ahead of the service clock (${hint})`);
    }
    if (at < now - MAX_EVENT_AGE_MS) {
      throw badRequest(
        'EVENT_TOO_OLD',
        `at: ${at} (${isoTime(at)}) is more than 7 days before the service clock (${isoTime(now)}); ${hint}`,
      );
    }
  }

  /**
   * The first decision for an event id that was applied before (`stored`: the event stored under the
   * id, from `eventContext`), when this is a resend of that event (the same lane, plate, confidence and
   * time); null when the id is new. The same id with any other
   * content is refused (EVENT_ID_REUSED) and nothing of the first event is told. The one rule for an
   * event id, whether the event comes over HTTP or from a gate's socket.
   */
  resentDecisionOf(stored: StoredLaneEvent | null, input: LaneEventInput): Decision | null {
    const plate = normalisePlate(input.plate);
    if (!plate) throw badRequest('INVALID_PLATE', 'plate must hold only letters, digits and a province character');
    return firstDecision(stored, input.eventId, eventContentHash(input, plate));
  }

  /**
   * The reads deciding a lane event starts from, all started at once, so that inside the caller's
   * `repos.together` PostgreSQL sends them, with the caller's own, as one statement: the event stored
   * under the event's id (for `resentDecisionOf`), its lane, the lot the caller expects the lane in
   * (`applyEvent` reads the right one if it is not), and for an exit the unclosed sessions of that lot
   * the read's candidate keys find (read again by `exit` if the lot was not the lane's). A plate that is
   * no plate reads no sessions: `resentDecisionOf` refuses it.
   */
  eventContext(
    repos: Repositories,
    input: LaneEventInput,
    expected: { lotId: string; direction: LaneDirection },
  ): Promise<EventContext> {
    const plate = normalisePlate(input.plate);
    const exit = expected.direction === 'exit' && plate;
    return Promise.all([
      repos.sessions.eventById(input.eventId),
      repos.lots.laneById(input.laneId),
      repos.lots.lotById(expected.lotId),
      exit ? repos.sessions.unclosedByKeys(expected.lotId, readKeys(plate)) : null,
    ]).then(([stored, lane, lot, candidates]) => ({ stored, lane, lot, candidates }));
  }

  private async firstDecision(repos: Repositories, eventId: string, requestHash: string): Promise<Decision | null> {
    return firstDecision(await repos.sessions.eventById(eventId), eventId, requestHash);
  }

  private async entry(repos: Repositories, lot: Lot, lane: Lane, event: LaneEventInput): Promise<Decision> {
    const [unclosed] = await repos.sessions.unclosedOfPlate(lot.id, event.plate);
    if (unclosed) {
      await repos.sessions.update({ ...unclosed, passbackFlag: true });
      const review = await this.queueReview(repos, lot, lane, event, 'passback', [unclosed.id]);
      return hold(event.eventId, 'passback', { sessionId: unclosed.id, reviewId: review.id });
    }
    const session: ParkingSession = {
      id: newId('ses'),
      lotId: lot.id,
      plate: event.plate,
      entryEventId: event.eventId,
      entryLaneId: lane.id,
      entryAt: event.at,
      entryConfidence: event.confidence,
      status: 'open',
      exitEventId: null,
      exitAt: null,
      fee: null,
      paidAt: null,
      passbackFlag: false,
    };
    await repos.sessions.insert(session);
    return {
      eventId: event.eventId,
      action: 'open',
      reason: 'entry',
      fee: null,
      currency: null,
      sessionId: session.id,
      settlementId: null,
      pendingPaymentId: null,
      reviewId: null,
    };
  }

  /** `readBefore`: the lot's sessions the read's keys found, read earlier in this transaction (eventContext), or null */
  private async exit(
    repos: Repositories,
    lot: Lot,
    lane: Lane,
    event: LaneEventInput,
    readBefore: ParkingSession[] | null,
  ): Promise<Decision> {
    let unclosed: ParkingSession[];
    let match: MatchResult;
    let session: ParkingSession | null = null;
    let payer: Payer | null = null;
    let known = readBefore;
    do {
      // only the sessions the read's candidate keys find: all that can fit it, however many cars the lot holds
      // (read earlier in this transaction the first time round; the lock below sees the session as it is now)
      unclosed = known ?? (await repos.sessions.unclosedByKeys(lot.id, readKeys(event.plate)));
      known = null;
      match = matchExit(
        { plate: event.plate, confidence: event.confidence },
        unclosed.map((s) => ({ id: s.id, plate: s.plate })),
        this.matchOptions,
      );
      if (match.kind !== 'exact' && match.kind !== 'tolerant') break;
      // held from here on, as it is now; closed meanwhile by another exit (of this car): match again without it.
      // Who pays for the plate is read with it (one round trip): settleExit charges from it
      const matched = match.sessionId;
      const plate = unclosed.find((s) => s.id === matched)!.plate;
      [session, payer] = await repos.together(() =>
        Promise.all([repos.sessions.lockUnclosed(matched), repos.links.payerOfPlate(plate)]),
      );
    } while (!session);
    if (match.kind === 'exact' || match.kind === 'tolerant') {
      session = session!; // the loop ends on a match only once the matched session is held
      if (session.status === 'open' && !isPriceableStay(session.entryAt, event.at)) {
        // an entry time stored wrong before times were checked: an operator settles it, the lane is not failed
        const review = await this.queueReview(repos, lot, lane, event, 'stay-too-long', [session.id]);
        return hold(event.eventId, 'review', { sessionId: session.id, reviewId: review.id });
      }
      return this.settler.settleExit(repos, lot, session, { eventId: event.eventId, at: event.at }, payer);
    }
    if (match.kind === 'none' || match.kind === 'near') {
      // no unclosed session fits: perhaps this very car, just settled, seen again
      const left = await this.justLeft(repos, lot, event);
      if (left) return { ...hold(event.eventId, 'already_paid', { sessionId: left.id }), action: 'open' };
    }
    const candidates = match.kind === 'none' ? [] : match.candidates;
    const reason = match.kind === 'none' ? 'no-session' : match.kind;
    const review = await this.queueReview(repos, lot, lane, event, reason, candidates);
    return hold(event.eventId, 'review', { reviewId: review.id });
  }

  /**
   * The session of exactly this plate in this lot that closed at most
   * RECENT_EXIT_MS before this exit: the same car read again at the barrier
   * (a second trigger, or a gate unit restarted before it opened). It is let
   * out without a second charge or a review.
   */
  private async justLeft(repos: Repositories, lot: Lot, event: LaneEventInput): Promise<ParkingSession | null> {
    const sessions = await repos.sessions.ofPlates([event.plate]);
    return (
      sessions.find(
        (s) =>
          s.lotId === lot.id &&
          s.status === 'closed' &&
          s.exitAt !== null &&
          event.at >= s.exitAt &&
          event.at - s.exitAt <= RECENT_EXIT_MS,
      ) ?? null
    );
  }

  private async queueReview(
    repos: Repositories,
    lot: Lot,
    lane: Lane,
    event: LaneEventInput,
    reason: string,
    candidates: string[],
  ): Promise<ReviewItem> {
    const review: ReviewItem = {
      id: newId('rev'),
      lotId: lot.id,
      laneId: lane.id,
      eventId: event.eventId,
      plate: event.plate,
      confidence: event.confidence,
      at: event.at,
      reason,
      candidateSessionIds: candidates,
      status: 'open',
      createdAt: this.clock.now(),
      resolution: null,
      resolvedAt: null,
    };
    await repos.sessions.insertReview(review);
    return review;
  }

  /** The decision already given for an event id, if any (a resend is answered with it). */
  async storedDecision(eventId: string): Promise<Decision | null> {
    return this.store.transaction(async (repos) => {
      const e = await repos.sessions.eventById(eventId);
      return e ? (JSON.parse(e.decision) as Decision) : null;
    });
  }

  async reviews(status?: ReviewItem['status']): Promise<ReviewItem[]> {
    return this.store.transaction((repos) => repos.sessions.reviews(status));
  }

  /** The unpaid stays of a lot (exits that left on a pending payment), newest first. */
  async pendingPaymentsInLot(lotId: string): Promise<PendingPayment[]> {
    return this.store.transaction(async (repos) => {
      if (!(await repos.lots.lotById(lotId))) throw notFound('lot', lotId);
      return repos.sessions.pendingPaymentsInLot(lotId);
    });
  }

  async openReviewCount(): Promise<number> {
    return this.store.transaction((repos) => repos.sessions.openReviewCount());
  }

  /** An operator resolves a review item: match the exit to a session (and settle it), waive the stay, or dismiss. */
  async resolveReview(reviewId: string, resolution: ReviewResolution, operatorKeyId: string): Promise<ReviewOutcome> {
    const outcome = await this.resolveReviewInStore(reviewId, resolution, operatorKeyId);
    if (outcome.decision) outcome.decision = await this.cardCharges.decide(outcome.decision);
    return outcome;
  }

  private async resolveReviewInStore(
    reviewId: string,
    resolution: ReviewResolution,
    operatorKeyId: string,
  ): Promise<ReviewOutcome> {
    return this.store.transaction(async (repos) => {
      const review = await repos.sessions.reviewById(reviewId);
      if (!review) throw notFound('review item', reviewId);
      if (review.status !== 'open') throw conflict('REVIEW_RESOLVED', `review item ${reviewId} is already resolved`);
      const lot = (await repos.lots.lotById(review.lotId))!;
      let decision: Decision | null = null;
      if (resolution.action !== 'dismiss') {
        // only an exit can close a stay: a held entry (a passback) is dismissed, never matched or waived
        const lane = await repos.lots.laneById(review.laneId);
        if (lane?.direction !== 'exit') {
          throw conflict(
            'NOT_AN_EXIT',
            `review item ${reviewId} holds an entry (${review.reason}), not an exit: it can only be dismissed`,
          );
        }
        const session = await repos.sessions.byId(resolution.sessionId);
        if (!session || session.lotId !== lot.id) throw notFound('parking session in this lot', resolution.sessionId);
        if (session.status === 'closed') throw conflict('SESSION_CLOSED', `session ${session.id} is already closed`);
        if (review.at < session.entryAt - MAX_CLOCK_SKEW_MS) {
          throw conflict(
            'EXIT_BEFORE_ENTRY',
            `the exit at ${isoTime(review.at)} is before session ${session.id} entered (${isoTime(session.entryAt)}): it is another car's stay`,
          );
        }
        if (
          resolution.action === 'match' &&
          session.status === 'open' &&
          !isPriceableStay(session.entryAt, review.at)
        ) {
          throw conflict(
            'STAY_TOO_LONG',
            `session ${session.id} entered at ${isoTime(session.entryAt)}: a stay longer than the ${MAX_STAY_MS / 86_400_000} days a tariff prices cannot be charged; waive it or dismiss the review`,
          );
        }
        const exit = { eventId: review.eventId, at: review.at };
        decision =
          resolution.action === 'match'
            ? await this.settler.settleExit(repos, lot, session, exit)
            : await this.settler.waive(repos, lot, session, exit);
      }
      const resolved: ReviewItem = {
        ...review,
        status: 'resolved',
        resolution: JSON.stringify({ ...resolution, by: operatorKeyId, decision }),
        resolvedAt: this.clock.now(),
      };
      await repos.sessions.updateReview(resolved);
      return { review: resolved, decision };
    });
  }
}

export interface ReviewOutcome {
  review: ReviewItem;
  decision: Decision | null;
}

/** An instant for a message: ISO 8601 in UTC, or the number itself when it is no date. */
function isoTime(at: number): string {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? String(at) : date.toISOString();
}

function hold(eventId: string, reason: Decision['reason'], refs: { sessionId?: string; reviewId?: string }): Decision {
  return {
    eventId,
    action: 'hold',
    reason,
    fee: null,
    currency: null,
    sessionId: refs.sessionId ?? null,
    settlementId: null,
    pendingPaymentId: null,
    reviewId: refs.reviewId ?? null,
  };
}

/** The first decision of a stored event when `requestHash` is its content's; EVENT_ID_REUSED when it is not. */
function firstDecision(stored: StoredLaneEvent | null, eventId: string, requestHash: string): Decision | null {
  if (!stored) return null;
  if (stored.requestHash !== requestHash) {
    throw conflict('EVENT_ID_REUSED', `event ${eventId} was already submitted with different content`);
  }
  return JSON.parse(stored.decision) as Decision;
}

/** What tells a resend from another event reusing its id: the event's content, the plate normalised. */
function eventContentHash(input: LaneEventInput, plate: string): string {
  return createHash('sha256')
    .update(JSON.stringify([input.laneId, plate, input.confidence, input.at]))
    .digest('hex');
}
