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
import type { Flavour, UpstreamEndpoint } from './upstream-vocabulary.ts';

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
  /**
   * How much longer than its window the gateway counts each call (UPSTREAM_LIMIT_MARGIN_MS; absent = 0). The gateway
   * admits a call a moment before the upstream counts it (connection queueing, network): calls admitted a full window
   * apart can arrive less than a window apart when the first was delayed more than the second. Widening every window
   * by the largest such difference keeps the upstream's count within its limit; it costs that share of the rate
   * (100 ms on a 1 s window: 5 calls per 1.1 s instead of per 1 s).
   */
  marginMs?: number;
}

// ───── Defaults, per flavour ─────────────────────────────────────────────────────────────────────────────────────────

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/**
 * What the upstream itself enforces, per flavour, as its documentation says (see LIMIT_SOURCES for where each number
 * comes from). The built-in sandbox enforces exactly these by default.
 */
export const DOCUMENTED_LIMITS: Readonly<Record<Flavour, UpstreamLimits>> = {
  pressone: {
    endpoints: {
      token: [{ limit: 5, windowMs: MINUTE, scope: 'per-partner' }],
      usage: [{ limit: 100, windowMs: MINUTE, scope: 'per-iccid' }],
      packages: [{ limit: 1, windowMs: 15 * MINUTE, scope: 'per-iccid' }],
    },
    all: [],
  },
  airalo: {
    endpoints: {
      token: [{ limit: 3, windowMs: MINUTE, scope: 'per-partner' }],
      usage: [
        { limit: 10, windowMs: MINUTE, scope: 'per-iccid' },
        { limit: 5, windowMs: SECOND, scope: 'per-partner' },
      ],
      packages: [{ limit: 10, windowMs: MINUTE, scope: 'per-iccid' }],
    },
    all: [],
  },
};

/**
 * The gateway's own protective limits, on endpoints the upstream documents none for: `GET sims/{iccid}` (details are
 * cached 1 h; this bounds re-reads however entries are evicted). Not the upstream's: the sandbox does not enforce them.
 */
export const GATEWAY_OWN_LIMITS: Readonly<Partial<Record<UpstreamEndpoint, readonly RateLimit[]>>> = {
  sim: [{ limit: 10, windowMs: MINUTE, scope: 'per-iccid' }],
};

/** Airalo's sandbox mode: every call, whatever the endpoint, counts against 50 per minute per client_id. */
export const AIRALO_SANDBOX_MODE_LIMIT: RateLimit = { limit: 50, windowMs: MINUTE, scope: 'per-partner' };

/** The gateway's defaults per flavour: the upstream's documented limits plus the gateway's own. */
export const DEFAULT_LIMITS: Readonly<Record<Flavour, UpstreamLimits>> = {
  pressone: withOwnLimits(DOCUMENTED_LIMITS.pressone),
  airalo: withOwnLimits(DOCUMENTED_LIMITS.airalo),
};

function withOwnLimits(documented: UpstreamLimits): UpstreamLimits {
  return { endpoints: { ...documented.endpoints, ...GATEWAY_OWN_LIMITS }, all: documented.all };
}

const OWN_SOURCE =
  "the gateway's own protective limit, not the upstream's (no source documents one; details are cached 1 h, this bounds re-reads of evicted entries)";
const AIRALO_PAGE = "Airalo 'Rate limits' page, modified 2026-05-07";

