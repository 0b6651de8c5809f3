/**
 * The gateway's cross-request caches, one per upstream resource, keyed by ICCID, each with the
 * freshness reasoned in the README ("Caching and upstream budgets") and the per-ICCID call budgets
 * that keep the upstream's documented limits.
 */
import type { Clock } from '../../platform/clock.ts';
import type { GatewayConfig } from '../../platform/config.ts';
import type { BudgetStore } from '../../stores/budgets/types.ts';
import type { Balance, HistoryEntry, SimDetails, TopupPackage, UpstreamClient, Usage } from '../../upstream/index.ts';
import { CallBudget } from './call-budget.ts';
import { compactSimDetails } from './compact.ts';
import { ResourceCache } from './resource-cache.ts';

export { BudgetExhaustedError, CallAllowanceExceededError } from '../errors.ts';
export { CallAllowance } from './call-allowance.ts';
export { CallBudget } from './call-budget.ts';
export { type CacheRead, type CacheStats, ResourceCache } from './resource-cache.ts';

export interface GatewayCaches {
  details: ResourceCache<SimDetails>;
  usage: ResourceCache<Usage>;
  topups: ResourceCache<TopupPackage[]>;
  history: ResourceCache<HistoryEntry[]>;
  /** One key, `BALANCE_KEY`: the partner account's balance. */
  balance: ResourceCache<Balance>;
}

export const BALANCE_KEY = 'partner';

export function createCaches(
  config: Pick<GatewayConfig, 'cache' | 'limits'>,
  client: UpstreamClient,
  clock: Clock,
  /** Where call budgets and 429 blocks are decided: in-process, or fleet-wide (src/app/stores.ts chooses). */
  budgets: BudgetStore,
): GatewayCaches {
  const { cache, limits } = config;
  const max = cache.maxSims;
  const s = (seconds: number) => seconds * 1000;
  /** Stale-if-error bound, and the stale-while-revalidate window for resources that need not be fresh to act on. */
  const MAX_STALE_MS = s(cache.maxStaleSeconds);
  const swr = { staleWhileRevalidateMs: s(cache.staleWhileRevalidateSeconds) };
  const budget = (scope: string, limit: number, windowMs: number) =>
    new CallBudget({ scope, limit, windowMs, clock, store: budgets });
  const usageBudget = budget('usage', limits.usagePerMinute, 60_000);
  // Details are cached for an hour; the budget bounds re-reads of one ICCID however its entry or refusal was evicted.
  const detailsBudget = budget('details', limits.detailsPerMinute, 60_000);
  const historyBudget = budget('history', 1, Math.max(1, s(limits.historyIntervalSeconds)));
  // No documented limit: only 429 blocks apply (shared by the fleet like every budget).
  const unlimited = (scope: string) => budget(scope, Number.POSITIVE_INFINITY, 1);
  return {
    details: new ResourceCache({
      name: 'details',
      ...swr,
      max,
      ttlMs: s(cache.detailsTtlSeconds),
      maxStaleMs: MAX_STALE_MS,
      negativeTtlMs: s(cache.negativeTtlSeconds),
      clock,
      budget: detailsBudget,
      load: (iccid, signal) => client.getSim(iccid, signal),
      compact: compactSimDetails,
    }),
    usage: new ResourceCache({
      name: 'usage',
      ...swr,
      max,
      ttlMs: s(cache.usageTtlSeconds),
      maxStaleMs: MAX_STALE_MS,
      negativeTtlMs: s(cache.negativeTtlSeconds),
      clock,
      budget: usageBudget,
      load: (iccid, signal) => client.getUsage(iccid, signal),
    }),
    topups: new ResourceCache({
      name: 'topups',
      max,
      ttlMs: s(cache.topupsTtlSeconds),
      maxStaleMs: s(cache.topupsTtlSeconds),
      negativeTtlMs: s(cache.negativeTtlSeconds),
      clock,
      budget: unlimited('topups'),
      load: (iccid, signal) => client.getTopups(iccid, signal),
    }),
    history: new ResourceCache({
      name: 'history',
      ...swr,
      max,
      // Never fresher than the upstream lets us re-read it.
      ttlMs: Math.max(s(cache.historyTtlSeconds), s(limits.historyIntervalSeconds)),
      maxStaleMs: MAX_STALE_MS,
      negativeTtlMs: s(cache.negativeTtlSeconds),
      clock,
      budget: historyBudget,
      load: (iccid, signal) => client.getPackageHistory(iccid, signal),
    }),
    balance: new ResourceCache({
      name: 'balance',
      max: 1,
      ttlMs: s(cache.balanceTtlSeconds),
      maxStaleMs: s(cache.balanceTtlSeconds),
      clock,
      budget: unlimited('balance'),
      load: (_key, signal) => client.getBalance(signal),
    }),
  };
}
