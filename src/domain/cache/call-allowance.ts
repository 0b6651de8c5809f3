/**
 * The upstream calls one client request may cause. Counted where a call is actually started (a cache miss the
 * budgets allow); cache hits, remembered refusals and joins of a call already in flight are free, so one ICCID asked
 * for through 30 aliases costs once. Past the limit no call is made: the read fails with CallAllowanceExceededError
 * (or serves a stale value when one is within its stale bound). See README.md, "Caching and upstream budgets".
 */
export class CallAllowance {
  #used = 0;

  constructor(readonly limit: number) {}

  /** Takes `calls` calls at once (all or none); false when fewer are left. */
  tryTake(calls = 1): boolean {
    if (this.#used + calls > this.limit) return false;
    this.#used += calls;
    return true;
  }

  /** Returns one call taken for a read the budget then refused (no upstream call was made). */
  giveBack(): void {
    if (this.#used > 0) this.#used--;
  }

  /** Upstream calls started so far on behalf of this request. */
  get used(): number {
    return this.#used;
  }
}
