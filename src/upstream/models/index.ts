/**
 * Upstream payloads are parsed here, at the boundary, and leave as the normalised types below: nothing past
 * src/upstream sees a raw payload. One file per resource; the schemas are tolerant of the documented quirks (numbers as
 * strings, typo'd `meta.message`, extra fields such as `pricing`/`prices`, two package-history envelopes) and strict
 * about what the gateway relies on — a 2xx missing it is an UpstreamBadResponseError (README "Caching and upstream
 * budgets").
 */

export { type Balance, balanceResponseSchema } from './balance.ts';
export { isNotFoundBody, type Page, summariseIssues, toDecimalString, toIsoUtc } from './conversions.ts';
export { type HistoryEntry, type HistoryPackage, type HistoryStatus, historyResponseSchema } from './history.ts';
export {
  NOTIFICATION_TYPES,
  type NotificationSetting,
  type NotificationType,
  notificationResponseSchema,
  optOutResponseSchema,
} from './notifications.ts';
export { orderListResponseSchema, orderResponseSchema, type TopupOrder } from './orders.ts';
export { type InitialOrder, type SimDetails, simListResponseSchema, simResponseSchema, simSchema } from './sims.ts';
export { tokenResponseSchema } from './token.ts';
export { type TopupPackage, topupsResponseSchema } from './topups.ts';
export { SIM_STATUSES, type SimStatus, type Usage, usageResponseSchema } from './usage.ts';
