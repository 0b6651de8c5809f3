/**
 * Upstream call budgets and 429 blocks (README "Caching and upstream budgets", "Running several replicas").
 *
 * A budget is named by `scope` (an endpoint's limit: `usage#i0`, `usage#p0`, …) and `key` (an ICCID, or `''` for a
 * partner-wide budget). Limits are passed with every call, so one store serves every budget. A block (a 429's
 * Retry-After) belongs to one (scope, key) too; a request with `limit: Infinity` checks only its block.
 *
 * Contract: `acquire` and `acquireAll` are ONE atomic decision per upstream call — never a read followed by a write —
 * so however many replicas share the store, at most `limit` calls are granted per sliding window `(now − windowMs,
 * now]`, and none while a block from a 429 holds. `acquireAll` decides several budgets together (an endpoint's
 * per-ICCID and partner-wide limits): all are recorded or none, so a call one budget refuses never spends another's
 * slot. `now` is the caller's clock (epoch ms); window edges are computed from it alone. No method rejects: a store
 * that cannot decide fleet-wide decides locally, on a cut budget (redis.ts). An in-process store answers synchronously
 * (a plain value), so the embedded default starts a call in the same tick.
 */
export interface BudgetStore {
  /**
   * 0: the call is granted and recorded at `now`, the caller must make it. Otherwise nothing is recorded and the
   * result is the milliseconds until a call may be granted. `limit` may be `Infinity` (only blocks apply).
   */
  acquire(scope: string, key: string, limit: number, windowMs: number, now: number): number | Promise<number>;
  /**
   * One decision over several budgets: 0 when every one allows a call (then it is recorded in each, at `now`);
   * otherwise nothing is recorded and the result is every budget's state (`BudgetState`).
   */
  acquireAll(requests: readonly BudgetRequest[], now: number): 0 | BudgetState | Promise<0 | BudgetState>;
  /** The state of `requests` at `now`, recording nothing (for estimates of when a call will be admitted). */
  inspect(requests: readonly BudgetRequest[], now: number): BudgetState | Promise<BudgetState>;
  /** Honours an upstream 429: no call for (scope, key) before `untilEpochMs`; a shorter block never shortens a longer one. */
  block(scope: string, key: string, untilEpochMs: number, now: number): void | Promise<void>;
}

export interface BudgetRequest {
  readonly scope: string;
  readonly key: string;
  /** Calls per window (a whole number); `Infinity` = only the block of (scope, key) applies. */
  readonly limit: number;
  readonly windowMs: number;
}

/** Every requested budget at one instant, in request order. */
export interface BudgetState {
  /** Milliseconds until the budget alone would allow a call (its window and its block); 0 = it has room now. */
  waits: number[];
  /** The calls recorded inside the budget's window, oldest first (empty for an unlimited budget). */
  calls: number[][];
}
