/**
 * Upstream payloads are parsed here, at the boundary, and leave as the normalised types below: nothing past
 * src/upstream sees a raw payload. One file per resource; the schemas are tolerant of the documented quirks (numbers as
 * strings, typo'd `meta.message`, extra fields such as `pricing`/`prices`, two package-history envelopes) and strict
 * about what the gateway relies on — a 2xx missing it is an UpstreamBadResponseError (README "Caching and upstream
 * budgets").
 */
export { isNotFoundBody, summariseIssues, toDecimalString, toIsoUtc, type Page } from './conversions.ts';
export { tokenResponseSchema } from './token.ts';
export { balanceResponseSchema, type Balance } from './balance.ts';
export { simListResponseSchema, simResponseSchema, simSchema, type InitialOrder, type SimDetails } from './sims.ts';
export { SIM_STATUSES, usageResponseSchema, type SimStatus, type Usage } from './usage.ts';
export { topupsResponseSchema, type TopupPackage } from './topups.ts';
export { historyResponseSchema, type HistoryEntry, type HistoryPackage, type HistoryStatus } from './history.ts';
export { orderListResponseSchema, orderResponseSchema, type TopupOrder } from './orders.ts';
