/**
 * Upstream call budgets and 429 blocks (README "Caching and upstream budgets", "Running several replicas").
 *
 * A budget is named by `scope` (a resource: `usage`, `history`, …; later a partner-wide scope) and `key` (an ICCID, or
 * `''` for a scope-wide budget). Limits are passed with every call, so one store serves every budget.
 *
 * Contract: `acquire` is ONE atomic decision per upstream call — never a read followed by a write — so however many
 * replicas share the store, at most `limit` calls are granted per sliding window `(now − windowMs, now]`, and none
 * while a block from a 429 holds. `now` is the caller's clock (epoch ms); window edges are computed from it alone.
 * Neither method rejects: a store that cannot decide fleet-wide decides locally, on a cut budget (redis.ts). An
 * in-process store answers synchronously (a plain value), so the embedded default starts a call in the same tick.
 */
export interface BudgetStore {
  /**
   * 0: the call is granted and recorded at `now`, the caller must make it. Otherwise nothing is recorded and the
   * result is the milliseconds until a call may be granted. `limit` may be `Infinity` (only blocks apply).
   */
  acquire(scope: string, key: string, limit: number, windowMs: number, now: number): number | Promise<number>;
  /** Honours an upstream 429: no call for (scope, key) before `untilEpochMs`; a shorter block never shortens a longer one. */
  block(scope: string, key: string, untilEpochMs: number, now: number): void | Promise<void>;
}
