/**
 * Second cache level, shared by every replica (README "Running several replicas"). The in-process LRU
 * (src/domain/cache/resource-cache.ts) stays the first level: an L1 hit never reaches this store; an L1 miss reads it
 * before the upstream, and one replica at a time refreshes a key (`tryLock`).
 *
 * Contract:
 * - keys are opaque strings built by the caller (`<flavour>:<resource>:<ICCID>`); payloads are opaque JSON strings;
 * - nothing here ever throws or waits unboundedly: every call is bounded by the Redis command timeout, and a Redis
 *   that is down or slow reads as `unavailable` (get, tryLock) or is skipped (put, delete, unlock);
 * - `put` never replaces a record with an older one (`fetchedAt` compared atomically), and with `ifFetchedAt` replaces
 *   only the record fetched at exactly that time (a patch of what was read, not of a newer refresh);
 * - freshness is the caller's: records carry `fetchedAt` (the gateway clock), the store only expires them after `ttlMs`.
 */

/** A cached upstream value (`value`) or a remembered definitive refusal (`refusal`, e.g. 404 or a recycled SIM). */
export interface L2Record {
  kind: 'value' | 'refusal';
  /** Epoch ms (gateway clock) at which the upstream answered. */
  fetchedAt: number;
  /** JSON, encoded and decoded by the caller. */
  payload: string;
}

export type L2Read = { state: 'found'; record: L2Record } | { state: 'absent' } | { state: 'unavailable' };

export type L2Lock = { state: 'acquired'; token: string } | { state: 'held' } | { state: 'unavailable' };

export interface CacheL2 {
  /** False for the in-process default: there is no second level and the cache never calls this store. */
  readonly shared: boolean;
  get(key: string): Promise<L2Read>;
  /** Resolves true when stored (false: a newer record won, the precondition failed, or Redis is unavailable). */
  put(key: string, record: L2Record, ttlMs: number, options?: { ifFetchedAt?: number }): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Claims the one refresh of `key` across the fleet for at most `leaseMs`. */
  tryLock(key: string, leaseMs: number): Promise<L2Lock>;
  /** Releases a lock this replica holds (a lock that expired and was taken by another is left alone). */
  unlock(key: string, token: string): Promise<void>;
}
