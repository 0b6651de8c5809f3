/**
 * The per-request data access object: the only way resolvers read data or reach the upstream.
 *
 * Contract (README "HTTP endpoints and authentication", response cache):
 * - per-ICCID reads (details, usage, top-ups, history) and the balance go through the shared resource caches
 *   (batched per request by DataLoaders) and are recorded in the request's `ResponseDependencies` — resource,
 *   key, freshness end, stale — here, not by the resolver;
 * - a failed read, and every read no per-ICCID cache backs (list pages, the purchase, any `uncached` upstream
 *   call), marks the response uncacheable here;
 * - every upstream call it causes counts against the request's allowance (MAX_UPSTREAM_CALLS_PER_REQUEST);
 * - every upstream call it causes is admitted by the scheduler for this request's caller: per-SIM reads with the
 *   mode the resolver asks for (`foreground` by default, `deferred` for a field under @defer / @stream: a longer wait
 *   bound), everything else — the balance, list pages, the purchase, notification settings — as `foreground`
 *   (README "How the scheduler decides").
 * The caches, the client and the tracker are private: a resolver cannot bypass the recording.
 */
import DataLoader from 'dataloader';
import type { AlertHub, BalanceAlertEvent, SimAlertEvent, UsageUpdate, UsageWatch } from '../domain/alerts/index.ts';
import {
  BALANCE_KEY,
  type CacheRead,
  type CallAllowance,
  CallAllowanceExceededError,
  type GatewayCaches,
  type ResourceCache,
} from '../domain/cache/index.ts';
import type { PurchaseInput, PurchaseOutcome, PurchaseService } from '../domain/purchase/index.ts';
import { type Demand, type ReadMode, withDemand } from '../domain/scheduler/index.ts';
import {
  type Balance,
  type HistoryEntry,
  NOTIFICATION_TYPES,
  type NotificationSetting,
  type NotificationType,
  type SimDetails,
  type TopupPackage,
  type UpstreamClient,
  type Usage,
} from '../upstream/index.ts';
import type { ResponseDependencies } from './response-cache.ts';

/** The per-ICCID resources a query may prefetch alongside a SIM's existence check. */
export type SimResource = 'usage' | 'topups' | 'history';

export type { ReadMode };

/** Every per-ICCID resource and its value. */
interface SimResources {
  details: SimDetails;
  usage: Usage;
  topups: TopupPackage[];
  history: HistoryEntry[];
}

export interface DataAccessOptions {
  caches: GatewayCaches;
  client: UpstreamClient;
  purchases: PurchaseService;
  alerts: { hub: AlertHub; usage: UsageWatch };
  signal: AbortSignal | undefined;
  /** The caller (Principal.id): the scheduler is fair between callers. */
  principal: string;
  /** Upstream calls this request may still cause. */
  allowance: CallAllowance;
  /** Where reads are recorded; a throwaway (untracked) one when the response can never be stored. */
  dependencies: ResponseDependencies;
}

/** A window of the upstream's SIM list: each SIM's details (the list primes the details cache) and the total. */
export interface SimListWindow {
  sims: { iccid: string; details: CacheRead<SimDetails> }[];
  total: number;
}

/** No batch endpoint exists upstream, so a batch is one cache read per distinct key, concurrently. */
const MAX_BATCH = 100;

export class DataAccess {
  readonly #caches: GatewayCaches;
  readonly #client: UpstreamClient;
  readonly #purchases: PurchaseService;
  readonly #alerts: { hub: AlertHub; usage: UsageWatch };
  readonly #signal: AbortSignal | undefined;
  readonly #allowance: CallAllowance;
  readonly #dependencies: ResponseDependencies;
  readonly #demands: Readonly<Record<ReadMode, Demand>>;
  /** Per read mode (the deferred ones made on first use): one batch per resource and mode. */
  readonly #loaders: { foreground: Loaders; deferred?: Loaders };

