/**
 * One upstream resource (usage, top-ups, history, details, balance) cached across requests, keyed by ICCID.
 *
 * Contract of `get(key)`:
 * - fresh entry (younger than `ttlMs`)                → served, no upstream call;
 * - expired less than `staleWhileRevalidateMs` ago   → served marked `stale`, refreshed in the background;
 * - missing or expired, budget allows                → one upstream call, shared by every concurrent caller
 *                                                       for that key (coalesced), result stored;
 * - budget denies (per-ICCID limit or a 429 block)   → the cached value marked `stale`, else BudgetExhaustedError;
 * - upstream answers 429                              → the key is blocked for the full Retry-After, then as above;
 * - upstream unavailable (5xx, timeout)               → stale value if one is within `maxStaleMs`, else the error;
 * - upstream not found or refused (422, e.g. recycled) → remembered for `negativeTtlMs` (no call per retry), rethrown;
 * - the caller's request has used its CallAllowance → the cached value marked `stale`, else CallAllowanceExceededError.
 * An upstream call is aborted only when every caller waiting for it has gone away.
 * See README.md, "Caching and upstream budgets".
 */
import { LRUCache } from 'lru-cache';
import { raceAbort } from '../../platform/abort.ts';
import type { Clock } from '../../platform/clock.ts';
import { noteCacheRead } from '../../platform/tracing.ts';
import {
  UpstreamBusinessError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
} from '../../upstream/index.ts';
import { BudgetExhaustedError, CallAllowanceExceededError } from '../errors.ts';
import type { CallAllowance } from './call-allowance.ts';
import type { CallBudget } from './call-budget.ts';

export interface CacheRead<V> {
  value: V;
  /** Epoch ms at which the gateway received this value from the upstream. */
  fetchedAt: number;
  /** True when served past its freshness because the upstream may not or could not be asked. */
  stale: boolean;
}

export interface ResourceCacheOptions<V> {
  /** Resource name, used in errors and metrics. */
  name: string;
  max: number;
  ttlMs: number;
  /** How long past freshness a value may still be served when the upstream is limited or failing. */
  maxStaleMs: number;
  /** How long past freshness a value is served at once while it is refreshed in the background (0 = never). */
  staleWhileRevalidateMs?: number;
  clock: Clock;
  load: (key: string, signal: AbortSignal) => Promise<V>;
  /** Decides every upstream call (per-ICCID limit and 429 blocks); asked only on an L1 miss. */
  budget: CallBudget;
  /** How long a definitive refusal (404, 422 business error) is remembered; 0/undefined = not at all. */
  negativeTtlMs?: number;
  /** Applied to every value before it is stored (a lossless, smaller representation; see compact.ts). */
  compact?: (value: V) => V;
}

/** What the LRU stores: served as is on a fresh hit (no allocation per read), hence frozen. */
type Entry<V> = Readonly<CacheRead<V> & { stale: false }>;

const entryOf = <V>(value: V, fetchedAt: number): Entry<V> =>
  Object.freeze({ value, fetchedAt, stale: false as const });

/** A flight the budget refused: nothing was called; `waitMs` until the budget allows one. */
class BudgetDenied extends BudgetExhaustedError {
  constructor(
    resource: string,
    readonly waitMs: number,
  ) {
    super(resource, Math.ceil(waitMs / 1000));
  }
}

interface Inflight<V> {
  promise: Promise<Entry<V>>;
  controller: AbortController;
  waiters: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  staleServes: number;
  upstreamCalls: number;
}

export class ResourceCache<V> {
  private readonly entries: LRUCache<string, Entry<V>>;
  private readonly refusals: LRUCache<string, Error> | undefined;
  private readonly inflight = new Map<string, Inflight<V>>();
  private readonly changeListeners: ((key: string) => void)[] = [];
  readonly stats: CacheStats = { hits: 0, misses: 0, staleServes: 0, upstreamCalls: 0 };

  constructor(private readonly options: ResourceCacheOptions<V>) {
    // ttlResolution 0: lru-cache would otherwise memoise `now` on a real timer, which an injected clock defeats.
    const perf = { now: () => options.clock.now() };
    this.entries = new LRUCache<string, Entry<V>>({
      max: options.max,
      ttl: Math.max(1, options.ttlMs + options.maxStaleMs),
      ttlResolution: 0,
      perf,
    });
    this.refusals = options.negativeTtlMs
      ? // Remembered refusals only save repeated 404/422 calls: a smaller bound than the values' costs nothing in safety.
        new LRUCache<string, Error>({
          max: Math.min(options.max, 10_000),
          ttl: options.negativeTtlMs,
          ttlResolution: 0,
          perf,
        })
      : undefined;
  }

  get name(): string {
    return this.options.name;
  }

  /** `allowance`: the calling request's share of upstream calls; a call this read starts is taken from it. */
  async get(key: string, signal?: AbortSignal, allowance?: CallAllowance): Promise<CacheRead<V>> {
    const now = this.options.clock.now();
    const entry = this.entries.get(key);
    if (entry) {
      const age = now - entry.fetchedAt;
      if (age < this.options.ttlMs) {
        this.stats.hits++;
        noteCacheRead(this.options.name, key, 'hit'); // tracing hook
        return entry;
      }
      if (age < this.options.ttlMs + (this.options.staleWhileRevalidateMs ?? 0)) {
        this.revalidate(key, allowance);
        this.stats.staleServes++;
        noteCacheRead(this.options.name, key, 'stale'); // tracing hook
        return { ...entry, stale: true };
      }
    }
    const refused = this.refusals?.get(key);
    if (refused) throw refused;
    this.stats.misses++;

    const joinable = this.inflight.get(key);
    // The allowance is taken before the budget decides (a flight starts at once, so concurrent readers join it) and
    // given back when the budget denies.
    if (!joinable && allowance && !allowance.tryTake())
      return this.serveStale(entry, new CallAllowanceExceededError(this.options.name, allowance.limit));
    try {
      const fresh = await this.join(key, joinable, signal, allowance);
      noteCacheRead(this.options.name, key, 'miss'); // tracing hook
      return fresh;
    } catch (error) {
      if (error instanceof BudgetDenied) {
        noteCacheRead(this.options.name, key, 'budget', error.waitMs); // tracing hook
        return this.serveStale(entry, error);
      }
      noteCacheRead(this.options.name, key, 'miss'); // tracing hook
      if (error instanceof UpstreamRateLimitedError || error instanceof UpstreamUnavailableError)
        return this.serveStale(entry, error);
      throw error;
    }
  }

