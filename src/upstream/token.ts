/**
 * The access token: fetched lazily, shared by all calls (single-flight), refreshed after
 * min(expires_in − 60 s, tokenRefreshSeconds) on the injected clock, invalidated on a 401. A failing token endpoint is
 * remembered for a short backoff so a burst of calls cannot hammer it (it allows 3–5 requests a minute) — except a refusal
 * by the circuit breaker, which sent nothing and has a cool-down of its own.
 * The token never leaves this module except as the Authorization header transport.ts builds from it.
 */
import type { Clock } from '../platform/clock.ts';
import {
  CircuitOpenError,
  UpstreamAuthError,
  UpstreamBadResponseError,
  UpstreamError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
} from './errors.ts';

export interface FetchedToken {
  accessToken: string;
  expiresInSeconds: number | null;
}

export interface TokenManagerOptions {
  /** Performs the token request; may throw UpstreamError subclasses. */
  fetchToken: () => Promise<FetchedToken>;
  clock: Clock;
  /** Upper bound on a token's life in our cache (the docs ask for a daily refresh although tokens live 366 days). */
  refreshSeconds: number;
  /** How long a token-endpoint failure is remembered before the next attempt. Default 5 s. */
  failureBackoffMs?: number;
}

export interface TokenManager {
  /** A valid token, fetching one if needed. Concurrent callers share one request. */
  get(): Promise<string>;
  /** Drops `token` if it is still the cached one (a 401 proved it stale); a newer token is kept. */
  invalidate(token: string): void;
}

const EXPIRY_MARGIN_SECONDS = 60;

/** Seconds we may use a token: expires_in minus a margin, capped by the configured refresh period. */
export function tokenLifetimeSeconds(expiresInSeconds: number | null, refreshSeconds: number): number {
  if (expiresInSeconds === null || !Number.isFinite(expiresInSeconds)) return refreshSeconds;
  const usable =
    expiresInSeconds > EXPIRY_MARGIN_SECONDS * 2 ? expiresInSeconds - EXPIRY_MARGIN_SECONDS : expiresInSeconds / 2;
  return Math.max(0, Math.min(usable, refreshSeconds));
}

/**
 * Token failures as the rest of the gateway should see them: our credentials refused → UpstreamAuthError; upstream
 * down → UpstreamUnavailableError (never ambiguous: fetching a token spends nothing); 429 and bad bodies unchanged.
 */
function toTokenFailure(error: unknown): UpstreamError {
  if (
    error instanceof UpstreamRateLimitedError ||
    error instanceof UpstreamBadResponseError ||
    error instanceof UpstreamAuthError
  )
    return error;
  if (error instanceof CircuitOpenError) return error;
  if (error instanceof UpstreamUnavailableError) {
    return new UpstreamUnavailableError(
      'token',
      error.status,
      false,
      error.status === null ? 'token request failed' : `HTTP ${error.status}`,
      { cause: error.cause },
    );
  }
  if (error instanceof UpstreamError) return new UpstreamAuthError('token', error.status, 'token request rejected');
  return new UpstreamUnavailableError('token', null, false, 'token request failed', { cause: error });
}

export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const { fetchToken, clock, refreshSeconds } = options;
  const failureBackoffMs = options.failureBackoffMs ?? 5_000;
  let cached: { token: string; validUntil: number } | null = null;
  let failure: { error: UpstreamError; until: number } | null = null;
  let inflight: Promise<string> | null = null;

  async function refresh(): Promise<string> {
    try {
      const fetched = await fetchToken();
      const lifetimeMs = tokenLifetimeSeconds(fetched.expiresInSeconds, refreshSeconds) * 1000;
      cached = { token: fetched.accessToken, validUntil: clock.now() + lifetimeMs };
      failure = null;
      return fetched.accessToken;
    } catch (error) {
      const converted = toTokenFailure(error);
      // Nothing was sent: the breaker has its own cool-down, and its probe must not be held back by ours.
      if (converted instanceof CircuitOpenError) throw converted;
      const backoffMs =
        converted instanceof UpstreamRateLimitedError ? converted.retryAfterSeconds * 1000 : failureBackoffMs;
      failure = { error: converted, until: clock.now() + backoffMs };
      throw converted;
    }
  }

  return {
    get() {
      const now = clock.now();
      if (cached && now < cached.validUntil) return Promise.resolve(cached.token);
      if (failure && now < failure.until) return Promise.reject(failure.error);
      inflight ??= refresh().finally(() => {
        inflight = null;
      });
      return inflight;
    },
    invalidate(token) {
      if (cached?.token === token) cached = null;
    },
  };
}
