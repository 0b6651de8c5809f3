/**
 * A token bucket shared by every GET retry of one client (one per process): each first attempt deposits `ratio`
 * tokens, up to `max`; each retry costs one token; no token, no retry. So retries add at most `ratio` × first attempts
 * (+ `max` for a burst) to the upstream's load — a struggling upstream gets ~20 % extra, never 3×.
 * The bucket starts full, so isolated failures on a quiet gateway are still retried. README "Configuration",
 * `UPSTREAM_RETRY_BUDGET_RATIO`.
 */
export interface RetryBudgetOptions {
  /** Tokens deposited per first attempt. Default 0.2 (retries add at most ~20 % load). */
  ratio?: number;
  /** Bucket capacity, and its initial content. Default 10. */
  max?: number;
}

export class RetryBudget {
  readonly #ratio: number;
  readonly #max: number;
  #tokens: number;

  constructor(options: RetryBudgetOptions = {}) {
    this.#ratio = options.ratio ?? 0.2;
    this.#max = options.max ?? 10;
    if (!(this.#ratio >= 0)) throw new RangeError('retryBudget.ratio must be ≥ 0');
    if (!(this.#max >= 0)) throw new RangeError('retryBudget.max must be ≥ 0');
    this.#tokens = this.#max;
  }

  /** Called once per first attempt. */
  deposit(): void {
    this.#tokens = Math.min(this.#max, this.#tokens + this.#ratio);
  }

  /** Takes one token for a retry; false when the budget is spent (the failure then goes to the caller as is). */
  tryWithdraw(): boolean {
    // A small epsilon: five deposits of 0.2 must make a whole token despite floating-point sums.
    if (this.#tokens < 1 - 1e-9) return false;
    this.#tokens = Math.max(0, this.#tokens - 1);
    return true;
  }

  /** Tokens left (for tests and metrics). */
  get tokens(): number {
    return this.#tokens;
  }
}
