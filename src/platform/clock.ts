/**
 * The one notion of time shared by the gateway's caches, its upstream scheduler and the sandbox.
 * Production code takes a `Clock`; tests pass a `ManualClock` and advance it instead of sleeping.
 *
 * Timers on a clock (`setTimer`, `setClockTimer`) wake code at a time of that clock: on the system clock a real timer,
 * on a ManualClock the `advance`/`set` that reaches the time — so a queue waiting for a rate-limit window to pass is
 * tested by advancing the clock, never by sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `fn` once, as soon as this clock reads `atEpochMs` or later; returns a function that cancels it. Optional:
   * `setClockTimer` polls a clock without it in real time.
   */
  setTimer?(atEpochMs: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(atEpochMs, fn) {
    // unref: a timer never keeps the process alive (every waiter it wakes belongs to a request that does).
    const timer = setTimeout(fn, Math.max(0, atEpochMs - Date.now()));
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** A timer at `atEpochMs` on `clock` (see Clock.setTimer); a clock without timers is polled every ≤ 50 ms of real time. */
export function setClockTimer(clock: Clock, atEpochMs: number, fn: () => void): () => void {
  if (clock.setTimer) return clock.setTimer(atEpochMs, fn);
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const left = atEpochMs - clock.now();
    if (left <= 0) {
      timer = undefined;
      fn();
      return;
    }
    timer = setTimeout(check, Math.min(left, 50));
    timer.unref();
  };
  check();
  return () => {
    if (timer) clearTimeout(timer);
  };
}

export interface ManualClock extends Clock {
  /**
   * Moves time forward by `ms`, firing the timers due on the way in time order, each with `now()` reading its own
   * time (a timer a fired one sets within the span fires too); then `now()` reads the end of the span.
   */
  advance(ms: number): void;
  /** Jumps to `epochMs`: forward like `advance` (timers fire), backward without firing anything. */
  set(epochMs: number): void;
  setTimer(atEpochMs: number, fn: () => void): () => void;
  /** Timers not fired or cancelled yet. */
  readonly pendingTimers: number;
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

export function createManualClock(startEpochMs = Date.parse('2026-01-01T00:00:00Z')): ManualClock {
  let current = startEpochMs;
  let seq = 0;
  /** Sorted by (at, seq): the order timers fire in. */
  const timers: ManualTimer[] = [];

  function runUntil(target: number): void {
    while (timers.length > 0 && timers[0]!.at <= target) {
      const timer = timers.shift()!;
      current = Math.max(current, timer.at);
      try {
        timer.fn();
      } catch (error) {
        // A failing timer must not stop time for the others; the failure still surfaces.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    current = target;
  }

  return {
    now: () => current,
    advance(ms) {
      if (ms < 0) throw new RangeError('a clock cannot go backwards');
      runUntil(current + ms);
    },
    set(epochMs) {
      if (epochMs >= current) runUntil(epochMs);
      else current = epochMs;
    },
    setTimer(atEpochMs, fn) {
      const timer: ManualTimer = { at: atEpochMs, seq: seq++, fn };
      let i = timers.length;
      while (i > 0 && timers[i - 1]!.at > atEpochMs) i--;
      timers.splice(i, 0, timer);
      return () => {
        const index = timers.indexOf(timer);
        if (index >= 0) timers.splice(index, 1);
      };
    },
    get pendingTimers() {
      return timers.length;
    },
  };
}
