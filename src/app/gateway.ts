/**
 * Composition root: builds every dependency from the typed config and returns the Yoga app with its plugins in
 * order. Composes only: the plugins live in src/graphql/plugins/, the domain in src/domain/. Never listens (tests
 * call `yoga.fetch`); src/app/index.ts owns the process and the socket. See README.md, "Architecture".
 */
import { readFileSync } from 'node:fs';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { AlertHub, SubscriptionRegistry, UsageWatch } from '../domain/alerts/index.ts';
import { createAuthenticator, type Principal } from '../domain/auth.ts';
import { createCaches } from '../domain/cache/index.ts';
import { PurchaseService } from '../domain/purchase/index.ts';
import { UpstreamScheduler } from '../domain/scheduler/index.ts';
import {
  createContext,
  type GatewayContext,
  type GatewayServerContext,
  type GatewayServices,
} from '../graphql/context.ts';
import { useAuthentication } from '../graphql/plugins/authentication.ts';
import { incrementalDeliveryPlugins } from '../graphql/plugins/defer-stream.ts';
import { useJitWithGraphqlJsErrors } from '../graphql/plugins/jit.ts';
import { useParseErrorsWithoutDetails } from '../graphql/plugins/parse-errors.ts';
import { PersistedDocumentStore, usePersistedDocuments } from '../graphql/plugins/persisted-documents.ts';
import { useReadiness } from '../graphql/plugins/readiness.ts';
import { useResponseCacheGuard } from '../graphql/plugins/response-cache-guard.ts';
import { securityPlugins } from '../graphql/plugins/security.ts';
import { useTracing } from '../graphql/plugins/tracing.ts';
import { ResponseCache } from '../graphql/response-cache.ts';
import { schema } from '../graphql/schema/index.ts';
import { type Clock, systemClock } from '../platform/clock.ts';
import type { GatewayConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { createTracing, type Tracing } from '../platform/tracing.ts';
import { defaultCallDeadlineMs } from '../upstream/client.ts';
import { createUpstreamClient, type UpstreamClient } from '../upstream/index.ts';
import { registerAlertMetrics } from './alert-metrics.ts';
import { corsPolicy } from './cors.ts';
import { createLocalGraphiQL } from './graphiql.ts';
import { createMetrics, type GatewayMetrics } from './metrics.ts';
import { registerResponseCacheMetrics } from './response-cache-metrics.ts';
import { registerSchedulerMetrics } from './scheduler-metrics.ts';
import { createStores, type SharedStores } from './stores.ts';

export interface GatewayDeps {
  config: GatewayConfig;
  /** Upstream base URL incl. the flavour path and its credentials; defaults to `config.upstream`. */
  upstream?: NonNullable<GatewayConfig['upstream']>;
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
  /** Shared state (in-process, or Redis with `REDIS_URL`), built by src/app/stores.ts. */
  stores: SharedStores;
  /** Admits every upstream call attempt (README "How the scheduler decides"). */
  scheduler: UpstreamScheduler;
  /** Trusted documents from PERSISTED_DOCUMENTS (reloaded on SIGHUP by src/app/index.ts); undefined when unset. */
  persistedDocuments: PersistedDocumentStore | undefined;
  /** Live alerts: the webhook receiver's hub, the usage watch, and every open subscription stream. */
  alerts: { hub: AlertHub; usage: UsageWatch; subscriptions: SubscriptionRegistry };
  /**
   * Resolves once the shared state is usable (Redis connected, with `REDIS_URL`) or after `timeoutMs`: a replica
   * should not take traffic while every budget decision would fall back to its local share. True when ready.
   */
  ready(timeoutMs?: number): Promise<boolean>;
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

  const stores = createStores(config, logger, clock);
  // One admission decision per upstream attempt: the caches ask it explicitly, the transport for everything else.
  const scheduler = new UpstreamScheduler({
    limits: config.upstreamLimits,
    waits: config.scheduler,
    store: stores.budgets,
    clock,
    logger,
  });
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
    ...(config.upstreamResponse.callDeadlineMs === undefined
      ? {}
      : { callDeadlineMs: config.upstreamResponse.callDeadlineMs }),
    getRetries: config.retries.getRetries,
    retryBudget: { ratio: config.retries.budgetRatio },
    tokenRefreshSeconds: config.tokenRefreshSeconds,
    tokenStore: stores.token(upstream),
    circuitBreaker: config.breaker,
    onBreakerStateChange: (state) =>
      (state === 'closed' ? logger.info.bind(logger) : logger.warn.bind(logger))(
        { breaker: state },
        `upstream circuit breaker ${state}`,
      ),
    logger,
    clock,
    onCall: (event) => metrics?.recordUpstreamCall(event),
    admission: scheduler,
    ...(tracing ? { tracer: tracing.tracer } : {}),
  });
  const caches = createCaches(config, client, clock, scheduler, {
    l2: stores.cacheL2,
    bus: stores.invalidation,
    flavour: upstream.flavour,
    // One refresh holds a key's fleet-wide lock for at most one upstream call (its deadline) and a margin.
    lockLeaseMs: (config.upstreamResponse.callDeadlineMs ?? defaultCallDeadlineMs(config.timeouts)) + 1_000,
  });
  metrics = createMetrics(caches, () => client.breakerState(), stores.redis);
  registerSchedulerMetrics(metrics.registry, scheduler);
  const purchases = new PurchaseService({
    client,
    caches,
    clock,
    logger,
    records: stores.purchaseRecords,
    ttlMs: config.idempotency.ttlHours * 3_600_000,
    reconcileGraceMs: config.idempotency.reconcileGraceSeconds * 1000,
    waitForPeerMs: config.idempotency.waitForPeerMs,
    searchDeadlineMs: config.purchase.searchDeadlineMs,
    submitDeadlineMs: config.purchase.submitDeadlineMs,
  });
  const authenticator = createAuthenticator(config.auth, clock);
  const responseCache = config.responseCache.enabled
    ? new ResponseCache({
        clock,
        maxBytes: config.responseCache.maxBytes,
        maxTtlMs: config.responseCache.maxTtlSeconds * 1000,
      })
    : undefined;
  if (responseCache) {
    // Any change to a cached resource drops the responses built from it (purchases, invalidations, refreshes).
    for (const cache of Object.values(caches))
      cache.onChange((key: string) => responseCache.invalidate(cache.name, key));
    // Changes announced while the bus was interrupted are lost: no stored response can be trusted.
    stores.invalidation.onResync(() => responseCache.clear());
    registerResponseCacheMetrics(metrics.registry, responseCache);
  }
  const subscriptions = new SubscriptionRegistry(config.alerts.subscriptions);
  const alerts = {
    hub: new AlertHub({
      caches,
      bus: stores.alertBus,
      dedupe: stores.webhookDedupe,
      registry: subscriptions,
      clock,
      logger,
      secret: upstream.clientSecret,
    }),
    usage: new UsageWatch({ cache: caches.usage, registry: subscriptions, clock, logger }),
    subscriptions,
  };
  registerAlertMetrics(metrics.registry, alerts);
  const services: GatewayServices = { config, caches, client, purchases, authenticator, logger, alerts };

  const persisted = config.persistedDocuments; // a manifest that does not load stops the start (all problems listed)
  const persistedDocuments =
    persisted && new PersistedDocumentStore(schema, persisted.sources, { introspection: config.introspection });

  /** The caller of each request, authenticated in `onRequest` before anything is parsed. */
  const principals = new WeakMap<Request, Principal>();
  const graphiql = config.graphiql
    ? createLocalGraphiQL({
        endpoint: '/graphql',
        title: 'eSIM GraphQL gateway',
        defaultQuery: EXAMPLE_QUERY,
        headers: { 'x-graphql-csrf': '1' },
      })
    : undefined;

  const yoga = createYoga<GatewayServerContext, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    context: ({ request, dependencies, principal }) =>
      createContext(services, request, dependencies ? { dependencies } : {}, principal ?? principals.get(request)),
    graphiql: graphiql?.options ?? false,
    renderGraphiQL: graphiql?.render,
    landingPage: false,
    // Never the original error or its stack in a response, whatever NODE_ENV says (Yoga adds them when it is
    // `development`); the log has them.
    maskedErrors: { isDev: false },
    cors: corsPolicy(config.corsOrigins),
    batching: { limit: config.queryLimits.maxBatchOperations },
    // MAX_REQUEST_BYTES is enforced by Content-Length before a byte is read (useRequestSizeLimit: 411/413) and
    // node:http delivers exactly that many; Yoga's own check would pipe every body through a stream to count it again.
    maxRequestBodySize: false,
    healthCheckEndpoint: '/health',
    plugins: [
      ...(tracing ? [useTracing(tracing)] : []), // first: its request span wraps every other plugin
      ...(graphiql ? [graphiql.plugin] : []),
      ...(config.metrics ? [metrics.plugin] : []),
      useReadiness(services, clock, config.readyCheckIntervalSeconds * 1000, stores.redis),
      useAuthentication(services, principals),
      useParseErrorsWithoutDetails(),
      ...(persistedDocuments
        ? [usePersistedDocuments(persistedDocuments, { ...persisted!, principalOf: (r) => principals.get(r) })]
        : []),
      ...incrementalDeliveryPlugins(), // @defer/@stream: validation rules, Accept check; never compiled by JIT
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
        logger.error(
          { args: args.map((a) => (a instanceof Error ? { name: a.name, message: a.message, stack: a.stack } : a)) },
          'yoga',
        ),
    },
  });

  return {
    yoga,
    services,
    metrics,
    responseCache,
    tracing,
    stores,
    scheduler,
    persistedDocuments,
    alerts,
    async ready(timeoutMs = 5_000) {
      return stores.redis ? stores.redis.whenUp(timeoutMs) : true;
    },
    async close() {
      subscriptions.close(); // ends every stream: SSE clients get `complete`
      await alerts.hub.drain();
      alerts.hub.close();
      alerts.usage.close();
      await purchases.drain();
      await client.close();
      await stores.close();
      await tracing?.shutdown(); // exports the spans still buffered
    },
  };
}
