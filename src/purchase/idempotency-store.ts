/**
 * Idempotency records for `purchaseTopup`, scoped per principal, bounded (LRU) and kept for the client
 * retry horizon (≥ 24 h). In memory: a restart forgets keys, but an ambiguous submit can still be
 * found in the upstream's order list by its reference (see purchase-service.ts).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.ts';
import type { PurchaseOutcome } from './outcome.ts';

export type IdempotencyRecord =
  | { state: 'pending'; fingerprint: string; reference: string; promise: Promise<PurchaseOutcome> }
  | { state: 'done'; fingerprint: string; reference: string; outcome: PurchaseOutcome }
  /** The submit may or may not have reached the upstream: reconcile before anything else. */
  | { state: 'unknown'; fingerprint: string; reference: string; since: number };

export interface IdempotencyStoreOptions {
  ttlMs: number;
  maxKeys: number;
  clock: Clock;
}

export class IdempotencyStore {
  private readonly records: LRUCache<string, IdempotencyRecord>;

  constructor(options: IdempotencyStoreOptions) {
    this.records = new LRUCache({ max: options.maxKeys, ttl: options.ttlMs, ttlResolution: 0, perf: { now: () => options.clock.now() } });
  }

  get(principalId: string, key: string): IdempotencyRecord | undefined {
    return this.records.get(scoped(principalId, key));
  }

  set(principalId: string, key: string, record: IdempotencyRecord): void {
    this.records.set(scoped(principalId, key), record);
  }

  delete(principalId: string, key: string): void {
    this.records.delete(scoped(principalId, key));
  }

  get size(): number {
    return this.records.size;
  }
}

const scoped = (principalId: string, key: string) => `${principalId}\u0000${key}`;

/**
 * The reference written into the upstream order's description: derived from principal and key, so a
 * retry after a restart finds the same order, and opaque, so it reveals neither.
 */
export function orderReference(principalId: string, key: string): string {
  return `gw-${createHash('sha256').update(`${principalId}\u0000${key}`).digest('hex').slice(0, 20)}`;
}

/** Same key must mean same purchase: anything that changes what is bought is part of the fingerprint. */
export function fingerprintOf(input: { iccid: string; packageId: string; description: string | null }): string {
  return JSON.stringify([input.iccid, input.packageId, input.description ?? '']);
}
