/** What a top-up purchase can end in, independent of GraphQL. */
import type { TopupOrder } from '../../upstream/index.ts';

export type PurchaseFailureCode =
  | 'INSUFFICIENT_FUNDS'
  | 'PACKAGE_NOT_AVAILABLE'
  | 'SIM_NOT_FOUND'
  | 'SIM_RECYCLED'
  | 'TOPUP_DISABLED'
  | 'OPERATOR_MAINTENANCE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'RATE_LIMITED'
  | 'UPSTREAM_UNAVAILABLE'
  /** The upstream definitely refused the order (a 4xx) for a reason the gateway does not map to a code above. */
  | 'PURCHASE_REFUSED';

export type PurchaseOutcome =
  | { kind: 'success'; iccid: string; order: TopupOrder; replayed: boolean }
  | { kind: 'failure'; code: PurchaseFailureCode; message: string; retryAfterSeconds?: number };

/**
 * Failures that cannot change on a retry are remembered under the key and replayed; the others
 * (nothing was bought, and trying again may succeed) free the key for a retry with the same key.
 * PURCHASE_REFUSED is not among them: the gateway does not know the reason, which may be passing (an order limit, an
 * upstream validation bug); a retry costs one search and one submit and cannot buy twice (it searches first).
 */
export const PERMANENT_FAILURES: ReadonlySet<PurchaseFailureCode> = new Set([
  'PACKAGE_NOT_AVAILABLE',
  'SIM_NOT_FOUND',
  'SIM_RECYCLED',
  'TOPUP_DISABLED',
]);
