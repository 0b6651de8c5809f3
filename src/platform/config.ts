/**
 * Environment → one typed, validated configuration object; every problem is reported at once.
 * Contract: the only place the gateway's own code reads its environment (src/app/index.ts passes `process.env` in).
 * Outside it: the OTLP exporter (@opentelemetry/otlp-exporter-base) reads the OTEL_EXPORTER_OTLP_* variables itself —
 * those validated here, and the timeout, compression and TLS-certificate ones this file does not know; the
 * standalone sandbox (src/sandbox/main.ts) reads its SANDBOX_* variables. See README.md, "Configuration".
 * The upstream's flavours and endpoint names come from upstream-vocabulary.ts, the one list of each.
 */
import { z } from 'zod';
import {
  DEFAULT_LIMITS,
  LimitSpecError,
  PER_ICCID_ENDPOINTS,
  parseLimitSpec,
  type RateLimit,
  type SchedulerConfig,
  type UpstreamLimits,
} from './upstream-limits.ts';
import { FLAVOURS, type Flavour, UPSTREAM_ENDPOINTS, type UpstreamEndpoint } from './upstream-vocabulary.ts';

/** `submitTopup` → `SUBMIT_TOPUP`: an endpoint's part of its variables' names. */
const endpointVariablePart = (endpoint: UpstreamEndpoint): string =>
  endpoint.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** Env var name for a path override, e.g. `submitTopup` → `UPSTREAM_PATH_SUBMIT_TOPUP`. */
export function pathOverrideVariable(endpoint: UpstreamEndpoint): string {
  return `UPSTREAM_PATH_${endpointVariablePart(endpoint)}`;
}

/** Env var name for an endpoint's rate limits, e.g. `usage` → `UPSTREAM_LIMIT_USAGE` (README "Limits"). */
export function limitVariable(endpoint: UpstreamEndpoint): string {
  return `UPSTREAM_LIMIT_${endpointVariablePart(endpoint)}`;
}

/**
 * The variables of the limits before `UPSTREAM_LIMIT_<ENDPOINT>`, each the per-ICCID limit of one endpoint. They keep
 * working; setting one together with its endpoint's new variable is a configuration error naming both.
 */
export const LEGACY_LIMIT_VARIABLES = {
  UPSTREAM_USAGE_LIMIT_PER_MINUTE: 'usage',
  UPSTREAM_HISTORY_INTERVAL_SECONDS: 'packages',
  UPSTREAM_DETAILS_LIMIT_PER_MINUTE: 'sim',
} as const satisfies Record<string, UpstreamEndpoint>;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** True for hosts that never leave the machine: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** An `https://` URL; plain `http://` only to a loopback address (local development, the sandbox). */
const secureUrl = z.url({ protocol: /^https?$/ }).refine((v) => {
  const url = new URL(v);
  return url.protocol === 'https:' || isLoopbackHost(url.hostname);
}, 'must be an https:// URL (http:// is allowed only for loopback addresses: 127.0.0.0/8, ::1, localhost)');

/** `*` or a comma list of exact origins (`scheme://host[:port]`, no path). */
const corsOrigins = z.string().transform((v, ctx) => {
  const list = v
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  if (list.length === 1 && list[0] === '*') return '*' as const;
  for (const origin of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      ctx.addIssue({
        code: 'custom',
        message: `"${origin}" is not an origin: use "*" or exact origins like https://app.example.com (no path, no trailing slash)`,
      });
    }
  }
  return list;
});

/**
 * One `UPSTREAM_LIMIT_*` setting (parseLimitSpec's syntax), for `endpoint` or, with `'all'`, for every endpoint
 * together. `per-iccid` only where a call names one ICCID: elsewhere (token, balance, lists, every endpoint together)
 * it would mean nothing.
 */
const limitSpec = (endpoint: UpstreamEndpoint | 'all') =>
  z.string().transform((value, ctx): RateLimit[] => {
    let limits: RateLimit[];
    try {
      limits = parseLimitSpec(value);
    } catch (error) {
      if (!(error instanceof LimitSpecError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message });
      return z.NEVER;
    }
    if (limits.some((l) => l.scope === 'per-iccid') && (endpoint === 'all' || !PER_ICCID_ENDPOINTS.has(endpoint))) {
      const what = endpoint === 'all' ? 'every endpoint together' : `${endpoint} calls`;
      ctx.addIssue({
        code: 'custom',
        message: `"${value}": ${what} name no single ICCID, so per-iccid means nothing here: use per-partner, e.g. "${endpoint === 'all' ? 50 : 3}/60s per-partner"`,
      });
      return z.NEVER;
    }
    return limits;
  });

/** `AUTH_API_KEYS` entry name: the stable identity of a partner server (see parseApiKeys). */
const API_KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const MIN_API_KEY_LENGTH = 24;