  /** Background refresh for stale-while-revalidate: only when none is under way and the budget allows. */
  private revalidate(key: string, allowance: CallAllowance | undefined): void {
    if (this.inflight.has(key)) return;
    if (allowance && !allowance.tryTake()) return;
    const flight = this.start(key, allowance);
    flight.waiters++; // nobody will abort it
    flight.promise.catch(() => {}); // outcome already recorded by start(); the stale value was served
  }

  /** When `read` stops being fresh (a new upstream read may then replace it). */
  freshUntil(read: CacheRead<V>): number {
    return read.fetchedAt + this.options.ttlMs;
  }

  /** `listener(key)` runs whenever the value stored for `key` is replaced, patched or dropped. */
  onChange(listener: (key: string) => void): void {
    this.changeListeners.push(listener);
  }

  private changed(key: string): void {
    for (const listener of this.changeListeners) listener(key);
  }

  /** Current entry without any upstream call (undefined when absent). */
  peek(key: string): CacheRead<V> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    return this.options.clock.now() - entry.fetchedAt >= this.options.ttlMs ? { ...entry, stale: true } : entry;
  }

  /** Store a value obtained elsewhere (e.g. a list page priming per-ICCID details). */
  prime(key: string, value: V): void {
    this.entries.set(key, entryOf(this.compact(value), this.options.clock.now()));
    this.refusals?.delete(key);
    this.changed(key);
  }

  /** Patch a cached value in place, keeping its fetch time (e.g. append a purchased package to history). */
  update(key: string, patch: (value: V) => V): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.set(key, entryOf(this.compact(patch(entry.value)), entry.fetchedAt), { noUpdateTTL: true });
    this.changed(key);
    return true;
  }

  /** Forget a key so that the next read asks the upstream (budget permitting). */
  invalidate(key: string): void {
    this.entries.delete(key);
    this.refusals?.delete(key);
    this.changed(key);
  }

  private compact(value: V): V {
    return this.options.compact ? this.options.compact(value) : value;
  }

  get size(): number {
    return this.entries.size;
  }

  private serveStale(entry: Entry<V> | undefined, error: Error): CacheRead<V> {
    if (entry && this.options.clock.now() - entry.fetchedAt < this.options.ttlMs + this.options.maxStaleMs) {
      this.stats.staleServes++;
      return { ...entry, stale: true };
    }
    throw error;
  }

  private join(
    key: string,
    existing: Inflight<V> | undefined,
    signal: AbortSignal | undefined,
    allowance: CallAllowance | undefined,
  ): Promise<Entry<V>> {
    const flight = existing ?? this.start(key, allowance);
    flight.waiters++;
    return raceAbort(flight.promise, signal, () => this.leave(key, flight));
  }

  private leave(key: string, flight: Inflight<V>): void {
    flight.waiters--;
    if (flight.waiters <= 0 && this.inflight.get(key) === flight) {
      this.inflight.delete(key);
      flight.controller.abort(new Error('no caller is waiting for this upstream call'));
    }
  }

  /**
   * A flight: the budget's one decision for this call (a flight starts at once, so concurrent readers join it even
   * while a fleet-wide budget is asked), then the upstream call. A denial rejects with BudgetDenied and calls nothing.
   */
  private start(key: string, allowance: CallAllowance | undefined): Inflight<V> {
    const controller = new AbortController();
    const budget = this.options.budget;
    const call = (waitMs: number): Promise<V> => {
      if (waitMs > 0) {
        allowance?.giveBack();
        throw new BudgetDenied(this.options.name, waitMs);
      }
      this.stats.upstreamCalls++;
      return this.options.load(key, controller.signal);
    };
    const decision = budget.acquire(key);
    // An in-process budget decides synchronously: the call starts in this tick, as it always did.
    const promise = (
      typeof decision === 'number' ? new Promise<V>((resolve) => resolve(call(decision))) : decision.then(call)
    ).then(
      (value) => {
        const entry = entryOf(this.compact(value), this.options.clock.now());
        if (!controller.signal.aborted) {
          this.entries.set(key, entry);
          this.refusals?.delete(key);
          this.changed(key);
        }
        return entry;
      },
      async (error: unknown) => {
        if (error instanceof UpstreamRateLimitedError) {
          // Honour Retry-After for its full length, for every caller of this key (every replica, with Redis); recorded
          // before anyone learns of the 429.
          await budget.blockUntil(key, this.options.clock.now() + error.retryAfterSeconds * 1000);
        } else if (error instanceof UpstreamNotFoundError || error instanceof UpstreamBusinessError) {
          this.entries.delete(key);
          this.refusals?.set(key, error);
        }
        throw error;
      },
    );
    const flight: Inflight<V> = { promise, controller, waiters: 0 };
    this.inflight.set(key, flight);
    const done = () => {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    };
    promise.then(done, done);
    return flight;
  }
}
