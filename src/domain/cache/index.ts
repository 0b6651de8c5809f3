/**
 * The gateway's cross-request caches, one per upstream resource, keyed by ICCID, each with the freshness reasoned in
 * the README ("Caching and upstream budgets"). Every upstream call they make is admitted by the scheduler
 * (src/domain/scheduler), which keeps the upstream's limits (`config.upstreamLimits`).
 */
import type { Clock } from '../../platform/clock.ts';
import type { GatewayConfig } from '../../platform/config.ts';
import type { RateLimit } from '../../platform/upstream-limits.ts';
import type { CacheL2 } from '../../stores/cache-l2/types.ts';
import type { InvalidationBus } from '../../stores/invalidation/types.ts';
import type { Balance, HistoryEntry, SimDetails, TopupPackage, UpstreamClient, Usage } from '../../upstream/index.ts';
import type { UpstreamScheduler } from '../scheduler/index.ts';
import { compactSimDetails } from './compact.ts';
import { ResourceCache } from './resource-cache.ts';

export { BudgetExhaustedError, CallAllowanceExceededError } from '../errors.ts';
export { CallAllowance } from './call-allowance.ts';
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

/** Bump when the JSON of a cached value changes incompatibly: replicas of two versions then never share a record. */
const L2_FORMAT = 'v1';

/**
 * Shared state of a fleet (README "Running several replicas"): the second cache level and the invalidation bus.
 * `flavour` scopes the L2 keys (`v1:<flavour>:<resource>:<ICCID>`); `lockLeaseMs` bounds one refresh (at least one
 * upstream call's deadline).
 */
export interface CacheSharing {
  l2: CacheL2;
  bus: InvalidationBus;
  flavour: string;
  lockLeaseMs: number;
}

export function createCaches(
  config: Pick<GatewayConfig, 'cache' | 'upstreamLimits'>,
  client: UpstreamClient,
  clock: Clock,
  /** Admits every upstream call (its budgets live in-process or fleet-wide: src/app/stores.ts chooses). */
  scheduler: UpstreamScheduler,
  sharing?: CacheSharing,
): GatewayCaches {
  const caches = buildCaches(config, client, clock, scheduler, sharing);
  if (sharing) {
    const byName = new Map<string, ResourceCache<unknown>>(
      Object.values(caches).map((cache: ResourceCache<unknown>) => [cache.name, cache]),
    );
    sharing.bus.onMessage((message) => byName.get(message.resource)?.applyRemote(message.key, message.kind));
    sharing.bus.onResync(() => {
      for (const cache of byName.values()) cache.markAllUnverified();
    });
  }
  return caches;
}

/**
 * The shortest interval at which the upstream lets one ICCID be read again on average (the per-ICCID limits of
 * `limits`: window / limit; 0 without any): a cached value is never considered fresher than that.
 */
export function minReadIntervalMs(limits: readonly RateLimit[] | undefined): number {
  let interval = 0;
  for (const l of limits ?? []) if (l.scope === 'per-iccid') interval = Math.max(interval, l.windowMs / l.limit);
  return interval;
}

function buildCaches(
  config: Pick<GatewayConfig, 'cache' | 'upstreamLimits'>,
  client: UpstreamClient,
  clock: Clock,
  scheduler: UpstreamScheduler,
  sharing: CacheSharing | undefined,
): GatewayCaches {
  const { cache, upstreamLimits } = config;
  const max = cache.maxSims;
  const s = (seconds: number) => seconds * 1000;
  /** Stale-if-error bound, and the stale-while-revalidate window for resources that need not be fresh to act on. */
  const MAX_STALE_MS = s(cache.maxStaleSeconds);
  const swr = { staleWhileRevalidateMs: s(cache.staleWhileRevalidateSeconds) };
  /** Fleet-wide sharing of one resource (nothing without `sharing`). */
  const share = (name: string) =>
    sharing
      ? {
          bus: sharing.bus,
          shared: {
            l2: sharing.l2,
            namespace: `${L2_FORMAT}:${sharing.flavour}:${name}`,
            lockLeaseMs: sharing.lockLeaseMs,
          },
        }
      : {};
  // Every cache's calls go through the scheduler, whatever the endpoint's limits (none: only 429 blocks apply).
  const admitted = { scheduler };
  return {
    details: new ResourceCache({
      name: 'details',
      ...share('details'),
      ...swr,
      max,
      ttlMs: s(cache.detailsTtlSeconds),
      maxStaleMs: MAX_STALE_MS,
      negativeTtlMs: s(cache.negativeTtlSeconds),
      clock,
      ...admitted,
      endpoint: 'sim',
      load: (iccid, signal) => client.getSim(iccid, signal),
      compact: compactSimDetails,
    }),
    usage: new ResourceCache({
      name: 'usage',
      ...share('usage'),
      ...swr,
      max,
      ttlMs: s(cache.usageTtlSeconds),
      maxStaleMs: MAX_STALE_MS,
      negativeTtlMs: s(cache.negativeTtlSeconds),
      clock,
      ...admitted,
      endpoint: 'usage',
      load: (iccid, signal) => client.getUsage(iccid, signal),
    }),
    topups: new ResourceCache({
      name: 'topups',
      ...share('topups'),
      max,
      ttlMs: s(cache.topupsTtlSeconds),
      maxStaleMs: s(cache.topupsTtlSeconds),
      negativeTtlMs: s(cache.negativeTtlSeconds),
      clock,
      ...admitted,
      endpoint: 'topups',
      load: (iccid, signal) => client.getTopups(iccid, signal),
    }),
    history: new ResourceCache({
      name: 'history',
      ...share('history'),
      ...swr,
      max,
      // Never fresher than the upstream lets us re-read it.
      ttlMs: Math.max(s(cache.historyTtlSeconds), minReadIntervalMs(upstreamLimits.endpoints.packages)),
      maxStaleMs: MAX_STALE_MS,
      negativeTtlMs: s(cache.negativeTtlSeconds),
      clock,
      ...admitted,
      endpoint: 'packages',
      load: (iccid, signal) => client.getPackageHistory(iccid, signal),
    }),
    balance: new ResourceCache({
      name: 'balance',
      ...share('balance'),
      max: 1,
      ttlMs: s(cache.balanceTtlSeconds),
      maxStaleMs: s(cache.balanceTtlSeconds),
      clock,
      ...admitted,
      endpoint: 'balance',
      keyIsIccid: false,
      load: (_key, signal) => client.getBalance(signal),
    }),
  };
}
