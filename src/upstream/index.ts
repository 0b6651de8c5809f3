/** Public API of the upstream module (everything HTTP; imports nothing from graphql or pothos). */
export { createUpstreamClient } from './client.ts';
export type { UpstreamClient, UpstreamClientOptions, UpstreamCallEvent } from './client.ts';
export type { BreakerState, CircuitBreakerOptions } from './circuit-breaker.ts';
export { breakerDefaults } from './circuit-breaker.ts';
export type { RetryBudgetOptions } from './retry-budget.ts';
export type { Flavour, UpstreamEndpoint } from './flavours.ts';
export { defaultEndpointPaths, flavourBasePaths } from './flavours.ts';
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
export { toDecimalString, toIsoUtc } from './models.ts';
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
} from './models.ts';