/**
 * `AUTH_API_KEYS` = `name:key,name:key`. The name, not the key, is the caller's identity (principal `partner:<name>`):
 * idempotency keys are scoped by it and the order reference written upstream is derived from it, so a key can be
 * rotated under the same name without losing either, while renaming an entry starts a new scope. Hence: name required
 * and unique, key ≥ 24 characters and unique. Problems name the entry by position (and name), never echo a key.
 */
function parseApiKeys(
  value: string,
  ctx: { addIssue(issue: { code: 'custom'; message: string }): void },
): { name: string; key: string }[] {
  const keys: { name: string; key: string }[] = [];
  const names = new Set<string>();
  const secrets = new Set<string>();
  value.split(',').forEach((raw, index) => {
    const entry = raw.trim();
    const where = `entry ${index + 1}`;
    if (entry === '') {
      ctx.addIssue({ code: 'custom', message: `${where} is empty (expected name:key,name:key)` });
      return;
    }
    const colon = entry.indexOf(':');
    if (colon < 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${where} has no "name:" prefix (expected name:key; the name identifies the caller)`,
      });
      return;
    }
    const name = entry.slice(0, colon).trim();
    const key = entry.slice(colon + 1).trim();
    const problems: string[] = [];
    if (!API_KEY_NAME.test(name)) problems.push('its name must be 1–64 characters of A–Z a–z 0–9 . _ -');
    else if (names.has(name)) problems.push(`its name "${name}" is used by an earlier entry`);
    if (key.length < MIN_API_KEY_LENGTH) problems.push(`its key must be at least ${MIN_API_KEY_LENGTH} characters`);
    else if (secrets.has(key)) problems.push('its key is used by an earlier entry');
    names.add(name);
    secrets.add(key);
    if (problems.length > 0) {
      const label = API_KEY_NAME.test(name) ? `${where} ("${name}")` : where;
      ctx.addIssue({ code: 'custom', message: `${label}: ${problems.join('; ')}` });
      return;
    }
    keys.push({ name, key });
  });
  return keys;
}

// --- tracing: the standard OTEL_* variables (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/) ---
const tracingEnv = {
  OTEL_SDK_DISABLED: bool.default(false),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).default('otlp'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.literal('http/json', 'only http/json is supported (OTLP over HTTP, JSON)').optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z
    .literal('http/json', 'only http/json is supported (OTLP over HTTP, JSON)')
    .optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('esim-gateway'),
  OTEL_TRACES_SAMPLER: z
    .enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ])
    .default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
};

export interface TracingConfig {
  /** On only when an OTLP endpoint is configured and neither OTEL_SDK_DISABLED nor OTEL_TRACES_EXPORTER=none says otherwise. */
  enabled: boolean;
  /** The traces URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  endpoint: string | undefined;
  /** Sent to the collector (e.g. its auth); never logged. */
  headers: Record<string, string>;
  serviceName: string;
  sampler:
    | 'always_on'
    | 'always_off'
    | 'traceidratio'
    | 'parentbased_always_on'
    | 'parentbased_always_off'
    | 'parentbased_traceidratio';
  samplerRatio: number;
}

/** `k=v,k2=v2` (values percent-decoded), as the OTLP exporter spec writes headers. */
function otlpHeaders(...lists: (string | undefined)[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const list of lists) {
    for (const pair of list?.split(',') ?? []) {
      const at = pair.indexOf('=');
      if (at > 0) headers[pair.slice(0, at).trim().toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
    }
  }
  return headers;
}

function tracingConfig(e: z.output<z.ZodObject<typeof tracingEnv>>): TracingConfig {
  const endpoint =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (e.OTEL_EXPORTER_OTLP_ENDPOINT ? `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined);
  return {
    enabled: endpoint !== undefined && !e.OTEL_SDK_DISABLED && e.OTEL_TRACES_EXPORTER === 'otlp',
    endpoint,
    headers: otlpHeaders(e.OTEL_EXPORTER_OTLP_HEADERS, e.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    serviceName: e.OTEL_SERVICE_NAME,
    sampler: e.OTEL_TRACES_SAMPLER,
    samplerRatio: e.OTEL_TRACES_SAMPLER_ARG,
  };
}
// --- end tracing ---

const envSchema = z.object({
  PORT: int(0, 65535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  GRAPHIQL: bool.optional(),
  INTROSPECTION: bool.optional(),
  METRICS: bool.default(true),
  METRICS_PORT: int(0, 65535).default(9464),
  METRICS_HOST: z.string().min(1).optional(),
  CORS_ORIGINS: corsOrigins.optional(),
  READY_CHECK_INTERVAL_SECONDS: int(1, 3_600).default(10),
  GRAPHQL_JIT: bool.default(true),
  RESPONSE_CACHE: bool.default(true),
  RESPONSE_CACHE_MAX_BYTES: int(0, 10_000_000_000).default(64 * 1024 * 1024),
  RESPONSE_CACHE_MAX_TTL_SECONDS: int(1, 86_400).default(60),
  MAX_REQUEST_BYTES: int(1_024, 10_000_000).default(102_400),
  MAX_QUERY_DEPTH: int(2, 100).default(10),
  MAX_QUERY_ALIASES: int(0, 1_000).default(30),
  MAX_QUERY_TOKENS: int(100, 100_000).default(3_000),
  MAX_QUERY_DIRECTIVES: int(0, 1_000).default(20),
  MAX_QUERY_COST: int(100, 1_000_000).default(20_000),
  MAX_BATCH_OPERATIONS: int(1, 100).default(5),

  AUTH_API_KEYS: z.string().transform(parseApiKeys).optional(),
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters (HS256)').optional(),
  AUTH_JWKS_URL: secureUrl.optional(),
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
  AUTH_ICCIDS_CLAIM: z.string().min(1).default('iccids'),
  AUTH_JWT_MAX_AGE_SECONDS: int(60, 30 * 86_400).default(86_400),

  UPSTREAM_URL: secureUrl.optional(),
  UPSTREAM_FLAVOR: z.enum(FLAVOURS).default('pressone'),
  UPSTREAM_CLIENT_ID: z.string().min(1).optional(),
  UPSTREAM_CLIENT_SECRET: z.string().min(1).optional(),
  UPSTREAM_CONNECTIONS: int(1, 1024).default(16),
  UPSTREAM_CONNECT_TIMEOUT_MS: int(1, 600_000).default(5_000),
  UPSTREAM_HEADERS_TIMEOUT_MS: int(1, 600_000).default(10_000),
  UPSTREAM_BODY_TIMEOUT_MS: int(1, 600_000).default(10_000),
  UPSTREAM_MAX_RESPONSE_BYTES: int(1_024, 1_073_741_824).default(4 * 1024 * 1024),
  /** Unset: connect + headers + body timeouts + 1 s (defaultCallDeadlineMs in src/upstream/transport.ts). */
  UPSTREAM_CALL_DEADLINE_MS: int(1, 1_800_000).optional(),
  MAX_UPSTREAM_CALLS_PER_REQUEST: int(1, 100_000).default(500),
  UPSTREAM_GET_RETRIES: int(0, 2).default(2),
  UPSTREAM_RETRY_BUDGET_RATIO: z.coerce.number().min(0).max(1).default(0.2),
  UPSTREAM_TOKEN_REFRESH_SECONDS: int(60, 86_400).default(86_400),
  UPSTREAM_BREAKER_CONSECUTIVE_FAILURES: int(1, 1_000).default(5),
  UPSTREAM_BREAKER_FAILURE_RATE: z.coerce.number().gt(0).max(1).default(0.5),
  UPSTREAM_BREAKER_MIN_CALLS: int(1, 100_000).default(10),
  UPSTREAM_BREAKER_WINDOW_SECONDS: int(1, 3_600).default(60),
  UPSTREAM_BREAKER_COOL_DOWN_SECONDS: int(1, 3_600).default(30),
  // Legacy per-ICCID limits (LEGACY_LIMIT_VARIABLES): no default here, so "set" can be told from "unset".
  UPSTREAM_USAGE_LIMIT_PER_MINUTE: int(1, 100_000).optional(),
  UPSTREAM_HISTORY_INTERVAL_SECONDS: int(0, 86_400).optional(),
  UPSTREAM_DETAILS_LIMIT_PER_MINUTE: int(1, 100_000).optional(),
  UPSTREAM_LIMIT_ALL: limitSpec('all').optional(),
  UPSTREAM_QUEUE_WAIT_MS: int(0, 60_000).default(1_500),
  UPSTREAM_DEFER_WAIT_MS: int(0, 300_000).default(20_000),
  UPSTREAM_LIMIT_MARGIN_MS: int(0, 60_000).default(100),

  CACHE_MAX_SIMS: int(1, 10_000_000).default(100_000),
  CACHE_DETAILS_TTL_SECONDS: int(0, 604_800).default(3_600),
  CACHE_USAGE_TTL_SECONDS: int(0, 86_400).default(300),
  CACHE_TOPUPS_TTL_SECONDS: int(0, 86_400).default(60),
  CACHE_HISTORY_TTL_SECONDS: int(0, 86_400).default(900),
  CACHE_BALANCE_TTL_SECONDS: int(0, 86_400).default(30),
  CACHE_NEGATIVE_TTL_SECONDS: int(0, 86_400).default(60),
  CACHE_STALE_WHILE_REVALIDATE_SECONDS: int(0, 86_400).default(60),
  CACHE_MAX_STALE_SECONDS: int(0, 7 * 86_400).default(86_400),

  MAX_SIMS_PER_QUERY: int(1, 1_000).default(100),
  MAX_SIM_LIST_PAGE: int(1, 1_000).default(100),
  IDEMPOTENCY_TTL_HOURS: int(24, 24 * 30).default(24),
  IDEMPOTENCY_MAX_KEYS: int(1, 10_000_000).default(100_000),
  PURCHASE_RECONCILE_GRACE_SECONDS: int(0, 86_400).default(120),
  // Fleet (REDIS_URL): how long a purchase waits for another replica's run of its key; the claim lease (real time).
  PURCHASE_WAIT_FOR_PEER_MS: int(0, 60_000).default(3_000),
  PURCHASE_CLAIM_LEASE_MS: int(100, 600_000).default(10_000),

  SANDBOX_SEED: int(0, 2 ** 31 - 1).default(42),
  SANDBOX_SIM_COUNT: int(1, 1_000_000).default(50),

  // Shared state for a fleet of replicas (README "Running several replicas"); unset = in-process, one replica only.
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[\w.:-]{1,64}$/, 'must be 1–64 characters of A–Z a–z 0–9 _ . : -')
    .default('esim-gw:'),
  REDIS_COMMAND_TIMEOUT_MS: int(10, 10_000).default(250),
  REDIS_FALLBACK_BUDGET_SHARE: z.coerce.number().gt(0).max(1).default(0.25),

  // Trusted (persisted) documents (README "For frontend teams"): manifests of id → document, checked at load.
  PERSISTED_DOCUMENTS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .optional(),
  PERSISTED_DOCUMENTS_ONLY: bool.default(false),
  PERSISTED_DOCUMENTS_ALLOW_ARBITRARY_FOR_PARTNERS: bool.default(false),

  // Live alerts (README "Live alerts"): the webhook receiver and the subscription limits.
  WEBHOOK_PATH: z
    .string()
    .regex(/^\/[\w./-]{0,200}$/, 'must be a path starting with "/"')
    .refine((p) => p !== '/graphql' && !p.startsWith('/graphql/'), 'must not be under /graphql')
    .default('/webhooks/airalo'),
  WEBHOOK_MAX_BYTES: int(1_024, 1_048_576).default(65_536),
  WEBHOOK_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  SUBSCRIPTIONS_MAX_PER_PRINCIPAL: int(1, 100_000).default(50),
  SUBSCRIPTIONS_MAX: int(1, 1_000_000).default(20_000),
  SUBSCRIPTION_IDLE_TIMEOUT_SECONDS: int(10, 86_400).default(3_600),
  ...Object.fromEntries(
    UPSTREAM_ENDPOINTS.map((e) => [pathOverrideVariable(e), z.string().regex(/^\//, 'must start with "/"').optional()]),
  ),
  ...Object.fromEntries(UPSTREAM_ENDPOINTS.map((e) => [limitVariable(e), limitSpec(e).optional()])),
  ...tracingEnv,
});

/** The environment as read: variable name → non-empty string. */
type RawEnv = Readonly<Record<string, string>>;

/** One configuration problem: the variable it is about, and what is wrong. */
interface Problem {
  variable: string;
  message: string;
}

const isTrue = (v: string | undefined) => v === 'true' || v === '1' || v === 'yes';

// ───── Cross-field rules ─────────────────────────────────────────────────────────────────────────────────────────────
/**
 * Every rule that relates several variables, in one place. They read the raw strings (set or not), so they run even
 * when some field is invalid: a bad PORT never hides missing credentials. A field's own format is checked by
 * `envSchema`, not here.
 */
function crossFieldProblems(env: RawEnv): Problem[] {
  const problems: Problem[] = [];
  if (env.UPSTREAM_URL) {
    for (const key of ['UPSTREAM_CLIENT_ID', 'UPSTREAM_CLIENT_SECRET'] as const) {
      if (!env[key]) problems.push({ variable: key, message: 'is required when UPSTREAM_URL is set' });
    }
    if (!env.AUTH_API_KEYS?.replace(/[\s,]/g, '') && !env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL) {
      problems.push({
        variable: 'AUTH_API_KEYS',
        message:
          'a real upstream needs authentication: set AUTH_API_KEYS and/or AUTH_JWT_SECRET / AUTH_JWKS_URL (no-auth is for the sandbox only)',
      });
    }
  }
  if (env.AUTH_JWKS_URL) {
    // Keys from a JWKS are usually shared by many applications of one identity provider: without iss/aud
    // checks, a token minted for any of them would be accepted here.
    for (const key of ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE'] as const) {
      if (!env[key]) problems.push({ variable: key, message: 'is required when AUTH_JWKS_URL is set' });
    }
  }
  if (isTrue(env.PERSISTED_DOCUMENTS_ONLY) && !env.PERSISTED_DOCUMENTS?.replace(/[\s,]/g, '')) {
    problems.push({
      variable: 'PERSISTED_DOCUMENTS_ONLY',
      message: 'needs PERSISTED_DOCUMENTS (manifest files or a directory): otherwise every request would be refused',
    });
  }
  if (isTrue(env.PERSISTED_DOCUMENTS_ALLOW_ARBITRARY_FOR_PARTNERS) && !isTrue(env.PERSISTED_DOCUMENTS_ONLY)) {
    problems.push({
      variable: 'PERSISTED_DOCUMENTS_ALLOW_ARBITRARY_FOR_PARTNERS',
      message: 'has an effect only with PERSISTED_DOCUMENTS_ONLY=true (every caller may send any document otherwise)',
    });
  }
  if (env.AUTH_JWT_SECRET && env.AUTH_JWKS_URL) {
    problems.push({ variable: 'AUTH_JWKS_URL', message: 'set either AUTH_JWT_SECRET or AUTH_JWKS_URL, not both' });
  }
  for (const [legacy, endpoint] of Object.entries(LEGACY_LIMIT_VARIABLES)) {
    const variable = limitVariable(endpoint);
    if (env[legacy] && env[variable]) {
      problems.push({
        variable,
        message: `set either ${variable} or ${legacy} (its older form), not both: ${variable} alone says every limit of ${endpoint}`,
      });
    }
  }
  const queueWait = Number(env.UPSTREAM_QUEUE_WAIT_MS ?? 1_500);
  const deferWait = Number(env.UPSTREAM_DEFER_WAIT_MS ?? 20_000);
  if (deferWait < queueWait) {
    problems.push({
      variable: 'UPSTREAM_DEFER_WAIT_MS',
      message: `(${deferWait}) must be at least UPSTREAM_QUEUE_WAIT_MS (${queueWait}): a deferred field's client already has the rest of its answer, so it can wait at least as long`,
    });
  }
  return problems;
}
// ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────────

export interface GatewayConfig {
  port: number;
  host: string;
  logLevel: string;
  /** `undefined` → pretty on a terminal, JSON otherwise (decided by the process entry, which knows its stdout). */
  logFormat: 'pretty' | 'json' | undefined;
  graphiql: boolean;
  introspection: boolean;
  /** Prometheus metrics, served on their own listener (never on the GraphQL port); `undefined` = off. */
  metrics: { port: number; host: string } | undefined;
  /** Origins allowed by CORS: `*` = any origin (never with credentials), `[]` = none (no CORS headers). */
  corsOrigins: '*' | string[];
  /** `/ready` re-checks the upstream at most this often; every caller gets the last result in between. */
  readyCheckIntervalSeconds: number;
  graphqlJit: boolean;
  responseCache: { enabled: boolean; maxBytes: number; maxTtlSeconds: number };
  auth: {
    apiKeys: { name: string; key: string }[];
    jwt:
      | {
          secret?: string;
          jwksUrl?: string;
          issuer?: string;
          audience?: string;
          iccidsClaim: string;
          maxAgeSeconds: number;
        }
      | undefined;
  };
  /** UPSTREAM_FLAVOR: whose defaults `upstreamLimits` starts from; the built-in sandbox is served as this flavour. */
  upstreamFlavour: Flavour;
  /**
   * The upstream's rate limits for the configured flavour (src/platform/upstream-limits.ts; README "Limits"): the
   * flavour's defaults with the operator's overrides applied. The gateway's scheduler and the sandbox read it.
   */
  upstreamLimits: UpstreamLimits;
  /** How long calls may queue for budget (README "Limits"). */
  scheduler: SchedulerConfig;
  queryLimits: {
    maxRequestBytes: number;
    maxDepth: number;
    maxAliases: number;
    maxTokens: number;
    maxDirectives: number;
    maxCost: number;
    maxBatchOperations: number;
  };
  /** `undefined` → run the built-in sandbox in-process. */
  upstream:
    | {
        url: string;
        flavour: Flavour;
        clientId: string;
        clientSecret: string;
      }
    | undefined;
  upstreamPaths: Partial<Record<UpstreamEndpoint, string>>;
  upstreamConnections: number;
  timeouts: { connectMs: number; headersMs: number; bodyMs: number };
  /** Response-body cap and overall per-call deadline (undefined → derived from `timeouts` by the client). */
  upstreamResponse: { maxBytes: number; callDeadlineMs: number | undefined };
  /** Upstream calls one GraphQL request may cause (cache misses that reach the upstream); more → QUERY_TOO_EXPENSIVE. */
  maxUpstreamCallsPerRequest: number;
  /** Extra GET attempts (≤ 2, so ≤ 3 attempts) and the share of first attempts the retry budget allows on top. */
  retries: { getRetries: number; budgetRatio: number };
  tokenRefreshSeconds: number;
  breaker: {
    consecutiveFailures: number;
    failureRateThreshold: number;
    minimumCalls: number;
    windowMs: number;
    coolDownMs: number;
  };
  cache: {
    maxSims: number;
    detailsTtlSeconds: number;
    usageTtlSeconds: number;
    topupsTtlSeconds: number;
    historyTtlSeconds: number;
    balanceTtlSeconds: number;
    negativeTtlSeconds: number;
    staleWhileRevalidateSeconds: number;
    maxStaleSeconds: number;
  };
  maxSimsPerQuery: number;
  maxSimListPage: number;
  /**
   * `waitForPeerMs`: how long a purchase whose key another replica is running polls for that run's outcome before
   * answering IDEMPOTENCY_IN_PROGRESS. `claimLeaseMs`: a claim not renewed for this long (its replica died or lost
   * Redis) may be taken over — through the order-list search, never a blind submit. Both matter only with `redis`.
   */
  idempotency: {
    ttlHours: number;
    maxKeys: number;
    reconcileGraceSeconds: number;
    waitForPeerMs: number;
    claimLeaseMs: number;
  };
  /** Derived from `timeouts` (purchaseTimings): per-phase deadlines of a purchase and the shutdown drain. */
  purchase: { searchDeadlineMs: number; submitDeadlineMs: number };
  shutdown: { drainMs: number };
  sandbox: { seed: number; simCount: number };
  tracing: TracingConfig;
  /**
   * Live alerts: where webhooks are received (and the body bound), the public URL the upstream is told to deliver to
   * (opt-in), and the subscription limits.
   */
  alerts: {
    webhookPath: string;
    webhookMaxBytes: number;
    webhookPublicUrl: string | undefined;
    subscriptions: { maxPerPrincipal: number; maxTotal: number; idleTimeoutMs: number };
  };
  /**
   * Shared state for a fleet (undefined: every store in-process, one replica only). `fallbackBudgetShare`: while Redis
   * is unreachable, each replica keeps only this share of every upstream limit locally (1/N for N replicas keeps the
   * fleet under the upstream's limits).
   */
  redis: { url: string; keyPrefix: string; commandTimeoutMs: number; fallbackBudgetShare: number } | undefined;
  /**
   * Trusted documents (undefined: none, every request sends its document). `sources`: manifest files or directories
   * of them; `only`: refuse documents sent as text; `allowArbitraryForPartners`: except for API-key callers.
   */
  persistedDocuments: { sources: string[]; only: boolean; allowArbitraryForPartners: boolean } | undefined;
}

/**
 * Time bounds of one purchase, derived from the upstream timeouts (one exchange ≤ connect + headers + body):
 * - each order-list search (all its pages and GET retries) is aborted after 2 exchanges' worth — an aborted search is
 *   inconclusive, which is safe (nothing is submitted on it; after a submit it leaves the outcome unknown);
 * - the submit (token, if one is needed, + POST) is aborted after 2 exchanges' worth — an abort after sending is
 *   ambiguous and reconciled like a timeout;
 * - worst case = search + submit + reconciling search; the shutdown drain waits that long plus a margin, so a
 *   purchase under way when SIGTERM arrives always finishes (orchestrators: termination grace period ≥ drainMs).
 */
export function purchaseTimings(timeouts: { connectMs: number; headersMs: number; bodyMs: number }) {
  const exchangeMs = timeouts.connectMs + timeouts.headersMs + timeouts.bodyMs;
  const searchMs = 2 * exchangeMs;
  const submitMs = 2 * exchangeMs;
  return { searchMs, submitMs, drainMs: searchMs + submitMs + searchMs + SHUTDOWN_MARGIN_MS };
}
/** Slack on top of the worst-case purchase for the rest of the shutdown (answers written, connections closed). */
const SHUTDOWN_MARGIN_MS = 5_000;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The flavour's DEFAULT_LIMITS, then the legacy variables (each replaces the per-ICCID limits of its endpoint and
 * keeps the others, e.g. Airalo's partner-wide usage limit), then `UPSTREAM_LIMIT_<ENDPOINT>` (replaces every limit
 * of its endpoint; `none` removes them) and `UPSTREAM_LIMIT_ALL`. A legacy variable and the new one of the same
 * endpoint never meet here: crossFieldProblems refuses that.
 */
function upstreamLimits(e: z.infer<typeof envSchema> & Record<string, unknown>): UpstreamLimits {
  const defaults = DEFAULT_LIMITS[e.UPSTREAM_FLAVOR];
  const endpoints: UpstreamLimits['endpoints'] = { ...defaults.endpoints };
  const setPerIccid = (endpoint: UpstreamEndpoint, limit: RateLimit | undefined) => {
    const others = (endpoints[endpoint] ?? []).filter((l) => l.scope !== 'per-iccid');
    const next = limit ? [limit, ...others] : others;
    if (next.length > 0) endpoints[endpoint] = next;
    else delete endpoints[endpoint];
  };
  if (e.UPSTREAM_USAGE_LIMIT_PER_MINUTE !== undefined)
    setPerIccid('usage', { limit: e.UPSTREAM_USAGE_LIMIT_PER_MINUTE, windowMs: 60_000, scope: 'per-iccid' });
  if (e.UPSTREAM_HISTORY_INTERVAL_SECONDS !== undefined) {
    // 0 meant "no interval" before: no per-ICCID limit.
    const seconds = e.UPSTREAM_HISTORY_INTERVAL_SECONDS;
    setPerIccid('packages', seconds > 0 ? { limit: 1, windowMs: seconds * 1000, scope: 'per-iccid' } : undefined);
  }
  if (e.UPSTREAM_DETAILS_LIMIT_PER_MINUTE !== undefined)
    setPerIccid('sim', { limit: e.UPSTREAM_DETAILS_LIMIT_PER_MINUTE, windowMs: 60_000, scope: 'per-iccid' });
  for (const endpoint of UPSTREAM_ENDPOINTS) {
    const value = e[limitVariable(endpoint)] as RateLimit[] | undefined;
    if (value === undefined) continue;
    if (value.length > 0) endpoints[endpoint] = value;
    else delete endpoints[endpoint];
  }
  return { endpoints, all: e.UPSTREAM_LIMIT_ALL ?? defaults.all };
}

/** Parses the whole environment; throws one ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>): GatewayConfig {
  // Empty strings mean "unset" (a common docker-compose artefact).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as RawEnv;
  // Field checks and cross-field rules both run, always: every problem is reported at once.
  const parsed = envSchema.safeParse(cleaned);
  const problems: Problem[] = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => ({ variable: i.path.join('.') || '(env)', message: i.message }))),
    ...crossFieldProblems(cleaned),
  ];
  if (!parsed.success || problems.length) throw new ConfigError(problems.map((p) => `${p.variable}: ${p.message}`));
  const e = parsed.data as z.infer<typeof envSchema> & Record<string, unknown>;
  const upstreamPaths: Partial<Record<UpstreamEndpoint, string>> = {};
  for (const endpoint of UPSTREAM_ENDPOINTS) {
    const value = e[pathOverrideVariable(endpoint)];
    if (typeof value === 'string') upstreamPaths[endpoint] = value;
  }
  const timings = purchaseTimings({
    connectMs: e.UPSTREAM_CONNECT_TIMEOUT_MS,
    headersMs: e.UPSTREAM_HEADERS_TIMEOUT_MS,
    bodyMs: e.UPSTREAM_BODY_TIMEOUT_MS,
  });
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    // Developer conveniences default on with the sandbox and off in front of a real upstream.
    graphiql: e.GRAPHIQL ?? !e.UPSTREAM_URL,
    introspection: e.INTROSPECTION ?? !e.UPSTREAM_URL,
    metrics: e.METRICS ? { port: e.METRICS_PORT, host: e.METRICS_HOST ?? e.HOST } : undefined,
    // Browsers on any origin may call the sandbox (local frontends); a real upstream allows only listed origins.
    corsOrigins: e.CORS_ORIGINS ?? (e.UPSTREAM_URL ? [] : '*'),
    readyCheckIntervalSeconds: e.READY_CHECK_INTERVAL_SECONDS,
    graphqlJit: e.GRAPHQL_JIT,
    responseCache: {
      enabled: e.RESPONSE_CACHE && e.RESPONSE_CACHE_MAX_BYTES > 0,
      maxBytes: e.RESPONSE_CACHE_MAX_BYTES,
      maxTtlSeconds: e.RESPONSE_CACHE_MAX_TTL_SECONDS,
    },
    auth: {
      apiKeys: e.AUTH_API_KEYS ?? [],
      jwt:
        e.AUTH_JWT_SECRET || e.AUTH_JWKS_URL
          ? {
              ...(e.AUTH_JWT_SECRET ? { secret: e.AUTH_JWT_SECRET } : {}),
              ...(e.AUTH_JWKS_URL ? { jwksUrl: e.AUTH_JWKS_URL } : {}),
              ...(e.AUTH_JWT_ISSUER ? { issuer: e.AUTH_JWT_ISSUER } : {}),
              ...(e.AUTH_JWT_AUDIENCE ? { audience: e.AUTH_JWT_AUDIENCE } : {}),
              iccidsClaim: e.AUTH_ICCIDS_CLAIM,
              maxAgeSeconds: e.AUTH_JWT_MAX_AGE_SECONDS,
            }
          : undefined,
    },
    queryLimits: {
      maxRequestBytes: e.MAX_REQUEST_BYTES,
      maxDepth: e.MAX_QUERY_DEPTH,
      maxAliases: e.MAX_QUERY_ALIASES,
      maxTokens: e.MAX_QUERY_TOKENS,
      maxDirectives: e.MAX_QUERY_DIRECTIVES,
      maxCost: e.MAX_QUERY_COST,
      maxBatchOperations: e.MAX_BATCH_OPERATIONS,
    },
    upstream: e.UPSTREAM_URL
      ? {
          url: e.UPSTREAM_URL,
          flavour: e.UPSTREAM_FLAVOR,
          clientId: e.UPSTREAM_CLIENT_ID!,
          clientSecret: e.UPSTREAM_CLIENT_SECRET!,
        }
      : undefined,
    upstreamPaths,
    upstreamConnections: e.UPSTREAM_CONNECTIONS,
    timeouts: {
      connectMs: e.UPSTREAM_CONNECT_TIMEOUT_MS,
      headersMs: e.UPSTREAM_HEADERS_TIMEOUT_MS,
      bodyMs: e.UPSTREAM_BODY_TIMEOUT_MS,
    },
    upstreamResponse: { maxBytes: e.UPSTREAM_MAX_RESPONSE_BYTES, callDeadlineMs: e.UPSTREAM_CALL_DEADLINE_MS },
    maxUpstreamCallsPerRequest: e.MAX_UPSTREAM_CALLS_PER_REQUEST,
    retries: { getRetries: e.UPSTREAM_GET_RETRIES, budgetRatio: e.UPSTREAM_RETRY_BUDGET_RATIO },
    tokenRefreshSeconds: e.UPSTREAM_TOKEN_REFRESH_SECONDS,
    breaker: {
      consecutiveFailures: e.UPSTREAM_BREAKER_CONSECUTIVE_FAILURES,
      failureRateThreshold: e.UPSTREAM_BREAKER_FAILURE_RATE,
      minimumCalls: e.UPSTREAM_BREAKER_MIN_CALLS,
      windowMs: e.UPSTREAM_BREAKER_WINDOW_SECONDS * 1000,
      coolDownMs: e.UPSTREAM_BREAKER_COOL_DOWN_SECONDS * 1000,
    },
    upstreamFlavour: e.UPSTREAM_FLAVOR,
    upstreamLimits: upstreamLimits(e),
    scheduler: {
      foregroundWaitMs: e.UPSTREAM_QUEUE_WAIT_MS,
      deferredWaitMs: e.UPSTREAM_DEFER_WAIT_MS,
      marginMs: e.UPSTREAM_LIMIT_MARGIN_MS,
    },
    cache: {
      maxSims: e.CACHE_MAX_SIMS,
      detailsTtlSeconds: e.CACHE_DETAILS_TTL_SECONDS,
      usageTtlSeconds: e.CACHE_USAGE_TTL_SECONDS,
      topupsTtlSeconds: e.CACHE_TOPUPS_TTL_SECONDS,
      historyTtlSeconds: e.CACHE_HISTORY_TTL_SECONDS,
      balanceTtlSeconds: e.CACHE_BALANCE_TTL_SECONDS,
      negativeTtlSeconds: e.CACHE_NEGATIVE_TTL_SECONDS,
      staleWhileRevalidateSeconds: e.CACHE_STALE_WHILE_REVALIDATE_SECONDS,
      maxStaleSeconds: e.CACHE_MAX_STALE_SECONDS,
    },
    maxSimsPerQuery: e.MAX_SIMS_PER_QUERY,
    maxSimListPage: e.MAX_SIM_LIST_PAGE,
    idempotency: {
      ttlHours: e.IDEMPOTENCY_TTL_HOURS,
      maxKeys: e.IDEMPOTENCY_MAX_KEYS,
      reconcileGraceSeconds: e.PURCHASE_RECONCILE_GRACE_SECONDS,
      waitForPeerMs: e.PURCHASE_WAIT_FOR_PEER_MS,
      claimLeaseMs: e.PURCHASE_CLAIM_LEASE_MS,
    },
    purchase: { searchDeadlineMs: timings.searchMs, submitDeadlineMs: timings.submitMs },
    shutdown: { drainMs: timings.drainMs },
    sandbox: { seed: e.SANDBOX_SEED, simCount: e.SANDBOX_SIM_COUNT },
    tracing: tracingConfig(e),
    alerts: {
      webhookPath: e.WEBHOOK_PATH,
      webhookMaxBytes: e.WEBHOOK_MAX_BYTES,
      webhookPublicUrl: e.WEBHOOK_PUBLIC_URL,
      subscriptions: {
        maxPerPrincipal: e.SUBSCRIPTIONS_MAX_PER_PRINCIPAL,
        maxTotal: e.SUBSCRIPTIONS_MAX,
        idleTimeoutMs: e.SUBSCRIPTION_IDLE_TIMEOUT_SECONDS * 1000,
      },
    },
    redis: e.REDIS_URL
      ? {
          url: e.REDIS_URL,
          keyPrefix: e.REDIS_KEY_PREFIX,
          commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
          fallbackBudgetShare: e.REDIS_FALLBACK_BUDGET_SHARE,
        }
      : undefined,
    persistedDocuments: e.PERSISTED_DOCUMENTS?.length
      ? {
          sources: e.PERSISTED_DOCUMENTS,
          only: e.PERSISTED_DOCUMENTS_ONLY,
          allowArbitraryForPartners: e.PERSISTED_DOCUMENTS_ALLOW_ARBITRARY_FOR_PARTNERS,
        }
      : undefined,
  };
}
