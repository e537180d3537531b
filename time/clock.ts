/**
 * The clock, shared by the gate unit (`edge/`) and the cloud (`cloud/`):
 * neither side owns it, so neither imports the other for it. Time comes
 * from an injected clock, so that tests and replays control it.
 */
export interface Clock {
  /** milliseconds since the Unix epoch */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
