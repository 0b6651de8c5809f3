/**
 * Idempotency claims and records of `purchaseTopup`, one per (principal, idempotency key). README "Purchasing top-ups
 * safely" and "Running several replicas".
 *
 * Contract:
 * - `claim` is atomic across every gateway sharing the store: at most one caller holds a live claim for a key. The
 *   claim carries the request fingerprint; a key recorded with another fingerprint is `mismatch`, never claimed.
 * - A claim is either fresh (no record: search, then submit) or a takeover (`previous`): the record of an earlier
 *   attempt whose outcome is not known — an `unknown` record, or a `running` one whose holder stopped renewing its
 *   lease (it died, or lost the store). A takeover must reconcile (search) before anything is submitted.
 * - `markSubmitting` is written durably before the POST leaves and only while the claim is still held; `false` or a
 *   throw means: do not submit.
 * - Settled records (`succeeded`, `failed`) and `unknown` ones are kept ≥ `ttlMs` (IDEMPOTENCY_TTL_HOURS), subject to
 *   the implementation's bounds (memory: an LRU). A settled record is replayed, never claimed.
 * - Every method may throw when the store cannot be reached (Redis down or slow): the caller fails closed.
 * Times in records (`since`, `submittingSince`) are the caller's clock; leases are the store's own (real) time.
 */

/** What is known of one key. `O` is the outcome the caller stores (JSON-serialisable for a shared store). */
export type PurchaseRecord<O> =
  /** A purchase under way. `submittingSince` is set (durably) before its POST is sent. */
  | { state: 'running'; fingerprint: string; reference: string; submittingSince?: number }
  /** The submit may or may not have reached the upstream since `since`: reconcile before anything else. */
  | { state: 'unknown'; fingerprint: string; reference: string; since: number }
  | { state: 'succeeded' | 'failed'; fingerprint: string; reference: string; outcome: O };

export type UnsettledRecord<O> = Extract<PurchaseRecord<O>, { state: 'running' | 'unknown' }>;
export type SettledRecord<O> = Extract<PurchaseRecord<O>, { state: 'succeeded' | 'failed' }>;

/** A held claim: pass it back to every later call of the same attempt. */
export interface PurchaseClaim {
  readonly id: string;
  readonly token: string;
  readonly fingerprint: string;
  readonly reference: string;
}

export type ClaimResult<O> =
  | { kind: 'claimed'; claim: PurchaseClaim; previous?: UnsettledRecord<O> }
  /** Another attempt holds a live claim (another replica, or — memory only — another run of this process). */
  | { kind: 'busy'; record: UnsettledRecord<O> }
  | { kind: 'settled'; record: SettledRecord<O> }
  /** The key is recorded with another fingerprint (IDEMPOTENCY_KEY_REUSED). */
  | { kind: 'mismatch' };

export interface PurchaseRecordStore<O> {
  /** How long a claim lives without renewal; undefined = claims never expire (in-process: they end with the run). */
  readonly leaseMs: number | undefined;
  claim(principalId: string, key: string, request: { fingerprint: string; reference: string }): Promise<ClaimResult<O>>;
  /** Extends the claim's lease; false once the claim is lost (expired and taken over, or the store restarted empty). */
  renew(claim: PurchaseClaim): Promise<boolean>;
  /**
   * Records "may have been submitted since `since`" before the POST is sent; false = the claim is lost, or an earlier
   * holder settled the key meanwhile: do not submit.
   */
  markSubmitting(claim: PurchaseClaim, since: number): Promise<boolean>;
  /**
   * Ends the claim with a record. Applied only while the claim is held — except `succeeded`, which is written whoever
   * holds the key (an order exists). A recorded success is final: nothing overwrites or releases it.
   */
  settle(claim: PurchaseClaim, record: Exclude<PurchaseRecord<O>, { state: 'running' }>): Promise<void>;
  /** Ends the claim and forgets the key (nothing was bought; a retry starts afresh). Only while the claim is held. */
  release(claim: PurchaseClaim): Promise<void>;
  /** The key's record, for diagnostics and tests. */
  get(principalId: string, key: string): Promise<PurchaseRecord<O> | undefined>;
}
