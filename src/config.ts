/**
 * Environment → one typed, validated configuration object.
 * Contract: nothing else in the code base reads `process.env`; every problem is reported at once.
 */
import { z } from 'zod';

const ENDPOINTS = ['token', 'balance', 'sims', 'sim', 'usage', 'topups', 'packages', 'submitTopup', 'orders', 'order'] as const;
export type ConfiguredEndpoint = (typeof ENDPOINTS)[number];

/** Env var name for a path override, e.g. `submitTopup` → `UPSTREAM_PATH_SUBMIT_TOPUP`. */
export function pathOverrideVariable(endpoint: ConfiguredEndpoint): string {
  return `UPSTREAM_PATH_${endpoint.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

// --- tracing: the standard OTEL_* variables (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/) ---
const tracingEnv = {
  OTEL_SDK_DISABLED: bool.default(false),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).default('otlp'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.literal('http/json', 'only http/json is supported (OTLP over HTTP, JSON)').optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.literal('http/json', 'only http/json is supported (OTLP over HTTP, JSON)').optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('esim-gateway'),
  OTEL_TRACES_SAMPLER: z
    .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
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
  sampler: 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';
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
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT ? `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined);
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

const envSchema = z
  .object({
    PORT: int(0, 65535).default(4000),
    HOST: z.string().min(1).default('127.0.0.1'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    GRAPHIQL: bool.optional(),
    INTROSPECTION: bool.optional(),
    METRICS: bool.default(true),
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

    AUTH_API_KEYS: z
      .string()
      .transform((v, ctx) => {
        const keys = v.split(',').map((pair) => pair.trim()).filter(Boolean).map((pair) => {
          const at = pair.indexOf(':');
          return { name: pair.slice(0, at), key: pair.slice(at + 1) };
        });
        for (const { name, key } of keys) {
          if (!/^[\w.-]+$/.test(name) || key.length < 24) {
            ctx.addIssue({ code: 'custom', message: 'must be a comma list of name:key pairs, each key at least 24 characters' });
          }
        }
        return keys;
      })
      .optional(),
    AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters (HS256)').optional(),
    AUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
    AUTH_JWT_ISSUER: z.string().min(1).optional(),
    AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
    AUTH_ICCIDS_CLAIM: z.string().min(1).default('iccids'),

    UPSTREAM_URL: z.url({ protocol: /^https?$/ }).optional(),
    UPSTREAM_FLAVOR: z.enum(['pressone', 'airalo']).default('pressone'),
    UPSTREAM_CLIENT_ID: z.string().min(1).optional(),
    UPSTREAM_CLIENT_SECRET: z.string().min(1).optional(),
    UPSTREAM_CONNECTIONS: int(1, 1024).default(16),
    UPSTREAM_CONNECT_TIMEOUT_MS: int(1, 600_000).default(5_000),
    UPSTREAM_HEADERS_TIMEOUT_MS: int(1, 600_000).default(10_000),
    UPSTREAM_BODY_TIMEOUT_MS: int(1, 600_000).default(10_000),
    UPSTREAM_GET_RETRIES: int(0, 2).default(2),
    UPSTREAM_RETRY_BUDGET_RATIO: z.coerce.number().min(0).max(1).default(0.2),
    UPSTREAM_TOKEN_REFRESH_SECONDS: int(60, 86_400).default(86_400),
    UPSTREAM_BREAKER_CONSECUTIVE_FAILURES: int(1, 1_000).default(5),
    UPSTREAM_BREAKER_FAILURE_RATE: z.coerce.number().gt(0).max(1).default(0.5),
    UPSTREAM_BREAKER_MIN_CALLS: int(1, 100_000).default(10),
    UPSTREAM_BREAKER_WINDOW_SECONDS: int(1, 3_600).default(60),
    UPSTREAM_BREAKER_COOL_DOWN_SECONDS: int(1, 3_600).default(30),
    UPSTREAM_USAGE_LIMIT_PER_MINUTE: int(1, 100_000).default(100),
    UPSTREAM_HISTORY_INTERVAL_SECONDS: int(0, 86_400).default(900),

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

    SANDBOX_SEED: int(0, 2 ** 31 - 1).default(42),
    SANDBOX_SIM_COUNT: int(1, 1_000_000).default(50),
    ...Object.fromEntries(ENDPOINTS.map((e) => [pathOverrideVariable(e), z.string().regex(/^\//, 'must start with "/"').optional()])),
    ...tracingEnv,
  })
  .superRefine((env, ctx) => {
    if (env.UPSTREAM_URL) {
      for (const key of ['UPSTREAM_CLIENT_ID', 'UPSTREAM_CLIENT_SECRET'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when UPSTREAM_URL is set' });
      }
      if (!env.AUTH_API_KEYS?.length && !env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL) {
        ctx.addIssue({
          code: 'custom',
          path: ['AUTH_API_KEYS'],
          message: 'a real upstream needs authentication: set AUTH_API_KEYS and/or AUTH_JWT_SECRET / AUTH_JWKS_URL (no-auth is for the sandbox only)',
        });
      }
    }
    if (env.AUTH_JWT_SECRET && env.AUTH_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_JWKS_URL'], message: 'set either AUTH_JWT_SECRET or AUTH_JWKS_URL, not both' });
    }
  });

export interface GatewayConfig {
  port: number;
  host: string;
  logLevel: string;
  graphiql: boolean;
  introspection: boolean;
  metrics: boolean;
  graphqlJit: boolean;
  responseCache: { enabled: boolean; maxBytes: number; maxTtlSeconds: number };
  auth: {
    apiKeys: { name: string; key: string }[];
    jwt: { secret?: string; jwksUrl?: string; issuer?: string; audience?: string; iccidsClaim: string } | undefined;
  };
  limits: { usagePerMinute: number; historyIntervalSeconds: number };
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
        flavour: 'pressone' | 'airalo';
        clientId: string;
        clientSecret: string;
      }
    | undefined;
  upstreamPaths: Partial<Record<ConfiguredEndpoint, string>>;
  upstreamConnections: number;
  timeouts: { connectMs: number; headersMs: number; bodyMs: number };
  /** Extra GET attempts (≤ 2, so ≤ 3 attempts) and the share of first attempts the retry budget allows on top. */
  retries: { getRetries: number; budgetRatio: number };
  tokenRefreshSeconds: number;
  breaker: { consecutiveFailures: number; failureRateThreshold: number; minimumCalls: number; windowMs: number; coolDownMs: number };
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
  idempotency: { ttlHours: number; maxKeys: number; reconcileGraceSeconds: number };
  sandbox: { seed: number; simCount: number };
  tracing: TracingConfig;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the whole environment; throws one ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>): GatewayConfig {
  // Empty strings mean "unset" (a common docker-compose artefact).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data as z.infer<typeof envSchema> & Record<string, unknown>;
  const upstreamPaths: Partial<Record<ConfiguredEndpoint, string>> = {};
  for (const endpoint of ENDPOINTS) {
    const value = e[pathOverrideVariable(endpoint)];
    if (typeof value === 'string') upstreamPaths[endpoint] = value;
  }
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    // Developer conveniences default on with the sandbox and off in front of a real upstream.
    graphiql: e.GRAPHIQL ?? !e.UPSTREAM_URL,
    introspection: e.INTROSPECTION ?? !e.UPSTREAM_URL,
    metrics: e.METRICS,
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
      ? { url: e.UPSTREAM_URL, flavour: e.UPSTREAM_FLAVOR, clientId: e.UPSTREAM_CLIENT_ID!, clientSecret: e.UPSTREAM_CLIENT_SECRET! }
      : undefined,
    upstreamPaths,
    upstreamConnections: e.UPSTREAM_CONNECTIONS,
    timeouts: { connectMs: e.UPSTREAM_CONNECT_TIMEOUT_MS, headersMs: e.UPSTREAM_HEADERS_TIMEOUT_MS, bodyMs: e.UPSTREAM_BODY_TIMEOUT_MS },
    retries: { getRetries: e.UPSTREAM_GET_RETRIES, budgetRatio: e.UPSTREAM_RETRY_BUDGET_RATIO },
    tokenRefreshSeconds: e.UPSTREAM_TOKEN_REFRESH_SECONDS,
    breaker: {
      consecutiveFailures: e.UPSTREAM_BREAKER_CONSECUTIVE_FAILURES,
      failureRateThreshold: e.UPSTREAM_BREAKER_FAILURE_RATE,
      minimumCalls: e.UPSTREAM_BREAKER_MIN_CALLS,
      windowMs: e.UPSTREAM_BREAKER_WINDOW_SECONDS * 1000,
      coolDownMs: e.UPSTREAM_BREAKER_COOL_DOWN_SECONDS * 1000,
    },
    limits: { usagePerMinute: e.UPSTREAM_USAGE_LIMIT_PER_MINUTE, historyIntervalSeconds: e.UPSTREAM_HISTORY_INTERVAL_SECONDS },
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
    },
    sandbox: { seed: e.SANDBOX_SEED, simCount: e.SANDBOX_SIM_COUNT },
    tracing: tracingConfig(e),
  };
}