/** Where each default of DEFAULT_LIMITS comes from, per flavour (README "Limits" shows the same). */
export const LIMIT_SOURCES: Readonly<Record<Flavour, readonly LimitSource[]>> = {
  pressone: [
    {
      endpoint: 'token',
      limits: DEFAULT_LIMITS.pressone.endpoints.token!,
      source:
        "no PressOne page documents one: Airalo 'Rate limits' page, 2024-12-16 version (PressOne is a white label of Airalo's API; the older page's 5/min, which the sandbox always enforced, over the newest 3/min)",
    },
    {
      endpoint: 'usage',
      limits: DEFAULT_LIMITS.pressone.endpoints.usage!,
      source: "PressOne seed page 'Get usage (data, text & voice)' (Monitor usage): 100 requests per minute per ICCID",
    },
    {
      endpoint: 'packages',
      limits: DEFAULT_LIMITS.pressone.endpoints.packages!,
      source: "PressOne seed page 'Get eSIM package history' (Manage eSIMs): once every 15 minutes per eSIM",
    },
    { endpoint: 'sim', limits: DEFAULT_LIMITS.pressone.endpoints.sim!, source: OWN_SOURCE },
  ],
  airalo: [
    { endpoint: 'token', limits: DEFAULT_LIMITS.airalo.endpoints.token!, source: `${AIRALO_PAGE}: 3 per minute` },
    {
      endpoint: 'usage',
      limits: DEFAULT_LIMITS.airalo.endpoints.usage!,
      source: `${AIRALO_PAGE}: 10 per minute per ICCID and 5 per second per client_id`,
    },
    {
      endpoint: 'packages',
      limits: DEFAULT_LIMITS.airalo.endpoints.packages!,
      source: `${AIRALO_PAGE}: 10 per minute per ICCID`,
    },
    { endpoint: 'sim', limits: DEFAULT_LIMITS.airalo.endpoints.sim!, source: OWN_SOURCE },
  ],
};

/**
 * Endpoints whose calls name one ICCID (path or body): only these can have `per-iccid` limits. For any other endpoint
 * a per-ICCID budget would mean nothing.
 */
export const PER_ICCID_ENDPOINTS: ReadonlySet<UpstreamEndpoint> = new Set<UpstreamEndpoint>([
  'sim',
  'usage',
  'topups',
  'packages',
  'submitTopup',
]);

// ───── The setting's syntax: `10/60s per-iccid, 5/1s per-partner` or `none` ─────────────────────────────────────────

/** A malformed limit setting; `message` says what is wrong and shows the right form. */
export class LimitSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimitSpecError';
  }
}

const SPEC_EXAMPLE = '"10/60s per-iccid, 5/1s per-partner" or "none"';
const DURATION_UNITS = { ms: 1, s: SECOND, m: MINUTE, h: 60 * MINUTE } as const;
/** Longer windows are no rate limit anyone documents; a typo more likely (`15h` for `15m`). */
const MAX_WINDOW_MS = 24 * 60 * MINUTE;
const MAX_CALLS = 1_000_000_000;

/**
 * Parses one endpoint's setting: `none` (no limit), or a comma list of `<calls>/<duration> <scope>` — calls a whole
 * number ≥ 1, duration a whole number with a unit `ms`, `s`, `m` or `h` (`500ms`, `1s`, `60s`, `15m`, `1h`, ≤ 24h),
 * scope `per-iccid` or `per-partner`; each (scope, duration) at most once. Throws LimitSpecError naming the part that is
 * wrong, with an example of the right form.
 */
export function parseLimitSpec(text: string): RateLimit[] {
  const spec = text.trim();
  if (spec === '') throw new LimitSpecError(`is empty: expected ${SPEC_EXAMPLE}`);
  const items = spec.split(',').map((item) => item.trim());
  if (items.length === 1 && items[0]!.toLowerCase() === 'none') return [];
  const limits: RateLimit[] = [];
  const seen = new Map<string, string>();
  items.forEach((item, index) => {
    if (item === '') throw new LimitSpecError(`item ${index + 1} of "${spec}" is empty (a stray comma?)`);
    if (item.toLowerCase() === 'none')
      throw new LimitSpecError(`"none" must stand alone (it means no limit), not in a list: "${spec}"`);
    const limit = parseLimitItem(item);
    const window = `${formatDuration(limit.windowMs)} ${limit.scope}`;
    const earlier = seen.get(window);
    if (earlier !== undefined)
      throw new LimitSpecError(`"${item}" repeats the ${window} window of "${earlier}": give each window once`);
    seen.set(window, item);
    limits.push(limit);
  });
  return limits;
}

