/**
 * Composition root: builds every dependency from the typed config and returns the Yoga app.
 * Never listens (tests call `yoga.fetch`); `index.ts` owns the process and the socket.
 */
import { readFileSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { createAuthenticator, UNAUTHENTICATED_MESSAGE, type Principal } from '../domain/auth.ts';
import { BALANCE_KEY, createCaches } from '../domain/cache/index.ts';
import { systemClock, type Clock } from '../platform/clock.ts';
import type { GatewayConfig } from '../platform/config.ts';
import { createContext, type GatewayContext, type GatewayServerContext, type GatewayServices } from '../graphql/context.ts';
import { createLocalGraphiQL } from './graphiql.ts';
import { useJitWithGraphqlJsErrors } from '../graphql/plugins/jit.ts';
import { createLogger } from '../platform/logger.ts';
import { createMetrics, type GatewayMetrics } from './metrics.ts';
import { PurchaseService } from '../domain/purchase/index.ts';
import { ResponseCache } from '../graphql/response-cache.ts';
import { schema } from '../graphql/schema/index.ts';
import { securityPlugins } from '../graphql/plugins/security.ts';
import { useResponseCacheGuard } from '../graphql/plugins/response-cache-guard.ts';
import { createUpstreamClient, type UpstreamClient } from '../upstream/index.ts';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { createTracing, type Tracing } from '../platform/tracing.ts';
import { useTracing } from '../graphql/plugins/tracing.ts';
import { registerResponseCacheMetrics } from './response-cache-metrics.ts';

export interface GatewayDeps {
  config: GatewayConfig;
  /** Upstream base URL incl. the flavour path and its credentials; defaults to `config.upstream`. */
  upstream?: { url: string; flavour: 'pressone' | 'airalo'; clientId: string; clientSecret: string };
  clock?: Clock;
  logger?: Logger;
  /** Test-only: receives every span synchronously; turns tracing on whatever the config says. */
  spanExporter?: SpanExporter;
}

export interface Gateway {
  yoga: YogaServerInstance<GatewayServerContext, GatewayContext>;
  services: GatewayServices;
  metrics: GatewayMetrics;
  /** Whole-response cache used by the HTTP fast path (http-handler.ts); undefined when switched off. */
  responseCache: ResponseCache | undefined;
  /** OpenTelemetry; undefined when tracing is off. */
  tracing: Tracing | undefined;
  /** Waits for in-flight purchases, then releases upstream connections. */
  close(): Promise<void>;
}

/** Loaded in GraphiQL on first visit; the README shows the same file. Works against the built-in sandbox. */
export const EXAMPLE_QUERY = readFileSync(new URL('../../examples/my-esims.graphql', import.meta.url), 'utf8');

export function createGateway(deps: GatewayDeps): Gateway {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(config.logLevel, undefined, { traceIds: config.tracing.enabled });
  const tracing = createTracing(config.tracing, deps.spanExporter ? { exporter: deps.spanExporter } : {});
  const upstream = deps.upstream ?? config.upstream;
  if (!upstream) throw new Error('createGateway needs an upstream (config.upstream or deps.upstream)');

  let metrics: GatewayMetrics | undefined;
  const client: UpstreamClient = createUpstreamClient({
    baseUrl: upstream.url,
    flavour: upstream.flavour,
    clientId: upstream.clientId,
    clientSecret: upstream.clientSecret,
    paths: config.upstreamPaths,
    connections: config.upstreamConnections,
    timeouts: config.timeouts,
    maxResponseBytes: config.upstreamResponse.maxBytes,
    ...(config.upstreamResponse.callDeadlineMs === undefined ? {} : { callDeadlineMs: config.upstreamResponse.callDeadlineMs }),
    getRetries: config.retries.getRetries,
    retryBudget: { ratio: config.retries.budgetRatio },
    tokenRefreshSeconds: config.tokenRefreshSeconds,
    circuitBreaker: config.breaker,
    onBreakerStateChange: (state) =>
      (state === 'closed' ? logger.info.bind(logger) : logger.warn.bind(logger))({ breaker: state }, `upstream circuit breaker ${state}`),
    logger,
    clock,
    onCall: (event) => metrics?.recordUpstreamCall(event),
    ...(tracing ? { tracer: tracing.tracer } : {}),
  });
  const caches = createCaches(config, client, clock);
  metrics = createMetrics(caches, () => client.breakerState());
  const purchases = new PurchaseService({
    client,
    caches,
    clock,
    logger,
    ttlMs: config.idempotency.ttlHours * 3_600_000,
    maxKeys: config.idempotency.maxKeys,
    reconcileGraceMs: config.idempotency.reconcileGraceSeconds * 1000,
    searchDeadlineMs: config.purchase.searchDeadlineMs,
    submitDeadlineMs: config.purchase.submitDeadlineMs,
  });
  const authenticator = createAuthenticator(config.auth, clock);
  const responseCache = config.responseCache.enabled
    ? new ResponseCache({ clock, maxBytes: config.responseCache.maxBytes, maxTtlMs: config.responseCache.maxTtlSeconds * 1000 })
    : undefined;
  if (responseCache) {
    // Any change to a cached resource drops the responses built from it (purchases, invalidations, refreshes).
    for (const cache of Object.values(caches)) cache.onChange((key: string) => responseCache.invalidate(cache.name, key));
    registerResponseCacheMetrics(metrics.registry, responseCache);
  }
  const services: GatewayServices = { config, caches, client, purchases, authenticator, logger };

  /** The caller of each request, authenticated in `onRequest` before anything is parsed. */
  const principals = new WeakMap<Request, Principal>();
  const graphiql = config.graphiql
    ? createLocalGraphiQL({ endpoint: '/graphql', title: 'eSIM GraphQL gateway', defaultQuery: EXAMPLE_QUERY, headers: { 'x-graphql-csrf': '1' } })
    : undefined;

  const yoga = createYoga<GatewayServerContext, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    context: ({ request, dependencies }) => createContext(services, request, dependencies ? { dependencies } : {}, principals.get(request)),
    graphiql: graphiql?.options ?? false,
    renderGraphiQL: graphiql?.render,
    landingPage: false,
    // Never the original error or its stack in a response, whatever NODE_ENV says (Yoga adds them when it is
    // `development`); the log has them.
    maskedErrors: { isDev: false },
    cors: corsPolicy(config.corsOrigins),
    batching: { limit: config.queryLimits.maxBatchOperations },
    healthCheckEndpoint: '/health',
    plugins: [
      ...(tracing ? [useTracing(tracing)] : []), // first: its request span wraps every other plugin
      ...(graphiql ? [graphiql.plugin] : []),
      ...(config.metrics ? [metrics.plugin] : []),
      useReadiness(services, clock, config.readyCheckIntervalSeconds * 1000),
      useAuthentication(services, principals),
      useParseErrorsWithoutDetails(),
      // Execution cost is per resolved field; compiled queries resolve nested lists several times faster.
      ...(config.graphqlJit ? [useJitWithGraphqlJsErrors(logger)] : []),
      useResponseCacheGuard(),
      ...securityPlugins(config),
    ],
    logging: {
      debug: (...args) => logger.debug({ args }, 'yoga'),
      info: (...args) => logger.info({ args }, 'yoga'),
      warn: (...args) => logger.warn({ args }, 'yoga'),
      error: (...args) =>
        logger.error({ args: args.map((a) => (a instanceof Error ? { name: a.name, message: a.message, stack: a.stack } : a)) }, 'yoga'),
    },
  });

  return {
    yoga,
    services,
    metrics,
    responseCache,
    tracing,
    async close() {
      await purchases.drain();
      await client.close();
      await tracing?.shutdown(); // exports the spans still buffered
    },
  };
}

