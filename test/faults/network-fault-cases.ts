/**
 * The network-fault scenario and its faults: the cars and the order they
 * pass the lanes, and each fault case (which message is lost, delayed,
 * duplicated or cut, in which direction) with what it must and must not do.
 */
import type { SeenMessage } from './fault-proxy.js';
import { FaultProxy } from './fault-proxy.js';

const FULL = Boolean(process.env.PLATEPAY_FAULTS_FULL);

export const SLOW = { skip: FULL ? false : 'slow: run npm run test:faults' };

export const ADMIN = 'ppkey_faults-admin-key-0123456789abcdef';

export const PLATE_KEY = '22'.repeat(32);

export const BUDGET_MS = 1500;

/** what a busy 2-core machine may add to a lane's decision time; a correctness bound only */
export const MARGIN_MS = 1000;

export const FEE = 500;

export interface Car {
  plate: string;
  linked: boolean;
}

export const L1: Car = { plate: '皖A12345', linked: true };

export const L2: Car = { plate: '皖B67890', linked: true };

export const L3: Car = { plate: '浙F09654', linked: true };

const U1: Car = { plate: '皖C24680', linked: false };

const U2: Car = { plate: '皖D13579', linked: false };

export type LaneName = 'entry' | 'exit';

/** one step: the cars that arrive at the same moment (at most one per lane) */
export const STEPS: Array<Array<{ lane: LaneName; car: Car }>> = [
  [{ lane: 'entry', car: L1 }],
  [{ lane: 'entry', car: U1 }],
  [{ lane: 'exit', car: L1 }],
  [
    { lane: 'entry', car: L2 },
    { lane: 'exit', car: U1 },
  ],
  [{ lane: 'entry', car: U2 }],
  [{ lane: 'exit', car: L2 }],
  [
    { lane: 'exit', car: U2 },
    { lane: 'entry', car: L3 },
  ],
  [{ lane: 'exit', car: L3 }],
];

export const EVENTS = STEPS.flat().length;

/**
 * A fault for one step: armed before its cars arrive, on a message about
 * one of that step's events (`fresh`: not a resend of an earlier one);
 * resolves when it fired.
 */
export interface Fault {
  name: string;
  arm(proxy: FaultProxy, fresh: (m: SeenMessage) => boolean): Promise<SeenMessage | void>;
}

const laneEventUp = (when: (m: SeenMessage) => boolean) => ({ dir: 'up' as const, type: 'laneEvent', when });

const decisionDown = (when: (m: SeenMessage) => boolean) => ({ dir: 'down' as const, type: 'decision', when });

/** an event's counter: in the lane event, or the middle of its id (`<gate>-<counter>-<n>`) */
export const counterOf = (m: SeenMessage) => m.counter ?? Number(m.eventId?.split('-')[1] ?? 0);

interface FaultCase {
  name: string;
  faults: Map<number, Fault>;
}

export const CASES: Record<string, FaultCase> = {
  dropsAndDuplicates: {
    name: 'drops and duplicates',
    faults: new Map<number, Fault>([
      [2, { name: 'drop: lane event lost in transit', arm: (p, fresh) => p.arm(laneEventUp(fresh), { kind: 'drop' }) }],
      [
        3,
        {
          name: 'drop: decision lost after the cloud applied it',
          arm: (p, fresh) => p.arm(decisionDown(fresh), { kind: 'drop' }),
        },
      ],
      [
        5,
        {
          name: 'duplicate: lane event delivered twice',
          arm: (p, fresh) => p.arm(laneEventUp(fresh), { kind: 'duplicate' }),
        },
      ],
      [
        6,
        {
          name: 'duplicate: decision delivered twice',
          arm: (p, fresh) => p.arm(decisionDown(fresh), { kind: 'duplicate' }),
        },
      ],
      [7, { name: 'drop: lane event lost in transit', arm: (p, fresh) => p.arm(laneEventUp(fresh), { kind: 'drop' }) }],
    ]),
  },
  stalls: {
    name: 'stalls longer than the lane budget',
    faults: new Map<number, Fault>([
      [
        2,
        {
          name: 'stall both ways 3000 ms from a lane event',
          arm: (p, fresh) => p.arm(laneEventUp(fresh), { kind: 'stall', ms: 3000, dirs: ['up', 'down'] }),
        },
      ],
      [
        5,
        {
          name: 'stall cloud -> gate 3000 ms from a lane event (applied, answer stuck)',
          arm: (p, fresh) => p.arm(laneEventUp(fresh), { kind: 'stall', ms: 3000, dirs: ['down'] }),
        },
      ],
    ]),
  },
  longStall: {
    name: "a stall longer than the uplink's request timeout",
    faults: new Map<number, Fault>([
      [
        2,
        {
          name: 'stall both ways 7000 ms from a lane event (the 5 s request times out; resent)',
          arm: (p, fresh) => p.arm(laneEventUp(fresh), { kind: 'stall', ms: 7000, dirs: ['up', 'down'] }),
        },
      ],
    ]),
  },
  reorder: {
    name: 'reordering',
    faults: new Map<number, Fault>([
      [
        2,
        {
          name: 'reorder: lane event held behind the next message',
          arm: (p, fresh) => p.arm(laneEventUp(fresh), { kind: 'reorder' }),
        },
      ],
      [
        4,
        {
          name: 'reorder: decision held behind the next message',
          arm: (p, fresh) => p.arm(decisionDown(fresh), { kind: 'reorder' }),
        },
      ],
      [
        5,
        {
          name: 'late copy: lane event delivered again after the next (higher counter) one',
          arm: (p, fresh) => p.arm(laneEventUp(fresh), { kind: 'late-copy' }),
        },
      ],
    ]),
  },
};
