/**
 * Public API of the upstream module: everything HTTP about the partner API (README "Architecture"). Imports nothing
 * from src/graphql, src/domain or src/app.
 */

export type { UpstreamAdmission, UpstreamAttempt } from './admission.ts';
export type { BreakerState, CircuitBreakerOptions } from './circuit-breaker.ts';
export { breakerDefaults } from './circuit-breaker.ts';
export type { UpstreamCallEvent, UpstreamClient, UpstreamClientOptions } from './client.ts';
export { createUpstreamClient } from './client.ts';
export {
  CallNotAdmittedError,
  CircuitOpenError,
  UpstreamAuthError,
  UpstreamBadResponseError,
  UpstreamBusinessError,
  UpstreamError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
  UpstreamValidationError,
} from './errors.ts';
export type { Flavour, UpstreamEndpoint } from './flavours.ts';
export { defaultEndpointPaths, FLAVOURS, flavourBasePaths, UPSTREAM_ENDPOINTS } from './flavours.ts';
export type {
  Balance,
  HistoryEntry,
  HistoryPackage,
  HistoryStatus,
  InitialOrder,
  NotificationSetting,
  NotificationType,
  Page,
  SimDetails,
  SimStatus,
  TopupOrder,
  TopupPackage,
  Usage,
} from './models/index.ts';
export { NOTIFICATION_TYPES, SIM_STATUSES, toDecimalString, toIsoUtc } from './models/index.ts';
export type { RetryBudgetOptions } from './retry-budget.ts';