  constructor(options: DataAccessOptions) {
    this.#caches = options.caches;
    this.#client = options.client;
    this.#purchases = options.purchases;
    this.#alerts = options.alerts;
    this.#signal = options.signal;
    this.#allowance = options.allowance;
    this.#dependencies = options.dependencies;
    this.#demands = {
      foreground: { priority: 'foreground', principal: options.principal },
      deferred: { priority: 'deferred', principal: options.principal },
    };
    this.#loaders = { foreground: this.#loadersFor('foreground') };
  }

  /** A SIM's details (the existence check behind SIM_NOT_FOUND). */
  simDetails(iccid: string, mode: ReadMode = 'foreground'): Promise<CacheRead<SimDetails>> {
    return this.#load('details', iccid, mode);
  }

  /** `mode`: `deferred` when the field is under @defer / @stream (its call may wait longer for upstream budget). */
  usage(iccid: string, mode: ReadMode = 'foreground'): Promise<CacheRead<Usage>> {
    return this.#load('usage', iccid, mode);
  }

  topups(iccid: string, mode: ReadMode = 'foreground'): Promise<CacheRead<TopupPackage[]>> {
    return this.#load('topups', iccid, mode);
  }

  history(iccid: string, mode: ReadMode = 'foreground'): Promise<CacheRead<HistoryEntry[]>> {
    return this.#load('history', iccid, mode);
  }

  /**
   * `iccid`'s `resource` when the cache holds it fresh, at once (recorded like every read), else undefined: then read
   * it with `simDetails(iccid)`, `usage(iccid)` … A warm read thus costs no promise and no loader batch (and needs no
   * upstream budget, whatever its read mode).
   */
  cached<R extends keyof SimResources>(resource: R, iccid: string): CacheRead<SimResources[R]> | undefined {
    // Loaded (or loading) in this request already: the loader's read, so one key is one read per request.
    if (this.#loading?.[resource]?.has(iccid)) return undefined;
    const caches: { [K in keyof SimResources]: ResourceCache<SimResources[K]> } = this.#caches;
    const cache = caches[resource];
    const read = cache.fresh(iccid);
    if (read !== undefined && this.#dependencies.tracked)
      this.#dependencies.note(cache.name, iccid, cache.freshUntil(read), false);
    return read;
  }

  /**
   * Starts loading `resources` of `iccid` now; the field resolvers later get the same promises (asked with the same
   * `mode`: fields under @defer / @stream are prefetched `deferred`; a resource the cache holds fresh needs no loading:
   * its resolver reads it with `cached`). Nothing is prefetched while the circuit breaker is not closed, so its
   * single probe is the existence check.
   */
  prefetch(iccid: string, resources: Iterable<SimResource>, mode: ReadMode = 'foreground'): void {
    if (this.#client.breakerState() !== 'closed') return;
    for (const resource of resources)
      if (this.#caches[resource].fresh(iccid, false) === undefined) this.#load(resource, iccid, mode).catch(() => {});
  }

  async balance(): Promise<CacheRead<Balance>> {
    const cache = this.#caches.balance;
    try {
      const read = await cache.get(BALANCE_KEY, this.#demands.foreground, this.#signal, this.#allowance);
      this.#dependencies.note(cache.name, BALANCE_KEY, cache.freshUntil(read), read.stale);
      return read;
    } catch (error) {
      this.#dependencies.refuse();
      throw error;
    }
  }

  /**
   * The details of each of `iccids` (an end user's own SIMs), settled one by one. A list page: the response is
   * never stored.
   */
  ownedSims(iccids: readonly string[]): Promise<PromiseSettledResult<CacheRead<SimDetails>>[]> {
    this.#dependencies.refuse();
    return Promise.allSettled(iccids.map((iccid) => this.#load('details', iccid, 'foreground')));
  }

  /**
   * [offset, offset+first) of the page-based upstream list: one upstream page, two when unaligned. Every SIM in
   * the window primes the details cache. No per-ICCID cache backs a list page: the response is never stored.
   */
  async simListWindow(offset: number, first: number, iccidContains?: string): Promise<SimListWindow> {
    const firstPage = Math.floor(offset / first) + 1;
    const pages = offset % first === 0 ? [firstPage] : [firstPage, firstPage + 1];
    const results = await this.uncached('sims', pages.length, (client, signal) =>
      Promise.all(
        pages.map((page) =>
          client.listSims({ limit: first, page, ...(iccidContains ? { iccidContains } : {}) }, signal),
        ),
      ),
    );
    const start = (firstPage - 1) * first;
    const items = results.flatMap((r) => r.items).slice(offset - start, offset - start + first);
    const details = this.#caches.details;
    const sims = items.map((item) => {
      details.prime(item.iccid, item);
      return { iccid: item.iccid, details: details.peek(item.iccid)! };
    });
    return { sims, total: results[0]?.page.total ?? sims.length };
  }

  /** The idempotent top-up purchase; a mutation is never stored. */
  purchase(principalId: string, input: PurchaseInput): Promise<PurchaseOutcome> {
    this.#dependencies.refuse();
    return this.#purchases.purchase(principalId, input);
  }

  /** Live SIM alerts for `iccids` (authorised by the caller), or every SIM's when undefined. Never stored. */
  simAlerts(principalId: string, iccids: readonly string[] | undefined): AsyncIterableIterator<SimAlertEvent> {
    this.#dependencies.refuse();
    return this.#alerts.hub.simAlerts(principalId, iccids);
  }

  balanceAlerts(principalId: string): AsyncIterableIterator<BalanceAlertEvent> {
    this.#dependencies.refuse();
    return this.#alerts.hub.balanceAlerts(principalId);
  }

  /** The usage of `iccids` (authorised by the caller) now and whenever it changes; one shared refresh per SIM. */
  usageUpdates(principalId: string, iccids: readonly string[]): AsyncIterableIterator<UsageUpdate> {
    this.#dependencies.refuse();
    return this.#alerts.usage.watch(principalId, iccids);
  }

  /** Every webhook notification type's current upstream setting (one upstream call per type). */
  notificationSettings(): Promise<{ type: NotificationType; setting: NotificationSetting | null }[]> {
    return this.uncached('notificationSettings', NOTIFICATION_TYPES.length, (client, signal) =>
      Promise.all(
        NOTIFICATION_TYPES.map(async (type) => ({ type, setting: await client.getNotification(type, signal) })),
      ),
    );
  }

  /** Opts in (to `webhookUrl`) or out of one notification type at the upstream. */
  setNotification(input: {
    type: NotificationType;
    enabled: boolean;
    webhookUrl: string;
    levels?: number[];
  }): Promise<NotificationSetting | null> {
    return this.uncached(input.enabled ? 'notificationOptIn' : 'notificationOptOut', 1, async (client, signal) => {
      if (!input.enabled) {
        await client.optOutNotification(input.type, signal);
        return null;
      }
      const setting = await client.optInNotification(
        { type: input.type, webhookUrl: input.webhookUrl, ...(input.levels ? { levels: input.levels } : {}) },
        signal,
      );
      return setting ?? { type: input.type, contactPoint: input.webhookUrl, levels: input.levels ?? null };
    });
  }

  /**
   * A direct upstream read that no per-ICCID cache backs: takes `calls` from the request's allowance (all or
   * none) and marks the response uncacheable before calling.
   */
  async uncached<T>(
    endpoint: string,
    calls: number,
    read: (client: UpstreamClient, signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    this.#dependencies.refuse();
    if (!this.#allowance.tryTake(calls)) throw new CallAllowanceExceededError(endpoint, this.#allowance.limit);
    // The client's calls reach the scheduler through the transport: the demand travels in their async context.
    return withDemand(this.#demands.foreground, () => read(this.#client, this.#signal));
  }

  /** Keys this request read through its loaders, per resource (none for a request served from fresh entries). */
  #loading: Partial<Record<keyof SimResources, Set<string>>> | undefined;

  #load<R extends keyof SimResources>(resource: R, iccid: string, mode: ReadMode): Promise<CacheRead<SimResources[R]>> {
    this.#loading ??= {};
    const keys = this.#loading[resource] ?? new Set<string>();
    this.#loading[resource] = keys;
    keys.add(iccid);
    return this.#loadersOf(mode)[resource].load(iccid) as Promise<CacheRead<SimResources[R]>>;
  }

  #loadersOf(mode: ReadMode): Loaders {
    if (mode === 'foreground') return this.#loaders.foreground;
    this.#loaders.deferred ??= this.#loadersFor('deferred');
    return this.#loaders.deferred;
  }

  #loadersFor(mode: ReadMode): Loaders {
    const caches = this.#caches;
    return {
      details: this.#loaderFor(caches.details, mode),
      usage: this.#loaderFor(caches.usage, mode),
      topups: this.#loaderFor(caches.topups, mode),
      history: this.#loaderFor(caches.history, mode),
    };
  }

  #loaderFor<V>(cache: ResourceCache<V>, mode: ReadMode): DataLoader<string, CacheRead<V>> {
    const dependencies = this.#dependencies;
    const demand = this.#demands[mode];
    return new DataLoader<string, CacheRead<V>>(
      async (iccids) => {
        // Contract: one result per key, in key order; a failure is an Error in its slot, never a hole.
        const settled = await Promise.allSettled(
          iccids.map((iccid) => cache.get(iccid, demand, this.#signal, this.#allowance)),
        );
        const tracked = dependencies.tracked;
        return settled.map((r, i) => {
          if (r.status === 'fulfilled') {
            if (tracked) dependencies.note(cache.name, iccids[i]!, cache.freshUntil(r.value), r.value.stale);
            return r.value;
          }
          dependencies.refuse();
          return r.reason instanceof Error ? r.reason : new Error(String(r.reason));
        });
      },
      // A deferred read settles on its own: each SIM's later part is sent as soon as its read is admitted and done,
      // not when the slowest read of a batch is (the scheduler admits deferred reads a few per second).
      mode === 'deferred'
        ? { name: `${cache.name}ByIccidDeferred`, batch: false }
        : { name: `${cache.name}ByIccid`, maxBatchSize: MAX_BATCH },
    );
  }
}

interface Loaders {
  details: DataLoader<string, CacheRead<SimDetails>>;
  usage: DataLoader<string, CacheRead<Usage>>;
  topups: DataLoader<string, CacheRead<TopupPackage[]>>;
  history: DataLoader<string, CacheRead<HistoryEntry[]>>;
}
