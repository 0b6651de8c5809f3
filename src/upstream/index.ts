/**
 * Public API of the upstream module: everything HTTP about the partner API (README "Architecture"). Imports nothing
 * from src/graphql, src/domain or src/app.
 */
export { createUpstreamClient } from './client.ts';
export type { UpstreamClient, UpstreamClientOptions, UpstreamCallEvent } from './client.ts';
export type { BreakerState, CircuitBreakerOptions } from './circuit-breaker.ts';
export { breakerDefaults } from './circuit-breaker.ts';
export type { RetryBudgetOptions } from './retry-budget.ts';
export type { Flavour, UpstreamEndpoint } from './flavours.ts';
export { FLAVOURS, UPSTREAM_ENDPOINTS, defaultEndpointPaths, flavourBasePaths } from './flavours.ts';
export {
  UpstreamError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamValidationError,
  UpstreamBusinessError,
  UpstreamAuthError,
  UpstreamUnavailableError,
  CircuitOpenError,
  UpstreamBadResponseError,
} from './errors.ts';
export { SIM_STATUSES, toDecimalString, toIsoUtc } from './models/index.ts';
export type {
  Balance,
  HistoryEntry,
  HistoryPackage,
  HistoryStatus,
  InitialOrder,
  Page,
  SimDetails,
  SimStatus,
  TopupOrder,
  TopupPackage,
  Usage,
} from './models/index.ts';