/**
 * `/ready`: 200 once an upstream token can be obtained and used (balance read), else 503. Anyone may ask, so
 * asking is cheap: every caller gets the result of the last check, and a check (one balance read, itself
 * cached) runs at most once per `intervalMs`, single-flight; only the very first `/ready` waits for one.
 */
function useReadiness(services: GatewayServices, clock: Clock, intervalMs: number): Plugin {
  let last: { ready: boolean; at: number } | undefined;
  let running: Promise<boolean> | undefined;
  const check = () =>
    (running ??= services.caches.balance
      .get(BALANCE_KEY)
      .then(
        () => true,
        (error: unknown) => {
          services.logger.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'readiness check failed');
          return false;
        },
      )
      .then((ready) => {
        last = { ready, at: clock.now() };
        running = undefined;
        return ready;
      }));
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/ready') return;
      let ready: boolean;
      if (last === undefined) ready = await check();
      else {
        ready = last.ready;
        if (clock.now() - last.at >= intervalMs) void check(); // the next caller sees the fresh result
      }
      endResponse(ready ? fetchAPI.Response.json({ status: 'ready' }) : fetchAPI.Response.json({ status: 'not ready' }, { status: 503 }));
    },
  };
}

/**
 * Authenticates every GraphQL request in Yoga's first user hook, before its body is read or parsed: a caller
 * without valid credentials learns nothing about the schema (no parse or validation message) and costs no
 * parsing. Every failure gets the same 401 body; the reason is logged (never the credential).
 * Earlier hooks only answer CORS preflights, `/health`, `/ready` and the GraphiQL page (which holds no data).
 */
function useAuthentication(services: GatewayServices, principals: WeakMap<Request, Principal>): Plugin {
  const body = JSON.stringify({ errors: [{ message: UNAUTHENTICATED_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }] });
  return {
    async onRequest({ request, endResponse, fetchAPI }) {
      const principal = await services.authenticator.authenticate(request.headers);
      if ('failure' in principal) {
        services.logger.info({ reason: principal.failure, method: request.method }, 'authentication failed');
        endResponse(
          new fetchAPI.Response(body, {
            status: 401,
            headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer' },
          }),
        );
        return;
      }
      principals.set(request, principal);
    },
  };
}

/**
 * Yoga's JSON body parser puts the JSON parser's own message (which quotes the body) into the error's
 * `extensions.originalError`, masked or not, in every environment: answer with the message and code only.
 */
function useParseErrorsWithoutDetails(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (error instanceof GraphQLError && error.extensions.originalError !== undefined) {
            // Without `originalError`, Yoga would answer an `http.spec` error with 200 to `accept: application/json`;
            // a body that is not JSON is a 400 whatever the client accepts (GraphQL over HTTP).
            throw new GraphQLError(error.message, { extensions: { code: error.extensions.code, http: { status: 400 } } });
          }
          throw error;
        }
      });
    },
  };
}

/**
 * CORS: an allowed origin is reflected (with `Vary: Origin`), never with credentials (callers authenticate
 * with headers, not cookies); any other origin gets no CORS headers at all, so browsers refuse to let its
 * pages read the answer. The response cache keys on Origin, so a stored answer carries the same headers.
 */
function corsPolicy(origins: '*' | string[]) {
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (origin === null || (origins !== '*' && !origins.includes(origin))) return false as const;
    // `origin: '*'` makes Yoga reflect the request's Origin and add `Vary: Origin`; the check above allowed it.
    return { origin: '*', credentials: false };
  };
}
