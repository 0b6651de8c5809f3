/**
 * Idempotency records for `purchaseTopup`, scoped per principal, bounded (LRU) and kept for the client retry horizon
 * (≥ 24 h). In memory only, so this store is a fast path and a concurrency guard, never the proof that a key is new:
 * a restart forgets every key, and the LRU evicts the least recently used ones beyond `maxKeys` and any past the TTL.
 * A key the store has no record of may still have an order upstream, placed by an earlier attempt (before a restart,
 * or before its record was evicted); purchase-service.ts therefore searches the upstream's order list for the key's
 * reference before the first submit of any key it does not know.
 *
 * Two kinds of record are pinned, i.e. kept outside the LRU so that `maxKeys` pressure cannot drop them:
 * - `pending` (a purchase under way): dropping it would let a concurrent call with the same key run a second search
 *   and submit next to the first; pinned records live only as long as the run (bounded by the upstream timeouts);
 * - `unknown` (an ambiguous submit), for `pinUnknownMs` (the reconcile grace period): while the order may still land
 *   upstream, a forgotten record would turn "not found yet" into a second submit. Past the grace period an unknown
 *   record means what no record means (search, then submit if not found), so it is left to the LRU like the others.
 * A restart still forgets pinned records; README.md, "Purchasing top-ups safely", says what that leaves open.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../platform/clock.ts';
import type { PurchaseOutcome } from './outcome.ts';

export type IdempotencyRecord =
  /**
   * A purchase under way in this process. `submittingSince` is set before its POST is sent: from then on the record
   * means what `unknown` since that time means to anyone who cannot join `promise` — a persistent store must write it
   * (as running/outcome-unknown) before the POST, so that a killed process leaves a record the next start, or another
   * replica, reconciles instead of treating the key as new.
   */
  | {
      state: 'pending';
      fingerprint: string;
      reference: string;
      promise: Promise<PurchaseOutcome>;
      submittingSince?: number;
    }
  | { state: 'done'; fingerprint: string; reference: string; outcome: PurchaseOutcome }
  /** The submit may or may not have reached the upstream: reconcile before anything else. */
  | { state: 'unknown'; fingerprint: string; reference: string; since: number };

type PendingRecord = Extract<IdempotencyRecord, { state: 'pending' }>;
type UnknownRecord = Extract<IdempotencyRecord, { state: 'unknown' }>;

export interface IdempotencyStoreOptions {
  ttlMs: number;
  maxKeys: number;
  /** How long an `unknown` record is pinned after its `since` (the reconcile grace period); 0 = not pinned. */
  pinUnknownMs: number;
  clock: Clock;
}

export class IdempotencyStore {
  private readonly records: LRUCache<string, IdempotencyRecord>;
  private readonly running = new Map<string, PendingRecord>();
  /** Insertion order ≈ `since` order, so expired entries are swept from the front. */
  private readonly unsettled = new Map<string, UnknownRecord>();

  constructor(private readonly options: IdempotencyStoreOptions) {
    this.records = new LRUCache({
      max: options.maxKeys,
      ttl: options.ttlMs,
      ttlResolution: 0,
      perf: { now: () => options.clock.now() },
    });
  }

  get(principalId: string, key: string): IdempotencyRecord | undefined {
    const id = scoped(principalId, key);
    const running = this.running.get(id);
    if (running) return running;
    const unsettled = this.unsettled.get(id);
    if (unsettled) {
      if (!this.expired(unsettled)) return unsettled;
      this.unsettled.delete(id);
    }
    return this.records.get(id);
  }

  set(principalId: string, key: string, record: IdempotencyRecord): void {
    const id = scoped(principalId, key);
    this.sweep();
    if (record.state === 'pending') {
      this.running.set(id, record);
      return;
    }
    this.running.delete(id);
    if (record.state === 'unknown' && !this.expired(record)) this.unsettled.set(id, record);
    else this.unsettled.delete(id);
    this.records.set(id, record);
  }

  /** Marks the running purchase of this key as submitting (see `pending`); no-op when none runs. */
  markSubmitting(principalId: string, key: string, since: number): void {
    const record = this.running.get(scoped(principalId, key));
    if (record) record.submittingSince = since;
  }

  delete(principalId: string, key: string): void {
    const id = scoped(principalId, key);
    this.running.delete(id);
    this.unsettled.delete(id);
    this.records.delete(id);
  }

  /** Distinct keys held (pinned or in the LRU). */
  get size(): number {
    let size = this.records.size;
    for (const id of this.running.keys()) if (!this.records.has(id)) size++;
    for (const id of this.unsettled.keys()) if (!this.records.has(id) && !this.running.has(id)) size++;
    return size;
  }

  private expired(record: UnknownRecord): boolean {
    return this.options.clock.now() - record.since >= this.options.pinUnknownMs;
  }

  private sweep(): void {
    for (const [id, record] of this.unsettled) {
      if (!this.expired(record)) break;
      this.unsettled.delete(id);
    }
  }
}

const scoped = (principalId: string, key: string) => `${principalId}\u0000${key}`;

/**
 * The reference written into the upstream order's description: derived from principal and key (never stored), so a
 * retry after a restart or an eviction finds the same order, and two principals using the same key never find each
 * other's orders; opaque (a truncated SHA-256), so it reveals neither.
 */
export function orderReference(principalId: string, key: string): string {
  return `gw-${createHash('sha256').update(`${principalId}\u0000${key}`).digest('hex').slice(0, 20)}`;
}

/**
 * Where the reference goes: the very end of the order's description, as ` [gw-…]` (or the whole description when the
 * client gave none). Only that place counts when searching: the client writes the rest of the description, so a
 * reference anywhere else is text, never a match — and client descriptions holding the syntax are refused up front.
 */
export function describedWithReference(description: string | null, reference: string): string {
  return description ? `${description} [${reference}]` : `[${reference}]`;
}

/** True when `stored` (an upstream order's description) carries `reference` where the gateway puts it. */
export function carriesReference(stored: string | null, reference: string): boolean {
  if (stored === null) return false;
  const marker = `[${reference}]`;
  return stored === marker || stored.endsWith(` ${marker}`);
}

/** The reference syntax (`[gw-`, or a bare `gw-` + 20 hex digits), refused in client descriptions. */
export function containsReferenceSyntax(text: string): boolean {
  return /\[\s*gw-/i.test(text) || /gw-[0-9a-f]{20}/i.test(text);
}

/** Same key must mean same purchase: anything that changes what is bought is part of the fingerprint. */
export function fingerprintOf(input: { iccid: string; packageId: string; description: string | null }): string {
  return JSON.stringify([input.iccid, input.packageId, input.description ?? '']);
}
