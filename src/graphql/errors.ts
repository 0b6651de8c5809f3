/**
 * Where upstream and domain failures become client-facing GraphQL errors. `extensions.code` is always an `ErrorCode`
 * of the vocabulary (src/domain/errors.ts); the gateway composes every message, never copying an upstream body.
 * Anything not recognised is returned untouched, so Yoga's masking turns it into "Unexpected error." (never disabled).
 * See README.md, "Purchasing top-ups safely" (last paragraph).
 */
import { GraphQLError } from 'graphql';
import { BUSINESS_CODES, CallAllowanceExceededError, type ErrorCode, retryAfterOf } from '../domain/errors.ts';
import {
  UpstreamAuthError,
  UpstreamBadResponseError,
  UpstreamBusinessError,
  UpstreamNotFoundError,
  UpstreamUnavailableError,
  UpstreamValidationError,
} from '../upstream/index.ts';

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
    return new GatewayError(
      'RATE_LIMITED',
      `The upstream limits how often this can be read; retry in ${retryAfterSeconds}s.`,
      {
        retryAfterSeconds,
      },
    );
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
