/**
 * A resource cache's L1: at most `max` entries, least recently used evicted first, each servable until `lifeMs` after
 * the fetch it holds (`fetchedAt`: fresh, then stale-if-error). An expired entry is never returned and is dropped when
 * it is next looked at (or evicted by newer ones), exactly as lru-cache's own TTL would do it.
 *
 * Why not lru-cache's `ttl`: its expiry is a second clock beside `fetchedAt` (two number arrays of `max` slots per
 * cache, ~1.6 MB each at 100k, updated on every read and write), while the entry already carries the one instant that
 * decides; and why lazily: a resource nobody reads (balance-only deployments, SIM lists without top-ups) costs no
 * `max`-sized arrays at all.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../platform/clock.ts';

export interface TimedEntry {
  readonly fetchedAt: number;
}

export class CacheEntries<E extends TimedEntry> {
  #lru: LRUCache<string, E> | undefined;

  constructor(
    private readonly max: number,
    private readonly lifeMs: number,
    private readonly clock: Clock,
    /** Called with the key of every entry that leaves (deleted, evicted, expired), not when replaced by a set. */
    private readonly onLeave: (key: string) => void,
  ) {}

  /**
   * The entry of `key` while it is within its life (marked most recently used), else undefined. `now`: the caller's
   * reading of the clock, when it has one (a warm read asks the clock once).
   */
  get(key: string, now = this.clock.now()): E | undefined {
    const entry = this.#lru?.get(key);
    if (entry === undefined) return undefined;
    if (now - entry.fetchedAt < this.lifeMs) return entry;
    this.#lru!.delete(key);
    return undefined;
  }

  /** Whether `key` holds an entry within its life; does not change its recency. */
  has(key: string): boolean {
    const entry = this.#lru?.peek(key);
    return entry !== undefined && this.clock.now() - entry.fetchedAt < this.lifeMs;
  }

  set(key: string, entry: E): void {
    this.#lru ??= new LRUCache<string, E>({
      max: this.max,
      dispose: (_entry, key, reason) => {
        if (reason !== 'set') this.onLeave(key);
      },
    });
    this.#lru.set(key, entry);
  }

  delete(key: string): void {
    this.#lru?.delete(key);
  }

  keys(): Iterable<string> {
    return this.#lru?.keys() ?? [];
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.#lru?.size ?? 0;
  }
}
