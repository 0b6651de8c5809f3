/**
 * Per-key upstream call budget: at most `limit` calls per sliding `windowMs`, plus an explicit
 * block (from a 429's Retry-After) that holds for its full length. Keys are ICCIDs.
 *
 * Contract: `waitMs(key) === 0` means one call may be made now and `consume(key)` must follow
 * immediately; the gateway never sends a call the budget denies, so the upstream's per-ICCID
 * limits cannot be breached by this process whatever the clients do.
 *
 * A key's record is kept for as long as its window lasts, however many other keys are called meanwhile (no LRU
 * bound that could forget a budget still in force). Records whose window has passed are swept as the maps grow, so
 * memory is bounded by the keys actually called within one window (at most twice that between sweeps).
 * See README.md, "Caching and upstream budgets".
 */
import type { Clock } from '../../platform/clock.ts';

export interface CallBudgetOptions {
  limit: number;
  windowMs: number;
  clock: Clock;
}

/** Sweeping starts once a map holds this many keys; below it, expired records cost less than a sweep. */
const MIN_SWEEP_AT = 1_024;

export class CallBudget {
  /**
   * Call times inside the window per key, oldest first; only with a finite limit. An array literal of one timestamp
   * per key (most keys see one call per window): with 100k SIMs cached, that is what memory is made of.
   */
  private readonly windows: Map<string, number[]> | undefined;
  private windowsSweepAt = MIN_SWEEP_AT;
  /** 429 blocks (key → epoch ms). Never dropped before they expire: expired ones are swept as the map grows. */
  private readonly blocks = new Map<string, number>();
  private blocksSweepAt = MIN_SWEEP_AT;

  constructor(private readonly options: CallBudgetOptions) {
    this.windows = Number.isFinite(options.limit) ? new Map<string, number[]>() : undefined;
  }

  /** Milliseconds until a call for `key` is allowed; 0 when allowed now. */
  waitMs(key: string): number {
    const now = this.options.clock.now();
    let wait = 0;
    const until = this.blocks.get(key);
    if (until !== undefined) {
      if (until > now) wait = until - now;
      else this.blocks.delete(key);
    }
    const calls = this.windows?.get(key);
    if (calls) {
      this.prune(calls, now);
      if (calls.length >= this.options.limit) wait = Math.max(wait, calls[0]! + this.options.windowMs - now);
    }
    return Math.max(wait, 0);
  }

  consume(key: string): void {
    const windows = this.windows;
    if (!windows) return;
    const now = this.options.clock.now();
    const calls = windows.get(key);
    if (calls) {
      this.prune(calls, now);
      calls.push(now);
      return;
    }
    windows.set(key, [now]);
    if (windows.size >= this.windowsSweepAt) {
      const cutoff = now - this.options.windowMs;
      // A record whose newest call left the window constrains nothing any more.
      for (const [k, times] of windows) if (times.length === 0 || times[times.length - 1]! <= cutoff) windows.delete(k);
      this.windowsSweepAt = Math.max(MIN_SWEEP_AT, windows.size * 2);
    }
  }

  /** Honour an upstream 429: no call for `key` until `untilEpochMs`, however long that is. */
  blockUntil(key: string, untilEpochMs: number): void {
    this.blocks.set(key, Math.max(this.blocks.get(key) ?? 0, untilEpochMs));
    if (this.blocks.size >= this.blocksSweepAt) {
      const now = this.options.clock.now();
      for (const [k, until] of this.blocks) if (until <= now) this.blocks.delete(k);
      this.blocksSweepAt = Math.max(MIN_SWEEP_AT, this.blocks.size * 2);
    }
  }

  /** Keys with a record (a call within the window or a block); for tests and metrics. */
  get trackedKeys(): number {
    return (this.windows?.size ?? 0) + this.blocks.size;
  }

  private prune(calls: number[], now: number): void {
    const cutoff = now - this.options.windowMs;
    let i = 0;
    while (i < calls.length && calls[i]! <= cutoff) i++;
    if (i > 0) calls.splice(0, i);
  }
}
