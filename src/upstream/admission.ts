/**
 * The seam between the transport and the gateway's scheduler (src/domain/scheduler, injected by src/app/gateway.ts):
 * the transport asks before EVERY call attempt it makes — the token request, each call, the resend after a 401, each
 * GET retry after a 5xx — and reports every 429. Without an admission (tests of this layer) nothing is limited.
 *
 * Contract for an implementation:
 * - `admit` returns nothing when the attempt may go now (synchronously: no tick is lost on the common path), a promise
 *   that resolves when it may go, or throws / rejects with a CallNotAdmittedError when it may not (nothing is sent);
 *   an abort of `signal` rejects with its reason. Who is calling (priority, principal) is the implementation's
 *   business (an async context of its own), so this layer never has to carry it;
 * - `admitRetry` decides a GET retry after a 5xx or a network error: true to send it, false to give up (the caller
 *   then gets the failure of the attempt before); never waits for budget, never throws;
 * - `rateLimited` is awaited before the caller learns of the 429, so every later attempt already honours it.
 */
import type { UpstreamRateLimitedError } from './errors.ts';
import type { UpstreamEndpoint } from './flavours.ts';

export interface UpstreamAttempt {
  endpoint: UpstreamEndpoint;
  /** The SIM the call is about, when the endpoint has one (per-ICCID budgets). */
  iccid: string | undefined;
}

export interface UpstreamAdmission {
  admit(attempt: UpstreamAttempt, signal: AbortSignal | undefined): void | Promise<void>;
  admitRetry(attempt: UpstreamAttempt): boolean | Promise<boolean>;
  rateLimited(attempt: UpstreamAttempt, error: UpstreamRateLimitedError): void | Promise<void>;
}
