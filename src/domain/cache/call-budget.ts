/**
 * One resource's upstream call budget: at most `limit` calls per ICCID per sliding `windowMs`, plus the blocks an
 * upstream 429's Retry-After imposes for their full length. The decisions live in a BudgetStore — in-process, or in
 * Redis for a fleet of replicas (src/stores/budgets/); this class only binds a resource's limit to it.
 *
 * Contract: `acquire(iccid) === 0` means one call was granted and recorded, and must be made; otherwise nothing was
 * recorded and the result is the ms to wait. The gateway never sends a call the budget denies, so the upstream's
 * per-ICCID limits cannot be breached by the gateway (by the fleet, with Redis) whatever the clients do.
 * See README.md, "Caching and upstream budgets".
 */
import type { Clock } from '../../platform/clock.ts';
import type { BudgetStore } from '../../stores/budgets/types.ts';

export interface CallBudgetOptions {
  /** Budget scope in the store: the resource name. */
  scope: string;
  /** Calls per window and ICCID; `Infinity` when only 429 blocks apply. */
  limit: number;
  windowMs: number;
  clock: Clock;
  store: BudgetStore;
}

export class CallBudget {
  constructor(private readonly options: CallBudgetOptions) {}

  /**
   * One atomic decision for one upstream call for `key`: 0 = granted (and counted); else ms until allowed. A plain
   * number from an in-process store, a promise from a fleet-wide one.
   */
  acquire(key: string): number | Promise<number> {
    const { store, scope, limit, windowMs, clock } = this.options;
    return store.acquire(scope, key, limit, windowMs, clock.now());
  }

  /** Honour an upstream 429: no call for `key` until `untilEpochMs`, however long that is. */
  blockUntil(key: string, untilEpochMs: number): void | Promise<void> {
    return this.options.store.block(this.options.scope, key, untilEpochMs, this.options.clock.now());
  }
}
