/** The purchase domain's public API: the money path (purchase-service.ts), its outcomes and the order reference. */

export type { PurchaseFailureCode } from '../errors.ts';
export {
  carriesReference,
  containsReferenceSyntax,
  describedWithReference,
  orderReference,
} from './order-reference.ts';
export type { PurchaseOutcome } from './outcome.ts';
export {
  MAX_DESCRIPTION_LENGTH,
  type PurchaseInput,
  PurchaseService,
  type PurchaseServiceOptions,
  SIM_NOT_FOUND,
} from './purchase-service.ts';
