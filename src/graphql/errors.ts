/**
 * The one place where upstream and cache failures become client-facing GraphQL errors.
 *
 * Contract: every expected failure carries a stable `extensions.code`; its message is written here,
 * never copied from an upstream body. Anything not recognised is rethrown untouched so that Yoga's
 * error masking replaces it with "Unexpected error." (masking is never turned off).
 */
import { GraphQLError } from 'graphql';
import { BudgetExhaustedError, CallAllowanceExceededError } from '../domain/cache/index.ts';
import {
  UpstreamAuthError,
  UpstreamBadResponseError,
  UpstreamBusinessError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
  UpstreamValidationError,
} from '../upstream/index.ts';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'FORBIDDEN'
  | 'SIM_NOT_FOUND'
  | 'SIM_RECYCLED'
  | 'RATE_LIMITED'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_AUTH_FAILED'
  | 'INSUFFICIENT_FUNDS'
  | 'PACKAGE_NOT_AVAILABLE'
  | 'TOPUP_DISABLED'
  | 'OPERATOR_MAINTENANCE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'QUERY_TOO_EXPENSIVE'
  | 'PURCHASE_REFUSED';

export class GatewayError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...extra } });
    this.name = 'GatewayError';
  }
}

export const simNotFound = (iccid: string) => new GatewayError('SIM_NOT_FOUND', `No eSIM with ICCID ${iccid}.`);

export const badUserInput = (message: string, field?: string) =>
  new GatewayError('BAD_USER_INPUT', message, field ? { field } : {});

/** Upstream business error codes (422 `{code, reason}`) and what they mean to a client. */
export const BUSINESS_CODES: Record<number, { code: ErrorCode; message: string }> = {
  11: { code: 'INSUFFICIENT_FUNDS', message: 'The partner account has insufficient balance for this top-up.' },
  13: { code: 'OPERATOR_MAINTENANCE', message: "The SIM's operator is under maintenance; try again later." },
  23: { code: 'TOPUP_DISABLED', message: "Top-ups are disabled by this SIM's operator." },
  34: { code: 'PACKAGE_NOT_AVAILABLE', message: 'This package is invalid or out of stock.' },
  73: { code: 'SIM_RECYCLED', message: 'This eSIM has been recycled and can no longer be used or topped up.' },
};

/** Seconds a client should wait before asking again, for errors that have one. */
export function retryAfterOf(error: unknown): number | undefined {
  if (error instanceof UpstreamRateLimitedError || error instanceof BudgetExhaustedError) {
    return Math.max(1, Math.ceil(error.retryAfterSeconds));
  }
  return undefined;
}

/**
 * Maps a failure of reading `iccid`'s data to a GraphQL error. Unknown errors are returned as they are
 * (Yoga masks them).
 */
export function toGraphQLError(error: unknown, iccid?: string): unknown {
  if (error instanceof GraphQLError) return error;
  if (error instanceof UpstreamNotFoundError) {
    return iccid ? simNotFound(iccid) : new GatewayError('SIM_NOT_FOUND', 'Not found.');
  }
  const retryAfterSeconds = retryAfterOf(error);
  if (retryAfterSeconds !== undefined) {
    return new GatewayError('RATE_LIMITED', `The upstream limits how often this can be read; retry in ${retryAfterSeconds}s.`, {
      retryAfterSeconds,
    });
  }
  if (error instanceof CallAllowanceExceededError) {
    // The request, not the upstream, is the problem: retrying the same request cannot help; a smaller one can.
    return new GatewayError(
      'QUERY_TOO_EXPENSIVE',
      `This request needs more than ${error.limit} upstream calls; ask for fewer SIMs or resources per request.`,
      { maxUpstreamCalls: error.limit },
    );
  }
  if (error instanceof UpstreamBusinessError) {
    const known = BUSINESS_CODES[error.code];
    if (known) return new GatewayError(known.code, known.message);
    return new GatewayError('UPSTREAM_UNAVAILABLE', 'The upstream could not complete the request.');
  }
  if (error instanceof UpstreamAuthError) {
    return new GatewayError('UPSTREAM_AUTH_FAILED', 'The gateway could not authenticate with the upstream.');
  }
  if (
    error instanceof UpstreamUnavailableError ||
    error instanceof UpstreamBadResponseError ||
    error instanceof UpstreamValidationError
  ) {
    return new GatewayError('UPSTREAM_UNAVAILABLE', 'The upstream is unavailable; try again later.');
  }
  return error;
}
