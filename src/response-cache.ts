/**
 * Whole-response cache for repeated identical queries, served in front of Yoga's pipeline.
 *
 * Contract:
 * - key = caller (principal id) + the request headers that shape the answer + the exact body: a response is
 *   never shared between callers;
 * - only error-free query results built from fresh cache reads are stored (no mutations, no stale values,
 *   no `simList` pages, which no per-ICCID cache backs);
 * - an entry lives until the earliest moment any resource it was built from would be re-read (its freshness
 *   end), capped by `maxTtlMs`, and is dropped as soon as one of those resources changes (purchase,
 *   invalidation, refresh) — so a hit is always byte-identical to what Yoga would answer now.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from './clock.ts';

/** What one request's execution read; filled by the loaders, judged when the response is complete. */
export class ResponseDependencies {
  /** `resource:key` pairs, e.g. `usage:8944…`. */
  readonly keys = new Set<string>();
  expiresAt = Number.POSITIVE_INFINITY;
  cacheable = true;

  note(resource: string, key: string, freshUntil: number, stale: boolean): void {
    this.keys.add(dependencyKey(resource, key));
    if (stale) this.cacheable = false;
    this.expiresAt = Math.min(this.expiresAt, freshUntil);
  }

  refuse(): void {
    this.cacheable = false;
  }
}

export const dependencyKey = (resource: string, key: string) => `${resource}:${key}`;

export interface CachedResponse {
  status: number;
  headers: [string, string][];
  body: Buffer;
  expiresAt: number;
  dependencies: string[];
}

export interface ResponseCacheOptions {
  clock: Clock;
  maxBytes: number;
  maxTtlMs: number;
}

export class ResponseCache {
  private readonly entries: LRUCache<string, CachedResponse>;
  /** dependency key → response keys built from it. */
  private readonly dependents = new Map<string, Set<string>>();
  readonly stats = { hits: 0, misses: 0, stores: 0, invalidations: 0 };

  constructor(private readonly options: ResponseCacheOptions) {
    this.entries = new LRUCache<string, CachedResponse>({
      maxSize: options.maxBytes,
      sizeCalculation: (entry, key) => entry.body.length + key.length + 256,
      dispose: (entry, key) => this.unindex(key, entry),
    });
  }

  get(key: string): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.options.clock.now()) {
      this.stats.hits++;
      return entry;
    }
    if (entry) this.entries.delete(key);
    this.stats.misses++;
    return undefined;
  }

  set(key: string, response: Omit<CachedResponse, 'expiresAt' | 'dependencies'>, deps: ResponseDependencies): void {
    if (!deps.cacheable || deps.keys.size === 0) return;
    const expiresAt = Math.min(deps.expiresAt, this.options.clock.now() + this.options.maxTtlMs);
    if (expiresAt <= this.options.clock.now()) return;
    const entry: CachedResponse = { ...response, expiresAt, dependencies: [...deps.keys] };
    this.entries.set(key, entry);
    if (!this.entries.has(key)) return; // larger than the whole cache
    for (const dep of entry.dependencies) {
      let set = this.dependents.get(dep);
      if (!set) this.dependents.set(dep, (set = new Set()));
      set.add(key);
    }
    this.stats.stores++;
  }

  /** Drops every response built from `resource:key`. */
  invalidate(resource: string, key: string): void {
    const keys = this.dependents.get(dependencyKey(resource, key));
    if (!keys) return;
    for (const responseKey of [...keys]) {
      this.entries.delete(responseKey);
      this.stats.invalidations++;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private unindex(key: string, entry: CachedResponse): void {
    for (const dep of entry.dependencies) {
      const set = this.dependents.get(dep);
      set?.delete(key);
      if (set?.size === 0) this.dependents.delete(dep);
    }
  }
}
