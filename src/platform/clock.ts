/**
 * The one notion of time shared by the gateway's caches and the sandbox.
 * Production code takes a `Clock`; tests pass a `ManualClock` and advance it instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(epochMs: number): void;
}

export function createManualClock(startEpochMs = Date.parse('2026-01-01T00:00:00Z')): ManualClock {
  let current = startEpochMs;
  return {
    now: () => current,
    advance(ms) {
      if (ms < 0) throw new RangeError('a clock cannot go backwards');
      current += ms;
    },
    set(epochMs) {
      current = epochMs;
    },
  };
}
