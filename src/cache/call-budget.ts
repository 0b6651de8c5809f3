/**
 * Per-key upstream call budget: at most `limit` calls per sliding `windowMs`, plus an explicit
 * block (from a 429's Retry-After) that holds for its full length. Keys are ICCIDs.
 *
 * Contract: `waitMs(key) === 0` means one call may be made now and `consume(key)` must follow
 * immediately; the gateway never sends a call the budget denies, so the upstream's per-ICCID
 * limits cannot be breached by this process whatever the clients do.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.ts';

export interface CallBudgetOptions {
  limit: number;
  windowMs: number;
  clock: Clock;
  /** Bound on tracked keys; a key evicted here was idle, so forgetting it cannot breach the window. */
  maxKeys: number;
}

export class CallBudget {
  /**
   * Call times inside the window per key, oldest first; only with a finite limit. An array literal of one timestamp
   * per key (most keys see one call per window): with 100k SIMs cached, that is what memory is made of.
   */
  private readonly windows: LRUCache<string, number[]> | undefined;
  /** 429 blocks (key → epoch ms). Never evicted before they expire: expired ones are swept as the map grows. */
  private readonly blocks = new Map<string, number>();
  private sweepAt = 1_024;

  constructor(private readonly options: CallBudgetOptions) {
    this.windows = Number.isFinite(options.limit) ? new LRUCache<string, number[]>({ max: options.maxKeys }) : undefined;
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
    if (!this.windows) return;
    const now = this.options.clock.now();
    const calls = this.windows.get(key);
    if (!calls) {
      this.windows.set(key, [now]);
      return;
    }
    this.prune(calls, now);
    calls.push(now);
  }

  /** Honour an upstream 429: no call for `key` until `untilEpochMs`, however long that is. */
  blockUntil(key: string, untilEpochMs: number): void {
    this.blocks.set(key, Math.max(this.blocks.get(key) ?? 0, untilEpochMs));
    if (this.blocks.size >= this.sweepAt) {
      const now = this.options.clock.now();
      for (const [k, until] of this.blocks) if (until <= now) this.blocks.delete(k);
      this.sweepAt = Math.max(1_024, this.blocks.size * 2);
    }
  }

  private prune(calls: number[], now: number): void {
    const cutoff = now - this.options.windowMs;
    let i = 0;
    while (i < calls.length && calls[i]! <= cutoff) i++;
    if (i > 0) calls.splice(0, i);
  }
}
