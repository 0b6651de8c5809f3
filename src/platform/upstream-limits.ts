/**
 * The upstream's rate limits as data (README "Limits"): what each endpoint allows, per flavour, with the source of each
 * default. Sources disagree and change (the seed pages, Airalo's "Rate limits" page in two versions, the OpenAPI
 * export), so every number is configuration: one `UPSTREAM_LIMIT_<ENDPOINT>` setting per endpoint, parsed by
 * `parseLimitSpec` (config.ts), overrides the flavour's default.
 *
 * Contract:
 * - a limit is "at most `limit` calls per sliding `windowMs`", counted per ICCID (`per-iccid`: one budget per SIM) or
 *   for the whole partner account (`per-partner`: one budget for every call to the endpoint, whatever the ICCID —
 *   the token's client_id); an endpoint may have several limits, all of which must allow a call;
 * - `all` limits apply to every endpoint together (Airalo's sandbox mode: 50 calls per minute per client_id);
 * - an endpoint absent from `endpoints` has no documented limit: only the upstream's 429s (their Retry-After) apply.
 * The gateway (src/domain/scheduler) and the built-in sandbox (src/sandbox) read the same defaults.
 * Dependency-free on purpose (src/platform imports from no other layer).
 */
import type { UpstreamEndpoint } from './upstream-vocabulary.ts';

export const LIMIT_SCOPES = ['per-iccid', 'per-partner'] as const;
export type LimitScope = (typeof LIMIT_SCOPES)[number];

export interface RateLimit {
  /** Calls allowed per window (≥ 1). */
  limit: number;
  windowMs: number;
  scope: LimitScope;
}

export interface UpstreamLimits {
  /** Per endpoint, every limit that applies to it (all must allow a call). */
  endpoints: Partial<Record<UpstreamEndpoint, readonly RateLimit[]>>;
  /** Limits on every call to any endpoint, counted together (e.g. Airalo's sandbox mode). Empty = none. */
  all: readonly RateLimit[];
}

/** Where a default comes from, for the README's Limits table and the start log. */
export interface LimitSource {
  endpoint: UpstreamEndpoint | 'all';
  limits: readonly RateLimit[];
  source: string;
}

/**
 * How the scheduler in front of the upstream waits (README "Limits"): a foreground call (a client waits for it) that
 * finds its budget spent queues for at most `foregroundWaitMs`; a call for a field under `@defer`/`@stream` for at
 * most `deferredWaitMs`. Background calls (stale-while-revalidate, prefetch) never queue: they take spare budget or
 * are skipped.
 */
export interface SchedulerConfig {
  foregroundWaitMs: number;
  deferredWaitMs: number;
}
