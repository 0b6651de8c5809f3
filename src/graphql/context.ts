/**
 * Per-request context: a fresh set of DataLoaders over the shared caches, the caller and the request's
 * abort signal. Loaders live for one request only; everything cross-request lives in the caches.
 */
import { setMaxListeners } from 'node:events';
import DataLoader from 'dataloader';
import { createGraphQLError } from 'graphql-yoga';
import type { Logger } from 'pino';
import { UNAUTHENTICATED_MESSAGE, type Authenticator, type Principal } from '../domain/auth.ts';
import { CallAllowance, type CacheRead, type GatewayCaches, type ResourceCache } from '../domain/cache/index.ts';
import type { GatewayConfig } from '../platform/config.ts';
import type { PurchaseService } from '../domain/purchase/index.ts';
import { ResponseDependencies } from './response-cache.ts';
import type { HistoryEntry, SimDetails, TopupPackage, UpstreamClient, Usage } from '../upstream/index.ts';

export interface Loaders {
  simByIccid: DataLoader<string, CacheRead<SimDetails>>;
  usageByIccid: DataLoader<string, CacheRead<Usage>>;
  topupsByIccid: DataLoader<string, CacheRead<TopupPackage[]>>;
  historyByIccid: DataLoader<string, CacheRead<HistoryEntry[]>>;
}

/** The long-lived dependencies every request shares; built once by the composition root. */
export interface GatewayServices {
  config: GatewayConfig;
  caches: GatewayCaches;
  client: UpstreamClient;
  purchases: PurchaseService;
  authenticator: Authenticator;
  logger: Logger;
}

export interface GatewayContext extends GatewayServices {
  principal: Principal;
  loaders: Loaders;
  signal: AbortSignal | undefined;
  /** Upstream calls this request may still cause (MAX_UPSTREAM_CALLS_PER_REQUEST); the loaders draw from it. */
  upstreamCalls: CallAllowance;
  /** What this request read, for the response cache (a throwaway tracker when the request is not cacheable). */
  dependencies: ResponseDependencies;
}

/** Extra context the HTTP layer passes to `yoga.fetch` for requests it may cache. */
export interface GatewayServerContext {
  dependencies?: ResponseDependencies;
}

/** No batch endpoint exists upstream, so a batch is one cache read per distinct key, concurrently. */
const MAX_BATCH = 100;

function loaderFor<V>(
  cache: ResourceCache<V>,
  signal: AbortSignal | undefined,
  dependencies: ResponseDependencies,
  allowance: CallAllowance | undefined,
): DataLoader<string, CacheRead<V>> {
  return new DataLoader<string, CacheRead<V>>(
    async (iccids) => {
      // Contract: one result per key, in key order; a failure is an Error in its slot, never a hole.
      const settled = await Promise.allSettled(iccids.map((iccid) => cache.get(iccid, signal, allowance)));
      const tracked = dependencies.tracked;
      return settled.map((r, i) => {
        if (r.status === 'fulfilled') {
          if (tracked) dependencies.note(cache.name, iccids[i]!, cache.freshUntil(r.value), r.value.stale);
          return r.value;
        }
        dependencies.refuse();
        return r.reason instanceof Error ? r.reason : new Error(String(r.reason));
      });
    },
    { name: `${cache.name}ByIccid`, maxBatchSize: MAX_BATCH },
  );
}

/** The request's loaders; every upstream call they cause is taken from `allowance` (none given: unbounded). */
export function createLoaders(
  caches: GatewayCaches,
  signal: AbortSignal | undefined,
  dependencies: ResponseDependencies,
  allowance?: CallAllowance,
): Loaders {
  return {
    simByIccid: loaderFor(caches.details, signal, dependencies, allowance),
    usageByIccid: loaderFor(caches.usage, signal, dependencies, allowance),
    topupsByIccid: loaderFor(caches.topups, signal, dependencies, allowance),
    historyByIccid: loaderFor(caches.history, signal, dependencies, allowance),
  };
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
  const dependencies = server.dependencies ?? new ResponseDependencies();
  const upstreamCalls = new CallAllowance(services.config.maxUpstreamCallsPerRequest);
  return { ...services, principal, loaders: createLoaders(services.caches, signal, dependencies, upstreamCalls), signal, upstreamCalls, dependencies };
}
