/**
 * In-process call budgets: the embedded default, ONE REPLICA ONLY (each process would spend the upstream's limits
 * again). Also the Redis store's local fallback while Redis is unavailable.
 *
 * A key's record is kept for as long as its window lasts, however many other keys are called meanwhile (no LRU bound
 * that could forget a budget still in force). Records whose window has passed are swept as the maps grow, so memory is
 * bounded by the keys actually called within one window (at most twice that between sweeps).
 */
import type { BudgetRequest, BudgetState, BudgetStore } from './types.ts';

/** Sweeping starts once a map holds this many keys; below it, expired records cost less than a sweep. */
const MIN_SWEEP_AT = 1_024;

/** A key's call times within its window: one time, or several oldest first. */
type Calls = number | number[];

interface Scope {
  /**
   * Call times inside the window per key: the one call's time, or (from a second call on) the times oldest first.
   * Most keys see one call per window, and with 100k SIMs cached that is what this map is made of: a lone number
   * costs no array (~60 bytes less per key).
   */
  windows: Map<string, Calls>;
  windowsSweepAt: number;
  /** 429 blocks (key → epoch ms). Never dropped before they expire: expired ones are swept as the map grows. */
  blocks: Map<string, number>;
  blocksSweepAt: number;
}

export class MemoryBudgetStore implements BudgetStore {
  private readonly scopes = new Map<string, Scope>();

  acquire(scope: string, key: string, limit: number, windowMs: number, now: number): number {
    const wait = this.waitMs(scope, key, limit, windowMs, now);
    if (wait === 0) this.record(scope, key, limit, windowMs, now);
    return wait;
  }

  /** Several budgets at once: all granted and recorded, or nothing recorded and every budget's state returned. */
  acquireAll(requests: readonly BudgetRequest[], now: number): 0 | BudgetState {
    for (const r of requests) {
      if (this.waitMs(r.scope, r.key, r.limit, r.windowMs, now) > 0) return this.inspect(requests, now);
    }
    for (const r of requests) this.record(r.scope, r.key, r.limit, r.windowMs, now);
    return 0;
  }

  inspect(requests: readonly BudgetRequest[], now: number): BudgetState {
    const waits: number[] = [];
    const calls: number[][] = [];
    for (const r of requests) {
      waits.push(this.waitMs(r.scope, r.key, r.limit, r.windowMs, now));
      const times = Number.isFinite(r.limit) ? this.scopes.get(r.scope)?.windows.get(r.key) : undefined;
      calls.push(times === undefined ? [] : typeof times === 'number' ? [times] : times.slice()); // pruned by waitMs
    }
    return { waits, calls };
  }

  block(scope: string, key: string, untilEpochMs: number, now: number): void {
    const s = this.scope(scope);
    s.blocks.set(key, Math.max(s.blocks.get(key) ?? 0, untilEpochMs));
    if (s.blocks.size >= s.blocksSweepAt) {
      for (const [k, until] of s.blocks) if (until <= now) s.blocks.delete(k);
      s.blocksSweepAt = Math.max(MIN_SWEEP_AT, s.blocks.size * 2);
    }
  }

  /** Milliseconds until a call for (scope, key) is allowed; 0 when allowed now. Records nothing. */
  waitMs(scope: string, key: string, limit: number, windowMs: number, now: number): number {
    const s = this.scopes.get(scope);
    if (!s) return limit >= 1 ? 0 : windowMs;
    let wait = 0;
    const until = s.blocks.get(key);
    if (until !== undefined) {
      if (until > now) wait = until - now;
      else s.blocks.delete(key);
    }
    // A limit below one call (a fallback share of a tiny limit) grants nothing.
    if (limit < 1) return Math.max(wait, windowMs);
    const held = s.windows.get(key);
    if (held !== undefined && Number.isFinite(limit)) {
      const calls = prune(s.windows, key, held, now, windowMs);
      // Room again once all but limit − 1 of the calls have left the window (a lowered limit may be exceeded).
      const whole = Math.floor(limit);
      if (typeof calls === 'number') {
        if (whole <= 1) wait = Math.max(wait, calls + windowMs - now);
      } else if (calls !== undefined && calls.length >= whole)
        wait = Math.max(wait, calls[calls.length - whole]! + windowMs - now);
    }
    return Math.max(wait, 0);
  }

  /** Records a call made at `now` (granted here, or by the fleet-wide store). Unlimited scopes record nothing. */
  record(scope: string, key: string, limit: number, windowMs: number, now: number): void {
    if (!Number.isFinite(limit)) return;
    const s = this.scope(scope);
    const held = s.windows.get(key);
    const calls = held === undefined ? undefined : prune(s.windows, key, held, now, windowMs);
    if (calls !== undefined) {
      if (typeof calls === 'number') s.windows.set(key, [calls, now]);
      else calls.push(now);
      return;
    }
    s.windows.set(key, now);
    if (s.windows.size >= s.windowsSweepAt) {
      const cutoff = now - windowMs;
      // A record whose newest call left the window constrains nothing any more.
      for (const [k, times] of s.windows)
        if ((typeof times === 'number' ? times : times[times.length - 1]!) <= cutoff) s.windows.delete(k);
      s.windowsSweepAt = Math.max(MIN_SWEEP_AT, s.windows.size * 2);
    }
  }

  /** Keys with a record (a call within the window or a block); for tests and metrics. */
  get trackedKeys(): number {
    let n = 0;
    for (const s of this.scopes.values()) n += s.windows.size + s.blocks.size;
    return n;
  }

  private scope(name: string): Scope {
    let s = this.scopes.get(name);
    if (!s) {
      s = { windows: new Map(), windowsSweepAt: MIN_SWEEP_AT, blocks: new Map(), blocksSweepAt: MIN_SWEEP_AT };
      this.scopes.set(name, s);
    }
    return s;
  }
}

/** `key`'s calls still inside the window (the map updated); undefined, and the key dropped, when none is. */
function prune(
  windows: Map<string, Calls>,
  key: string,
  calls: Calls,
  now: number,
  windowMs: number,
): Calls | undefined {
  const cutoff = now - windowMs;
  if (typeof calls === 'number') {
    if (calls > cutoff) return calls;
    windows.delete(key);
    return undefined;
  }
  let i = 0;
  while (i < calls.length && calls[i]! <= cutoff) i++;
  if (i === calls.length) {
    windows.delete(key);
    return undefined;
  }
  if (i > 0) calls.splice(0, i);
  return calls;
}
