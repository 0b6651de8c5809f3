/**
 * Per-request context. Resolvers see only the caller, the config and the request's data access object
 * (`data-access.ts`): no caches, no upstream client, no dependency tracker, so every read is recorded for the
 * response cache without the resolver's help (README "HTTP endpoints and authentication").
 */
import { setMaxListeners } from 'node:events';
import { createGraphQLError } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { AlertHub, UsageWatch } from '../domain/alerts/index.ts';
import { type Authenticator, type Principal, UNAUTHENTICATED_MESSAGE } from '../domain/auth.ts';
import { CallAllowance, type GatewayCaches } from '../domain/cache/index.ts';
import type { PurchaseService } from '../domain/purchase/index.ts';
import type { GatewayConfig } from '../platform/config.ts';
import type { UpstreamClient } from '../upstream/index.ts';
import { DataAccess } from './data-access.ts';
import { ResponseDependencies } from './response-cache.ts';

/** The long-lived dependencies every request shares; built once by the composition root. Not resolver-visible. */
export interface GatewayServices {
  config: GatewayConfig;
  caches: GatewayCaches;
  client: UpstreamClient;
  purchases: PurchaseService;
  authenticator: Authenticator;
  logger: Logger;
  /** Live alerts: webhook alerts and usage updates as subscription streams. */
  alerts: { hub: AlertHub; usage: UsageWatch };
}

/** What a resolver sees. */
export interface GatewayContext {
  config: GatewayConfig;
  principal: Principal;
  /** Every read and the purchase; records what the response was built from. */
  data: DataAccess;
}

/** Extra context the HTTP layer passes to `yoga.fetch` (and to its direct execution, src/app/direct-execution.ts). */
export interface GatewayServerContext {
  /** For requests it may cache; read by the response-cache guard. */
  dependencies?: ResponseDependencies;
  /** The caller the HTTP edge authenticated for this request (never from the client): not authenticated again. */
  principal?: Principal;
}

/**
 * Builds the request's context for `authenticated`, the caller the gateway's onRequest hook verified; without
 * it the request is authenticated here (401 UNAUTHENTICATED when it cannot be).
 */
export async function createContext(
  services: GatewayServices,
  request: Request,
  server: GatewayServerContext = {},
  authenticated?: Principal,
): Promise<GatewayContext> {
  const principal = authenticated ?? (await services.authenticator.authenticate(request.headers));
  if ('failure' in principal) {
    throw createGraphQLError(UNAUTHENTICATED_MESSAGE, {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } },
    });
  }
  const signal = request.signal;
  // Every cache read this request waits on listens to its signal (and stops listening when settled).
  if (signal) setMaxListeners(0, signal);
  const data = new DataAccess({
    caches: services.caches,
    client: services.client,
    purchases: services.purchases,
    alerts: services.alerts,
    signal,
    principal: principal.id,
    allowance: new CallAllowance(services.config.maxUpstreamCallsPerRequest),
    dependencies: server.dependencies ?? new ResponseDependencies(),
  });
  return { config: services.config, principal, data };
}
