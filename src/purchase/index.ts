export { PurchaseService, MAX_DESCRIPTION_LENGTH, type PurchaseInput, type PurchaseServiceOptions } from './purchase-service.ts';
export type { PurchaseFailureCode, PurchaseOutcome } from './outcome.ts';
export { orderReference } from './idempotency-store.ts';
