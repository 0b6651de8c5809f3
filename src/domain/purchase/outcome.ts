/**
 * What a top-up purchase can end in, independent of GraphQL. The failure codes and which of them are permanent come
 * from the error vocabulary (../errors.ts).
 */
import type { TopupOrder } from '../../upstream/index.ts';
import type { PurchaseFailureCode } from '../errors.ts';

export type PurchaseOutcome =
  | { kind: 'success'; iccid: string; order: TopupOrder; replayed: boolean }
  | { kind: 'failure'; code: PurchaseFailureCode; message: string; retryAfterSeconds?: number };
