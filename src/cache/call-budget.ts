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

interface KeyState {
  /** Call times inside the window, oldest first. */
  calls: number[];
  blockedUntil: number;
}

export interface CallBudgetOptions {
  limit: number;
  windowMs: number;
  clock: Clock;
  /** Bound on tracked keys; a key evicted here was idle, so forgetting it cannot breach the window. */
  maxKeys: number;
}

export class CallBudget {
  private readonly state: LRUCache<string, KeyState>;

  constructor(private readonly options: CallBudgetOptions) {
    this.state = new LRUCache<string, KeyState>({ max: options.maxKeys });
  }

  /** Milliseconds until a call for `key` is allowed; 0 when allowed now. */
  waitMs(key: string): number {
    const now = this.options.clock.now();
    const s = this.state.get(key);
    if (!s) return 0;
    this.prune(s, now);
    const blocked = Math.max(0, s.blockedUntil - now);
    const windowWait = s.calls.length < this.options.limit ? 0 : s.calls[0]! + this.options.windowMs - now;
    return Math.max(blocked, windowWait, 0);
  }

  consume(key: string): void {
    const now = this.options.clock.now();
    const s = this.state.get(key) ?? { calls: [], blockedUntil: 0 };
    this.prune(s, now);
    s.calls.push(now);
    this.state.set(key, s);
  }

  /** Honour an upstream 429: no call for `key` until `untilEpochMs`, however long that is. */
  blockUntil(key: string, untilEpochMs: number): void {
    const s = this.state.get(key) ?? { calls: [], blockedUntil: 0 };
    s.blockedUntil = Math.max(s.blockedUntil, untilEpochMs);
    this.state.set(key, s);
  }

  private prune(s: KeyState, now: number): void {
    const cutoff = now - this.options.windowMs;
    let i = 0;
    while (i < s.calls.length && s.calls[i]! <= cutoff) i++;
    if (i > 0) s.calls.splice(0, i);
  }
}
