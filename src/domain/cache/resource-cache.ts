/**
 * One upstream resource (usage, top-ups, history, details, balance) cached across requests, keyed by ICCID.
 *
 * Contract of `get(key)`:
 * - fresh entry (younger than `ttlMs`)                → served, no upstream call;
 * - expired less than `staleWhileRevalidateMs` ago   → served marked `stale`, refreshed in the background (a
 *                                                       `background` demand: spare budget only, never queued);
 * - missing or expired                               → one upstream call, shared by every concurrent caller
 *                                                       for that key (coalesced), admitted by the scheduler
 *                                                       (src/domain/scheduler) for the most urgent of its callers;
 *                                                       result stored;
 * - the scheduler queues the call                     → each caller waits within its own bound (its Demand);
 * - the scheduler refuses (budget spent, a 429 block, → the cached value marked `stale`, else BudgetExhaustedError
 *   or a caller's bound passed)                         (with the scheduler's estimate), for that caller;
 * - upstream answers 429                              → the transport has told the scheduler (the key or the whole
 *                                                       endpoint is blocked for the full Retry-After), then as above;
 * - upstream unavailable (5xx, timeout)               → stale value if one is within `maxStaleMs`, else the error;
 * - upstream not found or refused (422, e.g. recycled) → remembered for `negativeTtlMs` (no call per retry), rethrown;
 * - the caller's request has used its CallAllowance → the cached value marked `stale`, else CallAllowanceExceededError.
 * An upstream call is aborted only when every caller waiting for it has gone away.
 * See README.md, "Caching and upstream budgets".
 *
 * With a shared second level (`shared.l2`, Redis; README "Running several replicas"): an L1 hit never touches it; an
 * L1 miss reads L2 (coalesced per key) and serves its record by the same freshness rules, from its own `fetchedAt`;
 * a refresh first claims the key's fleet-wide lock, and a replica that finds it held waits (woken by the holder's
 * invalidation message, else polling) for the holder's record, bounded by the lock lease. Every local change (a
 * refresh, a refusal, `prime`, `update`, `invalidate`) is written to L2 first and then announced on the bus; a
 * message from another replica drops (`drop`) or marks for re-checking against L2 (`changed`) the L1 entry and
 * tells the change listeners (response cache). After a bus interruption (`markAllUnverified`) every L1 entry is
 * re-checked against L2 on its next read and kept when L2 has nothing newer. L2 unavailable: L1 and the upstream.
 */
import { LRUCache } from 'lru-cache';
import { raceAbort } from '../../platform/abort.ts';
import type { Clock } from '../../platform/clock.ts';
import { noteCacheRead } from '../../platform/tracing.ts';
import type { CacheL2, L2Read } from '../../stores/cache-l2/types.ts';
import type { InvalidationBus, InvalidationKind } from '../../stores/invalidation/types.ts';
import {
  UpstreamBusinessError,
  type UpstreamEndpoint,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
} from '../../upstream/index.ts';
import { BudgetExhaustedError, CallAllowanceExceededError } from '../errors.ts';
import {
  type Demand,
  GRANTED,
  mostUrgent,
  type Ticket,
  type UpstreamScheduler,
  withAdmitted,
} from '../scheduler/index.ts';
import type { CallAllowance } from './call-allowance.ts';
import { CacheEntries } from './entries.ts';

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
  /** The upstream call for `key` (made through the transport, which asks the scheduler about any further attempt). */
  load: (key: string, signal: AbortSignal) => Promise<V>;
  /** Admits every upstream call (budgets, 429 blocks, queueing; fleet-wide with Redis); asked only on an L1 miss. */
  scheduler: UpstreamScheduler;
  /** The endpoint `load` calls, for the scheduler. */
  endpoint: UpstreamEndpoint;
  /** False when the key is not an ICCID (the balance): only the endpoint's partner-wide budgets apply. Default true. */
  keyIsIccid?: boolean;
  /** How long a definitive refusal (404, 422 business error) is remembered; 0/undefined = not at all. */
  negativeTtlMs?: number;
  /** Applied to every value before it is stored (a lossless, smaller representation; see compact.ts). */
  compact?: (value: V) => V;
  /** Local changes are announced here (messages from other replicas arrive through `applyRemote`). */
  bus?: InvalidationBus;
  /** The fleet-wide second level; absent (or `l2.shared` false) = the L1 is the only level. */
  shared?: {
    l2: CacheL2;
    /** L2 key prefix, `<flavour>:<resource>`: the key is `<namespace>:<key>`. */
    namespace: string;
    /** How long one replica may hold a key's refresh: at least one upstream call's deadline. */
    lockLeaseMs: number;
    /** How often a replica waiting for another's refresh re-reads L2 when no message woke it (default 25 ms). */
    pollMs?: number;
  };
}

