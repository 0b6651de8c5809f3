/** The purchase domain's public API: the money path (purchase-service.ts), its outcomes and the order reference. */
export { PurchaseService, MAX_DESCRIPTION_LENGTH, SIM_NOT_FOUND, type PurchaseInput, type PurchaseServiceOptions } from './purchase-service.ts';
export type { PurchaseOutcome } from './outcome.ts';
export type { PurchaseFailureCode } from '../errors.ts';
export { carriesReference, containsReferenceSyntax, describedWithReference, orderReference } from './idempotency-store.ts';
