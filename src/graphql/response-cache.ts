/**
 * Whole-response cache for repeated identical queries, served in front of Yoga by the HTTP fast path
 * (`src/app/http-handler.ts`); README "HTTP endpoints and authentication".
 *
 * Contract:
 * - key = caller + the request headers that shape the answer + the body's fingerprint; a hit also requires the
 *   stored body to equal the request's byte for byte (the key is built by the HTTP handler; for a persisted document
 *   "body" is its normalised form, so requests that differ only in spelling share an entry);
 * - only responses the guard approved are stored (`plugins/response-cache-guard.ts` decides; the request's
 *   `DataAccess` records what the response was built from into its `ResponseDependencies`);
 * - an entry lives until the earliest freshness end of the resources it was built from, capped by `maxTtlMs`,
 *   and is dropped as soon as one of them changes (purchase, invalidation, refresh);
 * - a response is not stored when one of its resources changed while it was being built (`track` … `set`): it
 *   may hold the value from before the change, and no entry existed yet for the change to drop. Conservative: the
 *   upstream read that filled a resource for this very request counts as a change too, so a response built from
 *   fresh upstream reads is stored by the next identical request, not the first;
 * - admission: only a request seen before (its key among the last `admissionWindow` distinct first sightings) is
 *   tracked and stored (`admits`). A one-off request — every user asking for their own SIMs, frontends varying
 *   selections and variables — then costs a Set lookup instead of recording its reads, indexing up to 4 × 100
 *   dependencies, and evicting an answer that is asked again (nginx's `proxy_cache_min_uses 2`). An identical request
 *   is therefore stored the second time it is seen and served from the third, as one built from fresh upstream reads
 *   already was.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../platform/clock.ts';

/**
 * What one request's execution read (recorded by `DataAccess`) and whether its response may be stored (decided by
 * the response-cache guard). Untracked (no `since`): never stored, and nothing is recorded.
 */
export class ResponseDependencies {
  /** `resource:key` pairs, e.g. `usage:8944…`. */
  readonly keys = new Set<string>();
  expiresAt = Number.POSITIVE_INFINITY;
  /** False once anything makes the response unstorable (a stale, failed or untracked read, a mutation, an error). */
  cacheable = true;
  #approved = false;

  /** @param since the cache's change count when the request began (`ResponseCache.track`); undefined = untracked, never stored. */
  constructor(readonly since?: number) {}

  /** False for a request whose response can never be stored: noting its reads would be wasted work. */
  get tracked(): boolean {
    return this.since !== undefined;
  }

  note(resource: string, key: string, freshUntil: number, stale: boolean): void {
    if (this.since === undefined) return;
    this.keys.add(dependencyKey(resource, key));
    if (stale) this.cacheable = false;
    this.expiresAt = Math.min(this.expiresAt, freshUntil);
  }

  refuse(): void {
    this.cacheable = false;
  }

  /** The guard's verdict on the complete result; only an approved, still cacheable response is stored. */
  approve(): void {
    this.#approved = true;
  }

  get approved(): boolean {
    return this.#approved && this.cacheable && this.since !== undefined;
  }
}

export const dependencyKey = (resource: string, key: string) => `${resource}:${key}`;

export interface CachedResponse {
  /**
   * The exact request body the response answers, or for a persisted document its normalised form (manifest version +
   * id + operation name + variables, built by the HTTP handler): a hit requires byte equality (the key holds only its
   * fingerprint).
   */
  request: Buffer;
  status: number;
  /** The response head as `res.writeHead` takes it: a flat [name, value, …] list, content-length included. */
  head: string[];
  body: Buffer;
  expiresAt: number;
  dependencies: string[];
}

export interface ResponseCacheOptions {
  clock: Clock;
  maxBytes: number;
  maxTtlMs: number;
  /** How many distinct first sightings admission remembers (between this and twice as many); default 16,384. */
  admissionWindow?: number;
}

export class ResponseCache {
  private readonly entries: LRUCache<string, CachedResponse>;
  /** dependency key → response keys built from it. */
  private readonly dependents = new Map<string, Set<string>>();
  /**
   * Cumulative; `invalidations` = entries dropped because a resource changed, `evictions` = dropped for space,
   * `firstSightings` = misses not tracked because their request had not been seen before (see `admits`).
   */
  readonly stats = { hits: 0, misses: 0, stores: 0, invalidations: 0, evictions: 0, firstSightings: 0 };
  /** Keys of requests seen once: the current generation and the one before (swapped when it is full). */
  private seen = new Set<string>();
  private seenBefore = new Set<string>();
  private readonly admissionWindow: number;
  /** Changes seen so far (`invalidate` calls while a request is being built). */
  private changes = 0;
  /**
   * dependency key → the change count of its latest change, kept only while a request that began before that
   * change is still open; ordered by that count (re-inserted on every change), so it is pruned from the front.
   */
  private readonly changedAt = new Map<string, number>();
  /** `since` of the requests being built → how many; insertion order is ascending. */
  private readonly open = new Map<number, number>();
  /** The change count of the latest `clear`: a request that began before it stores nothing. */
  private clearedAt = -1;