/** How a definitive refusal is stored in L2: the class and what identifies it, never the upstream's prose. */
interface StoredRefusal {
  t: 'not-found' | 'business';
  e: string;
  s: number | null;
  c?: number;
}

/** What the LRU stores: served as is on a fresh hit (no allocation per read), hence frozen. */
type Entry<V> = Readonly<CacheRead<V> & { stale: false }>;

const entryOf = <V>(value: V, fetchedAt: number): Entry<V> =>
  Object.freeze({ value, fetchedAt, stale: false as const });

interface Inflight<V> {
  promise: Promise<Entry<V>>;
  controller: AbortController;
  waiters: number;
  /** The most urgent of its callers' demands: the call is admitted, and makes its further attempts, for it. */
  demand: Demand;
  /** The admission while the scheduler has it queued (or a fleet-wide store decides): each caller waits on it. */
  ticket: Ticket | undefined;
  /** The admission is decided: callers wait for the call itself. */
  decided: boolean;
  /** Callers that came before the admission was asked for (a fleet-wide refresh's lock): joined to it then. */
  early: EarlyCaller[] | undefined;
}

interface EarlyCaller {
  demand: Demand;
  signal: AbortSignal | undefined;
  arrivedAt: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface CacheStats {
  hits: number;
  /** L1 misses answered by the shared second level (included in `misses`). */
  sharedHits: number;
  misses: number;
  staleServes: number;
  upstreamCalls: number;
}

export class ResourceCache<V> {
  private readonly entries: CacheEntries<Entry<V>>;
  private readonly refusals: LRUCache<string, Error> | undefined;
  private readonly inflight = new Map<string, Inflight<V>>();
  private readonly changeListeners: ((key: string) => void)[] = [];
  readonly stats: CacheStats = { hits: 0, sharedHits: 0, misses: 0, staleServes: 0, upstreamCalls: 0 };
  private readonly shared: NonNullable<ResourceCacheOptions<V>['shared']> | undefined;
  /** Keys whose L1 entry must be re-checked against L2 before it is served (another replica changed it, or a resync). */
  private readonly unverified = new Set<string>();
  /** L2 reads under way, one per key. */
  private readonly l2Reads = new Map<string, Promise<void>>();
  /** Waiters for another replica's refresh of a key, woken by its invalidation message. */
  private readonly wakers = new Map<string, Set<() => void>>();