function parseLimitItem(item: string): RateLimit {
  const match = /^(\S*?)\s*\/\s*(\S*)(?:\s+(.*))?$/.exec(item);
  if (!match) {
    throw new LimitSpecError(
      `"${item}" is not <calls>/<duration> <scope>: write e.g. "10/60s per-iccid" (${SPEC_EXAMPLE} for the whole setting)`,
    );
  }
  const [, callsText = '', durationText = '', scopeText = ''] = match;
  if (!/^\d+$/.test(callsText) || Number(callsText) < 1 || Number(callsText) > MAX_CALLS) {
    throw new LimitSpecError(
      `"${item}": the number of calls "${callsText}" must be a whole number from 1 to ${MAX_CALLS} (e.g. "10/60s per-iccid"; "none" for no limit)`,
    );
  }
  const windowMs = parseDuration(item, durationText);
  const scope = scopeText.trim();
  if (scope === '') {
    throw new LimitSpecError(
      `"${item}" has no scope: add per-iccid or per-partner, e.g. "${callsText}/${durationText} per-iccid"`,
    );
  }
  if (/\s/.test(scope)) {
    throw new LimitSpecError(
      `"${item}": one scope per limit, found "${scope}" (write one limit per scope, e.g. "10/60s per-iccid, 100/60s per-partner")`,
    );
  }
  if (!(LIMIT_SCOPES as readonly string[]).includes(scope)) {
    throw new LimitSpecError(
      `"${item}": unknown scope "${scope}" (one of ${LIMIT_SCOPES.join(', ')}, e.g. "${callsText}/${durationText} per-iccid")`,
    );
  }
  return { limit: Number(callsText), windowMs, scope: scope as LimitScope };
}

function parseDuration(item: string, text: string): number {
  const match = /^(\d+)([a-z]*)$/i.exec(text);
  if (!match) {
    throw new LimitSpecError(
      `"${item}": the duration "${text}" must be a whole number with a unit, e.g. "500ms", "1s", "60s", "15m", "1h"`,
    );
  }
  const [, amount = '', unit = ''] = match;
  if (unit === '') {
    throw new LimitSpecError(`"${item}": the duration "${text}" has no unit: write e.g. "${amount}s" (ms, s, m or h)`);
  }
  if (!Object.hasOwn(DURATION_UNITS, unit)) {
    throw new LimitSpecError(`"${item}": unknown unit "${unit}" in "${text}" (use ms, s, m or h, e.g. "60s" or "15m")`);
  }
  const windowMs = Number(amount) * DURATION_UNITS[unit as keyof typeof DURATION_UNITS];
  if (windowMs < 1) throw new LimitSpecError(`"${item}": the duration "${text}" must be longer than 0`);
  if (windowMs > MAX_WINDOW_MS) {
    throw new LimitSpecError(`"${item}": the duration "${text}" is longer than 24h, the longest window accepted`);
  }
  return windowMs;
}

/** `60000` → `60s`, `900000` → `15m`, `3600000` → `1h`, `500` → `500ms`: what parseLimitSpec reads back. */
export function formatDuration(windowMs: number): string {
  if (windowMs % SECOND !== 0) return `${windowMs}ms`;
  const seconds = windowMs / SECOND;
  if (seconds <= 60) return `${seconds}s`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** The setting's form of `limits`: `10/60s per-iccid, 5/1s per-partner`, or `none`; parseLimitSpec reads it back. */
export function formatLimitSpec(limits: readonly RateLimit[]): string {
  if (limits.length === 0) return 'none';
  return limits.map((l) => `${l.limit}/${formatDuration(l.windowMs)} ${l.scope}`).join(', ');
}

const sameLimits = (a: readonly RateLimit[] = [], b: readonly RateLimit[] = []): boolean =>
  formatLimitSpec(a) === formatLimitSpec(b);

/**
 * One short phrase for the start log: whose defaults, what was overridden, and the usage limits (the ones that bind a
 * reseller), e.g. `airalo defaults, usage 10/60s per-iccid + 5/1s per-partner`.
 */
export function describeLimits(flavour: Flavour, limits: UpstreamLimits): string {
  const defaults = DEFAULT_LIMITS[flavour];
  const names = new Set([...Object.keys(defaults.endpoints), ...Object.keys(limits.endpoints)] as UpstreamEndpoint[]);
  const changed: string[] = [...names].filter((e) => !sameLimits(defaults.endpoints[e], limits.endpoints[e])).sort();
  if (!sameLimits(defaults.all, limits.all)) changed.push('all');
  const phrase = (list: readonly RateLimit[] = []) => formatLimitSpec(list).replaceAll(', ', ' + ');
  const parts = [
    changed.length ? `${flavour} defaults (overridden: ${changed.join(', ')})` : `${flavour} defaults`,
    `usage ${phrase(limits.endpoints.usage)}`,
  ];
  if (limits.all.length) parts.push(`all endpoints ${phrase(limits.all)}`);
  return parts.join(', ');
}
