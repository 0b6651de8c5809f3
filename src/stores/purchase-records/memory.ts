/**
 * In-process purchase records: the embedded default, **one replica only** (README "Running several replicas").
 * Bounded (LRU, `maxKeys`) and kept for `ttlMs`; a restart forgets every key. So this store is a fast path and a
 * concurrency guard, never the proof that a key is new: purchase-service.ts searches the upstream's order list before
 * the first submit of any key the store has no record of.
 *
 * Two kinds of record are pinned, i.e. kept outside the LRU so that `maxKeys` pressure cannot drop them:
 * - `running` (a claim held): dropping it would let another call with the key claim it and submit next to the first;
 *   claims live only as long as their run (bounded by the upstream timeouts), so they have no lease;
 * - `unknown` (an ambiguous submit), for `pinUnknownMs` (the reconcile grace period): while the order may still land
 *   upstream, a forgotten record would turn "not found yet" into a second submit. Past the grace period an unknown
 *   record means what no record means (search, then submit if not found), so it is left to the LRU like the others.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../platform/clock.ts';
import type { ClaimResult, PurchaseClaim, PurchaseRecord, PurchaseRecordStore } from './types.ts';

type Running<O> = Extract<PurchaseRecord<O>, { state: 'running' }>;
type Unknown<O> = Extract<PurchaseRecord<O>, { state: 'unknown' }>;

export interface MemoryPurchaseRecordsOptions {
  ttlMs: number;
  maxKeys: number;
  /** How long an `unknown` record is pinned after its `since` (the reconcile grace period); 0 = not pinned. */
  pinUnknownMs: number;
  clock: Clock;
}

export class MemoryPurchaseRecords<O> implements PurchaseRecordStore<O> {
  readonly leaseMs = undefined;
  private readonly records: LRUCache<string, PurchaseRecord<O>>;
  private readonly running = new Map<string, { token: string; record: Running<O> }>();
  /** Insertion order ≈ `since` order, so expired entries are swept from the front. */
  private readonly unsettled = new Map<string, Unknown<O>>();
  private tokens = 0;

  constructor(private readonly options: MemoryPurchaseRecordsOptions) {
    this.records = new LRUCache({
      max: options.maxKeys,
      ttl: options.ttlMs,
      ttlResolution: 0,
      perf: { now: () => options.clock.now() },
    });
  }

  async claim(
    principalId: string,
    key: string,
    request: { fingerprint: string; reference: string },
  ): Promise<ClaimResult<O>> {
    const id = scoped(principalId, key);
    const existing = this.read(id);
    if (existing) {
      if (existing.fingerprint !== request.fingerprint) return { kind: 'mismatch' };
      if (existing.state === 'running') return { kind: 'busy', record: existing };
      if (existing.state !== 'unknown') return { kind: 'settled', record: existing };
    }
    const claim: PurchaseClaim = { id, token: String(++this.tokens), ...request };
    this.running.set(id, { token: claim.token, record: { state: 'running', ...request } });
    return { kind: 'claimed', claim, ...(existing ? { previous: existing } : {}) };
  }

  async renew(claim: PurchaseClaim): Promise<boolean> {
    return this.running.get(claim.id)?.token === claim.token;
  }

  async markSubmitting(claim: PurchaseClaim, since: number): Promise<boolean> {
    const held = this.running.get(claim.id);
    if (held?.token !== claim.token) return false;
    held.record = { ...held.record, submittingSince: since };
    return true;
  }

  async settle(claim: PurchaseClaim, record: Exclude<PurchaseRecord<O>, { state: 'running' }>): Promise<void> {
    if (this.running.get(claim.id)?.token !== claim.token && record.state !== 'succeeded') return;
    this.sweep();
    this.running.delete(claim.id);
    if (record.state === 'unknown' && !this.expired(record)) this.unsettled.set(claim.id, record);
    else this.unsettled.delete(claim.id);
    this.records.set(claim.id, record);
  }

  async release(claim: PurchaseClaim): Promise<void> {
    if (this.running.get(claim.id)?.token !== claim.token) return;
    this.running.delete(claim.id);
    this.unsettled.delete(claim.id);
    this.records.delete(claim.id);
  }

  async get(principalId: string, key: string): Promise<PurchaseRecord<O> | undefined> {
    return this.read(scoped(principalId, key));
  }

  /** Distinct keys held (pinned or in the LRU). */
  get size(): number {
    let size = this.records.size;
    for (const id of this.running.keys()) if (!this.records.has(id)) size++;
    for (const id of this.unsettled.keys()) if (!this.records.has(id) && !this.running.has(id)) size++;
    return size;
  }

  private read(id: string): PurchaseRecord<O> | undefined {
    const running = this.running.get(id);
    if (running) return running.record;
    const unsettled = this.unsettled.get(id);
    if (unsettled) {
      if (!this.expired(unsettled)) return unsettled;
      this.unsettled.delete(id);
    }
    return this.records.get(id);
  }

  private expired(record: Unknown<O>): boolean {
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