  constructor(private readonly options: ResourceCacheOptions<V>) {
    this.shared = options.shared?.l2.shared ? options.shared : undefined;
    this.entries = new CacheEntries<Entry<V>>(
      options.max,
      Math.max(1, options.ttlMs + options.maxStaleMs),
      options.clock,
      (key) => {
        if (this.unverified.size > 0) this.unverified.delete(key);
      },
    );
    // ttlResolution 0: lru-cache would otherwise memoise `now` on a real timer, which an injected clock defeats.
    const perf = { now: () => options.clock.now() };
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

  /**
   * `demand`: who reads and how urgently (src/domain/scheduler/demand.ts) — the priority and the caller the scheduler
   * admits an upstream call for. `allowance`: the calling request's share of upstream calls; a call this read starts
   * is taken from it.
   */
  async get(key: string, demand: Demand, signal?: AbortSignal, allowance?: CallAllowance): Promise<CacheRead<V>> {
    const now = this.options.clock.now();
    const entry = this.entries.get(key, now);
    if (entry && (this.unverified.size === 0 || !this.unverified.has(key))) {
      const served = this.serveCached(key, entry, demand, allowance, false, now);
      if (served) return served;
    }
    if (this.shared) return this.getShared(key, demand, signal, allowance);
    return this.miss(key, entry, demand, signal, allowance);
  }

  /**
   * What `get` would serve at once without any work: the L1 entry of `key` while it is fresh (and, with a shared
   * level, verified), else undefined. Synchronous, so a warm read costs no promise. `record`: count it as a hit (and
   * trace it) — false only for a look that is not a read.
   */
  fresh(key: string, record = true): CacheRead<V> | undefined {
    const now = this.options.clock.now();
    const entry = this.entries.get(key, now);
    if (entry === undefined || now - entry.fetchedAt >= this.options.ttlMs) return undefined;
    if (this.unverified.size > 0 && this.unverified.has(key)) return undefined;
    if (record) {
      this.stats.hits++;
      noteCacheRead(this.options.name, key, 'hit'); // tracing hook
    }
    return entry;
  }

  /** L1 miss (or an entry to re-check) with a shared second level: L2 first, then as without it. */
  private async getShared(
    key: string,
    demand: Demand,
    signal?: AbortSignal,
    allowance?: CallAllowance,
  ): Promise<CacheRead<V>> {
    const adopted = await this.readShared(key);
    // Re-checked, or L2 could not be read: either way the L1 entry is now the best this replica knows.
    const now = this.options.clock.now();
    const entry = this.entries.get(key, now);
    const served = entry && this.serveCached(key, entry, demand, allowance, adopted, now);
    return served || this.miss(key, entry, demand, signal, allowance);
  }

  /**
   * `entry` as it may be served now: fresh, or within stale-while-revalidate (then refreshed in the background);
   * undefined when it is too old to serve without asking the upstream.
   */
  private serveCached(
    key: string,
    entry: Entry<V>,
    demand: Demand,
    allowance: CallAllowance | undefined,
    fromSharedLevel: boolean,
    now: number,
  ): CacheRead<V> | undefined {
    const age = now - entry.fetchedAt;
    if (age < this.options.ttlMs) {
      if (fromSharedLevel) this.stats.sharedHits++;
      else this.stats.hits++;
      noteCacheRead(this.options.name, key, 'hit'); // tracing hook
      return entry;
    }
    if (age < this.options.ttlMs + (this.options.staleWhileRevalidateMs ?? 0)) {
      this.revalidate(key, demand, allowance);
      this.stats.staleServes++;
      noteCacheRead(this.options.name, key, 'stale'); // tracing hook
      return { ...entry, stale: true };
    }
    return undefined;
  }

  private async miss(
    key: string,
    entry: Entry<V> | undefined,
    demand: Demand,
    signal?: AbortSignal,
    allowance?: CallAllowance,
  ): Promise<CacheRead<V>> {
    const refused = this.refusals?.get(key);
    if (refused) throw refused;
    this.stats.misses++;

    const joinable = this.inflight.get(key);
    // The allowance is taken before the budget decides (a flight starts at once, so concurrent readers join it) and
    // given back when the budget denies.
    if (!joinable && allowance && !allowance.tryTake())
      return this.serveStale(entry, new CallAllowanceExceededError(this.options.name, allowance.limit));
    try {
      const fresh = await this.join(key, joinable, demand, signal, allowance);
      noteCacheRead(this.options.name, key, 'miss'); // tracing hook
      return fresh;
    } catch (error) {
      if (error instanceof BudgetExhaustedError) {
        noteCacheRead(this.options.name, key, 'budget', error.waitMs); // tracing hook
        return this.serveStale(entry, error);
      }
      noteCacheRead(this.options.name, key, 'miss'); // tracing hook
      if (error instanceof UpstreamRateLimitedError || error instanceof UpstreamUnavailableError)
        return this.serveStale(entry, error);
      throw error;
    }
  }

  /**
   * Background refresh for stale-while-revalidate: only when none is under way, as a `background` demand (spare
   * budget only: a refusal just leaves the stale value for the next read).
   */
  private revalidate(key: string, demand: Demand, allowance: CallAllowance | undefined): void {
    if (this.inflight.has(key)) return;
    if (allowance && !allowance.tryTake()) return;
    const flight = this.start(key, { priority: 'background', principal: demand.principal }, allowance);
    flight.waiters++; // nobody will abort it
    flight.promise.catch(() => {}); // outcome already recorded by start(); the stale value was served
  }

  /** When `read` stops being fresh (a new upstream read may then replace it). */
  freshUntil(read: CacheRead<V>): number {
    return read.fetchedAt + this.options.ttlMs;
  }

  /** `listener(key)` runs whenever the value stored for `key` is replaced, patched or dropped, here or elsewhere. */
  onChange(listener: (key: string) => void): void {
    this.changeListeners.push(listener);
  }

  private notify(key: string): void {
    for (const listener of this.changeListeners) listener(key);
  }

  /** Current entry without any upstream call (undefined when absent). */
  peek(key: string): CacheRead<V> | undefined {
    const now = this.options.clock.now();
    const entry = this.entries.get(key, now);
    if (!entry) return undefined;
    return now - entry.fetchedAt >= this.options.ttlMs ? { ...entry, stale: true } : entry;
  }

  /**
   * Store a value obtained elsewhere (e.g. a list page priming per-ICCID details). Written to L2; announced to the
   * other replicas only when it differs from what this replica held (a list page re-reads mostly unchanged values).
   */
  prime(key: string, value: V): void {
    const previous = this.entries.get(key);
    const entry = entryOf(this.compact(value), this.options.clock.now());
    this.entries.set(key, entry);
    this.refusals?.delete(key);
    this.unverified.delete(key);
    this.notify(key);
    if (!this.shared) {
      this.publish(key, 'changed');
      return;
    }
    const payload = JSON.stringify(entry.value);
    const announce = previous === undefined || JSON.stringify(previous.value) !== payload;
    this.writeShared(key, { kind: 'value', fetchedAt: entry.fetchedAt, payload }, announce);
  }

  /**
   * Patch a cached value, keeping its fetch time (e.g. append a purchased package to history). Returns whether this
   * replica held the value. With a shared level the patch is applied to the L2 record fetched at the same time
   * (not to a newer refresh), also when only L2 holds the value, and announced.
   */
  update(key: string, patch: (value: V) => V): boolean {
    const entry = this.entries.get(key);
    if (entry) {
      const patched = entryOf(this.compact(patch(entry.value)), entry.fetchedAt);
      this.entries.set(key, patched); // same fetchedAt: same expiry
      this.notify(key);
      if (!this.shared) this.publish(key, 'changed');
      else
        this.writeShared(
          key,
          { kind: 'value', fetchedAt: entry.fetchedAt, payload: JSON.stringify(patched.value) },
          true,
          {
            ifFetchedAt: entry.fetchedAt,
          },
        );
      return true;
    }
    if (this.shared) this.updateShared(key, patch).catch(() => {}); // an unreadable record is simply not patched
    return false;
  }

  private async updateShared(key: string, patch: (value: V) => V): Promise<void> {
    const shared = this.shared!;
    const read = await shared.l2.get(this.sharedKey(key));
    if (read.state !== 'found' || read.record.kind !== 'value') return;
    const { fetchedAt } = read.record;
    const payload = JSON.stringify(patch(JSON.parse(read.record.payload) as V));
    this.writeShared(key, { kind: 'value', fetchedAt, payload }, true, { ifFetchedAt: fetchedAt });
  }

  /** Forget a key, everywhere, so that the next read asks the upstream (budget permitting). */
  invalidate(key: string): void {
    this.entries.delete(key);
    this.refusals?.delete(key);
    this.unverified.delete(key);
    this.notify(key);
    if (!this.shared) {
      this.publish(key, 'drop');
      return;
    }
    // Issued now, so that a read of this replica that follows (same connection) no longer finds the old record.
    this.shared.l2.delete(this.sharedKey(key)).then(() => this.publish(key, 'drop'));
  }

  /** A change announced by another replica (README "Running several replicas"). */
  applyRemote(key: string, kind: InvalidationKind): void {
    if (kind === 'drop') {
      this.entries.delete(key);
      this.unverified.delete(key);
    } else if (this.entries.has(key)) this.unverified.add(key);
    this.refusals?.delete(key);
    this.notify(key);
    const wakers = this.wakers.get(key);
    if (wakers) for (const wake of wakers) wake();
  }

  /** After the bus was interrupted (messages may be lost): every L1 entry is re-checked against L2 on its next read. */
  markAllUnverified(): void {
    if (!this.shared) return;
    for (const key of this.entries.keys()) this.unverified.add(key);
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

  /**
   * A caller waits for the flight of `key` (started here when none is under way): first for its admission, within
   * the caller's own bound (a refusal then reaches this caller only), then for the call.
   */
  private join(
    key: string,
    existing: Inflight<V> | undefined,
    demand: Demand,
    signal: AbortSignal | undefined,
    allowance: CallAllowance | undefined,
  ): Promise<Entry<V>> {
    const flight = existing ?? this.start(key, demand, allowance);
    flight.waiters++;
    if (existing) flight.demand = mostUrgent(flight.demand, demand);
    const admission = this.admission(flight, demand, signal);
    if (!admission) return raceAbort(flight.promise, signal, () => this.leave(key, flight));
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      this.leave(key, flight);
    };
    const wait = admission.then(
      () => flight.promise,
      (error: unknown) => {
        leave();
        throw error;
      },
    );
    return raceAbort(wait, signal, leave);
  }

  /** This caller's wait for the flight's admission; undefined once it is decided. */
  private admission(flight: Inflight<V>, demand: Demand, signal: AbortSignal | undefined): Promise<void> | undefined {
    if (flight.decided) return undefined;
    if (flight.ticket) return flight.ticket.join(demand, signal);
    const arrivedAt = this.options.clock.now();
    return new Promise<void>((resolve, reject) => {
      flight.early ??= [];
      flight.early.push({ demand, signal, arrivedAt, resolve, reject });
    });
  }

  /** The flight's admission is decided (`error`: refused): callers waiting from before it was asked are told. */
  private decided(flight: Inflight<V>, error: unknown): void {
    flight.decided = true;
    flight.ticket = undefined;
    const early = flight.early;
    flight.early = undefined;
    if (!early) return;
    for (const caller of early) {
      if (error === undefined) caller.resolve();
      else caller.reject(error);
    }
  }

  private leave(key: string, flight: Inflight<V>): void {
    flight.waiters--;
    if (flight.waiters <= 0 && this.inflight.get(key) === flight) {
      this.inflight.delete(key);
      flight.controller.abort(new Error('no caller is waiting for this upstream call'));
    }
  }

  /**
   * A flight: with a shared level, the fleet-wide refresh (one replica calls); else the scheduler's one decision for
   * this call, then the call. A flight starts at once, so concurrent readers join it even while a fleet-wide budget
   * is asked or the call waits in a queue; a refusal rejects with BudgetExhaustedError and calls nothing.
   */
  private start(key: string, demand: Demand, allowance: CallAllowance | undefined): Inflight<V> {
    const flight: Inflight<V> = {
      promise: undefined as unknown as Promise<Entry<V>>,
      controller: new AbortController(),
      waiters: 0,
      demand,
      ticket: undefined,
      decided: false,
      early: undefined,
    };
    this.inflight.set(key, flight);
    const promise = this.shared
      ? this.refreshShared(key, flight, allowance)
      : this.callWithinBudget(key, flight, allowance);
    flight.promise = promise;
    const done = () => {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    };
    promise.then(done, done);
    return flight;
  }

  /**
   * One upstream call for `key`, admitted; its outcome is stored (value or refusal), written to L2 and announced. The
   * load runs in the admission's context: the transport's first attempt is this admission, any further attempt (the
   * token, a resend after a 401) is decided for the flight's demand.
   */
  private callUpstream(key: string, flight: Inflight<V>): Promise<Entry<V>> {
    this.stats.upstreamCalls++;
    const { signal } = flight.controller;
    const iccid = this.options.keyIsIccid === false ? undefined : key;
    return withAdmitted(flight.demand, this.options.endpoint, iccid, () => this.options.load(key, signal)).then(
      (value) => {
        const entry = entryOf(this.compact(value), this.options.clock.now());
        if (!signal.aborted) {
          this.entries.set(key, entry);
          this.refusals?.delete(key);
          this.unverified.delete(key);
          this.notify(key);
          if (!this.shared) this.publish(key, 'changed');
          else
            this.writeShared(key, { kind: 'value', fetchedAt: entry.fetchedAt, payload: JSON.stringify(entry.value) });
        }
        return entry;
      },
      (error: unknown) => {
        // A 429 was reported to the scheduler by the transport before it reached here (the key or the endpoint is
        // blocked for its full Retry-After, on every replica with Redis).
        if (error instanceof UpstreamNotFoundError || error instanceof UpstreamBusinessError) {
          this.entries.delete(key);
          this.unverified.delete(key);
          this.refusals?.set(key, error);
          if (this.shared && this.refusals) {
            const stored: StoredRefusal =
              error instanceof UpstreamBusinessError
                ? { t: 'business', e: error.endpoint, s: error.status, c: error.code }
                : { t: 'not-found', e: error.endpoint, s: error.status };
            const payload = JSON.stringify(stored);
            this.writeShared(key, { kind: 'refusal', fetchedAt: this.options.clock.now(), payload });
          }
        }
        throw error;
      },
    );
  }

  /**
   * A refresh with a shared level: the replica that claims the key's lock calls the upstream; the others wait for
   * its record (woken by its message, else every `pollMs`), and claim the lock themselves when it is released
   * without a record (the holder failed) or has expired (the holder died). Bounded by the lock lease.
   */
  private async refreshShared(
    key: string,
    flight: Inflight<V>,
    allowance: CallAllowance | undefined,
  ): Promise<Entry<V>> {
    const shared = this.shared!;
    const { signal } = flight.controller;
    const lockKey = this.sharedKey(key);
    const seen = this.entries.get(key)?.fetchedAt;
    const deadline = performance.now() + shared.lockLeaseMs;
    for (;;) {
      const lock = performance.now() > deadline ? undefined : await shared.l2.tryLock(lockKey, shared.lockLeaseMs);
      if (lock?.state === 'acquired') {
        try {
          // The previous holder may have finished between this replica's last look at L2 and its claim.
          const done = await this.takeNewer(key, seen);
          if (done) {
            allowance?.giveBack(); // another replica's refresh answered: this request caused no call
            this.decided(flight, undefined);
            return done;
          }
          return await this.callWithinBudget(key, flight, allowance);
        } finally {
          // After the L2 write was issued (same connection): a waiter that then claims the lock finds the record.
          void shared.l2.unlock(lockKey, lock.token);
        }
      }
      // Redis unavailable, or waited a whole lease: this replica calls (its budget decides).
      if (lock?.state !== 'held') return this.callWithinBudget(key, flight, allowance);
      await this.pause(key, shared.pollMs ?? 25, signal);
      const done = await this.takeNewer(key, seen);
      if (done) {
        allowance?.giveBack();
        this.decided(flight, undefined);
        return done;
      }
    }
  }

  /**
   * The scheduler's one decision for this call, then the call. Granted: the call starts in this tick (an in-process
   * store decides synchronously). Refused: nothing is called, the allowance is given back. Queued: the callers wait
   * on the ticket, each within its own bound; the call starts when it is admitted.
   */
  private callWithinBudget(key: string, flight: Inflight<V>, allowance: CallAllowance | undefined): Promise<Entry<V>> {
    const iccid = this.options.keyIsIccid === false ? undefined : key;
    const decision = this.options.scheduler.request(this.options.endpoint, iccid, flight.demand);
    if (decision === GRANTED) {
      this.decided(flight, undefined);
      return new Promise<Entry<V>>((resolve) => resolve(this.callUpstream(key, flight)));
    }
    if (decision instanceof BudgetExhaustedError) {
      allowance?.giveBack();
      this.decided(flight, decision);
      return Promise.reject(decision);
    }
    flight.ticket = decision;
    const early = flight.early;
    flight.early = undefined;
    for (const caller of early ?? [])
      decision.join(caller.demand, caller.signal, caller.arrivedAt).then(caller.resolve, caller.reject);
    return decision.admitted.then(
      () => {
        this.decided(flight, undefined);
        return this.callUpstream(key, flight);
      },
      (error: unknown) => {
        allowance?.giveBack();
        this.decided(flight, error);
        throw error;
      },
    );
  }

  /** The L2 record of `key` when it is newer than `seen` (another replica's refresh): its entry, or its refusal thrown. */
  private async takeNewer(key: string, seen: number | undefined): Promise<Entry<V> | undefined> {
    const read = await this.shared!.l2.get(this.sharedKey(key));
    if (read.state !== 'found' || (seen !== undefined && read.record.fetchedAt <= seen)) return undefined;
    this.adopt(key, read);
    const entry = this.entries.get(key);
    if (entry && entry.fetchedAt === read.record.fetchedAt) return entry;
    const refused = this.refusals?.get(key);
    if (refused) throw refused;
    return undefined;
  }

  /** Resolves after `ms`, or as soon as another replica announces a change of `key`; rejects when `signal` aborts. */
  private pause(key: string, ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      let wakers = this.wakers.get(key);
      if (!wakers) {
        wakers = new Set();
        this.wakers.set(key, wakers);
      }
      const set = wakers;
      const finish = () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0 && this.wakers.get(key) === set) this.wakers.delete(key);
        signal.removeEventListener('abort', abort);
      };
      const wake = () => {
        finish();
        resolve();
      };
      const abort = () => {
        finish();
        reject(signal.reason);
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
      signal.addEventListener('abort', abort, { once: true });
    });
  }

  /** One L2 read per key at a time; resolves true when it replaced the L1 entry. */
  private readShared(key: string): Promise<boolean> {
    let pending = this.l2Reads.get(key) as Promise<boolean> | undefined;
    if (!pending) {
      const read = this.shared!.l2.get(this.sharedKey(key)).then((result) => this.adopt(key, result));
      pending = read;
      this.l2Reads.set(key, read as Promise<unknown> as Promise<void>);
      const done = () => {
        if (this.l2Reads.get(key) === (read as Promise<unknown>)) this.l2Reads.delete(key);
      };
      read.then(done, done);
    }
    return pending;
  }

  /**
   * Takes what L2 holds for `key` into L1 when it is at least as recent as the L1 entry and still servable; an L1
   * entry L2 lacks (Redis restarted empty, or its record expired) is written back. Returns true when L1 changed.
   */
  private adopt(key: string, read: L2Read): boolean {
    if (read.state === 'unavailable') return false;
    const entry = this.entries.get(key);
    const recheck = this.unverified.delete(key);
    if (read.state === 'absent') {
      if (entry && recheck)
        this.writeShared(
          key,
          { kind: 'value', fetchedAt: entry.fetchedAt, payload: JSON.stringify(entry.value) },
          false,
        );
      return false;
    }
    const { record } = read;
    if (entry && record.fetchedAt < entry.fetchedAt) return false;
    const age = this.options.clock.now() - record.fetchedAt;
    try {
      if (record.kind === 'refusal') {
        const remaining = (this.options.negativeTtlMs ?? 0) - age;
        if (!this.refusals || remaining <= 0) return false;
        const refusal = decodeRefusal(record.payload);
        this.entries.delete(key);
        this.refusals.set(key, refusal, { ttl: remaining });
      } else {
        const remaining = this.options.ttlMs + this.options.maxStaleMs - age;
        if (remaining <= 0) return false;
        const value = this.compact(JSON.parse(record.payload) as V);
        this.entries.set(key, entryOf(value, record.fetchedAt)); // expires `remaining` from now, as L2's record
        this.refusals?.delete(key);
      }
    } catch {
      return false; // a record this version cannot read (the namespace carries a format version): as if absent
    }
    this.notify(key);
    return true;
  }

  private sharedKey(key: string): string {
    return `${this.shared!.namespace}:${key}`;
  }

  /**
   * Writes a record to L2 (never over a newer one) and then, when `announce`, tells the other replicas. L2 keeps a
   * value for its whole servable life (fresh + stale bounds) from `fetchedAt`, a refusal for `negativeTtlMs`.
   */
  private writeShared(
    key: string,
    record: { kind: 'value' | 'refusal'; fetchedAt: number; payload: string },
    announce = true,
    options: { ifFetchedAt?: number } = {},
  ): void {
    const shared = this.shared!;
    const age = this.options.clock.now() - record.fetchedAt;
    const ttlMs =
      (record.kind === 'refusal' ? (this.options.negativeTtlMs ?? 0) : this.options.ttlMs + this.options.maxStaleMs) -
      age;
    if (ttlMs <= 0) return;
    shared.l2.put(this.sharedKey(key), record, ttlMs, options).then((stored) => {
      if (stored && announce) this.publish(key, 'changed');
    });
  }

  private publish(key: string, kind: InvalidationKind): void {
    this.options.bus?.publish({ resource: this.options.name, key, kind });
  }
}

function decodeRefusal(payload: string): Error {
  const stored = JSON.parse(payload) as StoredRefusal;
  const endpoint = stored.e as UpstreamNotFoundError['endpoint'];
  return stored.t === 'business'
    ? new UpstreamBusinessError(endpoint, stored.s ?? 422, stored.c ?? 0, '')
    : new UpstreamNotFoundError(endpoint, stored.s ?? 404);
}
