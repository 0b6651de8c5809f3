/**
 * The access token: fetched lazily, shared by all calls (single-flight), refreshed after
 * min(expires_in − 60 s, tokenRefreshSeconds) on the injected clock, invalidated on a 401. A failing token endpoint is
 * remembered for a short backoff so a burst of calls cannot hammer it (it allows 3–5 requests a minute) — except a refusal
 * by the circuit breaker, which sent nothing and has a cool-down of its own.
 * The token never leaves this module except as the Authorization header transport.ts builds from it (and, encrypted,
 * the fleet's token store).
 *
 * With a TokenStore (src/stores/token/): a valid in-process token is used without asking the store; otherwise the
 * store's token is adopted, or this replica claims the refresh (one replica at a time) and shares what it fetched,
 * or it polls while another holds the claim — for at most the claim's lease plus a second, after which it fetches its
 * own (a holder that died lets its lease lapse and the next replica claims). A store that fails (Redis down or slow)
 * means fetching our own token, as a single replica does. See README "Running several replicas".
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../platform/clock.ts';
import type { SharedToken, TokenStore } from '../stores/token/types.ts';
import {
  CallNotAdmittedError,
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
  /** The fleet's token (one token, one refresh at a time); without it the token is this process's alone. */
  store?: TokenStore;
  /** How long a refresh claim lasts: at least the token request's own deadline. Default 15 s. */
  refreshLeaseMs?: number;
  /** How often a replica waiting for another's refresh looks for the new token (real time). Default 25 ms. */
  pollMs?: number;
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
  const { store } = options;
  const leaseMs = options.refreshLeaseMs ?? 15_000;
  const pollMs = options.pollMs ?? 25;
  let cached: SharedToken | null = null;
  let failure: { error: UpstreamError; until: number } | null = null;
  let inflight: Promise<string> | null = null;
  /** The last token a 401 proved stale: never adopted again from the store. */
  let rejected: string | undefined;

  /** The fleet's token, or 'claimed' (this replica must fetch and share), or 'alone' (fetch without sharing). */
  async function fromFleet(fleet: TokenStore): Promise<SharedToken | 'claimed' | 'alone'> {
    const deadline = performance.now() + leaseMs + 1_000;
    const usable = (shared: SharedToken | undefined) => (shared && shared.token !== rejected ? shared : undefined);
    try {
      for (;;) {
        const shared = usable(await fleet.read(clock.now()));
        if (shared) return shared;
        if (await fleet.claim(leaseMs)) {
          // Another replica may have shared a token between our read and our claim.
          const late = usable(await fleet.read(clock.now()));
          if (!late) return 'claimed';
          await fleet.release();
          return late;
        }
        if (performance.now() >= deadline) return 'alone';
        await sleep(pollMs);
      }
    } catch {
      return 'alone'; // the store is unavailable: fetch our own, as a single replica does
    }
  }

  async function refresh(): Promise<string> {
    const source = store ? await fromFleet(store) : 'alone';
    if (typeof source === 'object') {
      cached = source;
      failure = null;
      return source.token;
    }
    try {
      const fetched = await fetchToken();
      const lifetimeMs = tokenLifetimeSeconds(fetched.expiresInSeconds, refreshSeconds) * 1000;
      const now = clock.now();
      cached = { token: fetched.accessToken, validUntil: now + lifetimeMs };
      failure = null;
      if (source === 'claimed') await store?.write(cached, now).catch(() => {}); // unshared: the others fetch theirs
      return fetched.accessToken;
    } catch (error) {
      if (source === 'claimed') await store?.release().catch(() => {}); // the lease would end it anyway
      // The gateway's own budget said no (nothing was sent): its refusal and estimate go to the caller as they are,
      // and the next caller asks again (no backoff remembered: the scheduler already knows when).
      if (error instanceof CallNotAdmittedError) throw error;
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
      rejected = token;
      store?.discard(token).catch(() => {}); // best effort: the store's copy expires, and `rejected` skips it here
    },
  };
}