  constructor(private readonly options: ResponseCacheOptions) {
    this.admissionWindow = Math.max(1, options.admissionWindow ?? 16_384);
    this.entries = new LRUCache<string, CachedResponse>({
      maxSize: options.maxBytes,
      sizeCalculation: (entry, key) =>
        entry.body.length + entry.request.length + key.length + 256 + entry.head.reduce((n, s) => n + s.length, 0),
      dispose: (entry, key, reason) => {
        if (reason === 'evict') this.stats.evictions++;
        this.unindex(key, entry);
      },
    });
  }

  /** The live response stored under `key` for exactly this request body, if any. */
  get(key: string, request: Buffer): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (entry?.request.equals(request)) {
      if (entry.expiresAt > this.options.clock.now()) {
        this.stats.hits++;
        return entry;
      }
      this.entries.delete(key);
    }
    this.stats.misses++;
    return undefined;
  }

  /**
   * Stores `response` to `request` under `key` when the guard approved `deps` (replacing whatever the key held: two bodies
   * with the same fingerprint take turns, they are never confused). The request bytes are copied.
   */
  set(key: string, response: Omit<CachedResponse, 'expiresAt' | 'dependencies'>, deps: ResponseDependencies): void {
    if (!deps.approved || deps.since! < this.clearedAt) return;
    for (const dep of deps.keys) if ((this.changedAt.get(dep) ?? -1) > deps.since!) return; // changed while built
    const expiresAt = Math.min(deps.expiresAt, this.options.clock.now() + this.options.maxTtlMs);
    if (expiresAt <= this.options.clock.now()) return;
    const entry: CachedResponse = {
      ...response,
      request: Buffer.from(response.request),
      expiresAt,
      dependencies: [...deps.keys],
    };
    this.entries.set(key, entry);
    if (!this.entries.has(key)) return; // larger than the whole cache
    for (const dep of entry.dependencies) {
      let set = this.dependents.get(dep);
      if (!set) {
        set = new Set();
        this.dependents.set(dep, set);
      }
      set.add(key);
    }
    this.stats.stores++;
  }

  /**
   * Whether a missed request's response may be stored: true when its key was seen before (then track it); false the
   * first time, which is remembered. Keys hold no body, so two bodies with one fingerprint count as one request —
   * harmless, a hit still requires the stored body to be this one.
   */
  admits(key: string): boolean {
    if (this.seen.has(key) || this.seenBefore.has(key)) return true;
    this.stats.firstSightings++;
    this.seen.add(key);
    if (this.seen.size >= this.admissionWindow) {
      this.seenBefore = this.seen;
      this.seen = new Set();
    }
    return false;
  }

  /** A tracker for one request whose response may be stored; pass it to `set`, then always to `untrack`. */
  track(): ResponseDependencies {
    const since = this.changes;
    this.open.set(since, (this.open.get(since) ?? 0) + 1);
    return new ResponseDependencies(since);
  }

  untrack(deps: ResponseDependencies): void {
    const since = deps.since;
    if (since === undefined) return;
    const count = this.open.get(since);
    if (count === undefined) return;
    if (count > 1) return void this.open.set(since, count - 1);
    this.open.delete(since);
    // Forget the changes no open request began before.
    const oldest = this.open.keys().next();
    if (oldest.done) {
      this.changedAt.clear();
      return;
    }
    for (const [dep, at] of this.changedAt) {
      if (at > oldest.value) break;
      this.changedAt.delete(dep);
    }
  }

  /** Drops every response built from `resource:key` (and keeps requests being built from storing theirs). */
  invalidate(resource: string, key: string): void {
    const dep = dependencyKey(resource, key);
    if (this.open.size > 0) {
      this.changedAt.delete(dep);
      this.changedAt.set(dep, ++this.changes);
    }
    const keys = this.dependents.get(dep);
    if (!keys) return;
    for (const responseKey of [...keys]) {
      this.entries.delete(responseKey);
      this.stats.invalidations++;
    }
  }

  /** Drops every response (e.g. after changes elsewhere may have gone unannounced); counted as invalidations. */
  clear(): void {
    this.stats.invalidations += this.entries.size;
    this.entries.clear(); // dispose unindexes every entry
    // Requests being built must not store what they read before.
    this.clearedAt = ++this.changes;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes held, as counted against `maxBytes` (bodies, request bodies, keys and heads). */
  get bytes(): number {
    return this.entries.calculatedSize;
  }

  private unindex(key: string, entry: CachedResponse): void {
    for (const dep of entry.dependencies) {
      const set = this.dependents.get(dep);
      set?.delete(key);
      if (set?.size === 0) this.dependents.delete(dep);
    }
  }
}
