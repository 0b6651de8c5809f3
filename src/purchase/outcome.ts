/** What a top-up purchase can end in, independent of GraphQL. */
import type { TopupOrder } from '../upstream/index.ts';

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
  | 'UPSTREAM_UNAVAILABLE';

export type PurchaseOutcome =
  | { kind: 'success'; iccid: string; order: TopupOrder; replayed: boolean }
  | { kind: 'failure'; code: PurchaseFailureCode; message: string; retryAfterSeconds?: number };

/**
 * Failures that cannot change on a retry are remembered under the key and replayed; the others
 * (nothing was bought, and trying again may succeed) free the key for a retry with the same key.
 */
export const PERMANENT_FAILURES: ReadonlySet<PurchaseFailureCode> = new Set([
  'PACKAGE_NOT_AVAILABLE',
  'SIM_NOT_FOUND',
  'SIM_RECYCLED',
  'TOPUP_DISABLED',
]);
