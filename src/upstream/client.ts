/**
 * Typed methods per upstream endpoint. Each call: token (shared, lazy) → one request through the dispatcher
 * (interceptors handle timeouts, GET retries and error conversion) → JSON parsed by body → zod schema → normalised
 * model. A 401 invalidates the token and retries the request once with a fresh one (also a POST: a 401 means the
 * upstream did not process it). Nothing here retries a POST for any other reason.
 */
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { systemClock, type Clock } from '../clock.ts';
import { createUpstreamDispatcher, type UpstreamDispatchOptions } from './dispatcher.ts';
import { UpstreamAuthError, UpstreamBadResponseError, UpstreamError, UpstreamNotFoundError, UpstreamUnavailableError } from './errors.ts';
import { createEndpointResolver, type Flavour, type UpstreamEndpoint } from './flavours.ts';
import {
  balanceResponseSchema,
  historyResponseSchema,
  isNotFoundBody,
  orderListResponseSchema,
  orderResponseSchema,
  simListResponseSchema,
  simResponseSchema,
  summariseIssues,
  tokenResponseSchema,
  topupsResponseSchema,
  usageResponseSchema,
  type Balance,
  type HistoryEntry,
  type Page,
  type SimDetails,
  type TopupOrder,
  type TopupPackage,
  type Usage,
} from './models.ts';
import { createTokenManager } from './token.ts';

export interface UpstreamCallEvent {
  endpoint: UpstreamEndpoint;
  /** HTTP status of the final answer; 0 when none arrived (network error, timeout, abort). */
  status: number;
  durationMs: number;
  iccid?: string;
}

export interface UpstreamClientOptions {
  /** Origin + flavour base path, e.g. 'http://127.0.0.1:4010/customer/v2' (a bare origin gets the flavour's base path). */
  baseUrl: string;
  flavour: Flavour;
  clientId: string;
  clientSecret: string;
  /** Overrides relative to baseUrl (or absolute URLs on the same origin); templates use '{iccid}' / '{id}'. */
  paths?: Partial<Record<UpstreamEndpoint, string>>;
  /** Max concurrent upstream connections (Pool), default 16. */
  connections?: number;
  /** Defaults 5000 / 10000 / 10000 ms. */
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  /** Extra attempts for GETs on 5xx/network errors, default 2; jittered exponential backoff (base 100 ms). Never for POST or 4xx. */
  getRetries?: number;
  /** Refresh the token after min(expires_in − 60 s, this); default 86400. */
  tokenRefreshSeconds?: number;
  clock?: Clock;
  /** Observability hook, called once per upstream request (token requests included). Never receives secrets. */
  onCall?: (e: UpstreamCallEvent) => void;
  /** Test-only: a dispatcher (e.g. undici MockAgent) used instead of the Pool; decorated with the same interceptors. */
  dispatcher?: Dispatcher;
}

export type { Page };

export interface UpstreamClient {
  getBalance(signal?: AbortSignal): Promise<Balance>;
  listSims(q: { limit: number; page: number; iccidContains?: string }, signal?: AbortSignal): Promise<{ items: SimDetails[]; page: Page }>;
  getSim(iccid: string, signal?: AbortSignal): Promise<SimDetails>;
  getUsage(iccid: string, signal?: AbortSignal): Promise<Usage>;
  getTopups(iccid: string, signal?: AbortSignal): Promise<TopupPackage[]>;
  getPackageHistory(iccid: string, signal?: AbortSignal): Promise<HistoryEntry[]>;
  submitTopup(input: { iccid: string; packageId: string; description?: string }, signal?: AbortSignal): Promise<TopupOrder>;
  listOrders(q: { iccid?: string; description?: string; limit: number; page: number }, signal?: AbortSignal): Promise<{ items: TopupOrder[]; page: Page }>;
  getOrder(id: string, signal?: AbortSignal): Promise<TopupOrder>;
  close(): Promise<void>;
}

interface CallSpec {
  endpoint: UpstreamEndpoint;
  method: 'GET' | 'POST';
  params?: { iccid?: string; id?: string };
  query?: Record<string, string | number | undefined>;
  body?: { contentType: string; text: string };
  /** Reported to onCall. */
  iccid?: string;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function describeTransportError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown error';
}

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const clock = options.clock ?? systemClock;
  const resolver = createEndpointResolver(options.baseUrl, options.flavour, options.paths);
  const upstream = createUpstreamDispatcher({
    origin: resolver.origin,
    connections: options.connections ?? 16,
    timeouts: {
      connectMs: options.timeouts?.connectMs ?? 5_000,
      headersMs: options.timeouts?.headersMs ?? 10_000,
      bodyMs: options.timeouts?.bodyMs ?? 10_000,
    },
    getRetries: Math.max(0, Math.floor(options.getRetries ?? 2)),
    retryBaseDelayMs: 100,
    clock,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const dispatcher = upstream.dispatcher;

  function report(event: UpstreamCallEvent): void {
    if (!options.onCall) return;
    try {
      options.onCall(event);
    } catch {
      // An observer must never break a call.
    }
  }

  /** One HTTP exchange. Returns the parsed JSON of a 2xx answer; everything else arrives here as an UpstreamError. */
  async function exchange(spec: CallSpec, token: string | null, signal: AbortSignal | undefined): Promise<{ status: number; json: unknown }> {
    const { endpoint, method } = spec;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (spec.body) headers['content-type'] = spec.body.contentType;
    const requestOptions: UpstreamDispatchOptions & Dispatcher.RequestOptions = {
      origin: resolver.origin,
      path: resolver.path(endpoint, spec.params, spec.query),
      method,
      headers,
      body: spec.body?.text ?? null,
      signal: signal ?? null,
      upstreamEndpoint: endpoint,
    };
    const started = performance.now();
    let status = 0;
    try {
      const response = await dispatcher.request(requestOptions);
      status = response.statusCode;
      const text = await response.body.text();
      if (status < 200 || status >= 300) throw new UpstreamBadResponseError(endpoint, status, `unexpected HTTP ${status}`);
      try {
        return { status, json: JSON.parse(text) as unknown };
      } catch {
        throw new UpstreamBadResponseError(endpoint, status, 'body is not JSON');
      }
    } catch (error) {
      if (error instanceof UpstreamError && error.status !== null) status = error.status;
      if (signal?.aborted) throw signal.reason;
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamUnavailableError(endpoint, null, method !== 'GET', describeTransportError(error), { cause: error });
    } finally {
      report({ endpoint, status, durationMs: performance.now() - started, ...(spec.iccid === undefined ? {} : { iccid: spec.iccid }) });
    }
  }

  const tokens = createTokenManager({
    clock,
    refreshSeconds: options.tokenRefreshSeconds ?? 86_400,
    async fetchToken() {
      const form = new URLSearchParams({
        client_id: options.clientId,
        client_secret: options.clientSecret,
        grant_type: 'client_credentials',
      });
      const { status, json } = await exchange(
        { endpoint: 'token', method: 'POST', body: { contentType: 'application/x-www-form-urlencoded', text: form.toString() } },
        null,
        undefined,
      );
      return parse('token', status, json, tokenResponseSchema);
    },
  });

  function parse<S extends z.ZodType>(endpoint: UpstreamEndpoint, status: number, json: unknown, schema: S): z.output<S> {
    if (isNotFoundBody(json)) throw new UpstreamNotFoundError(endpoint, status);
    const result = schema.safeParse(json);
    if (!result.success) throw new UpstreamBadResponseError(endpoint, status, summariseIssues(result.error));
    return result.data;
  }

  /** An authorised call: on a 401, one token refresh and one retry of the same request; a second 401 is final. */
  async function call<S extends z.ZodType>(spec: CallSpec, schema: S, signal: AbortSignal | undefined): Promise<z.output<S>> {
    signal?.throwIfAborted();
    let token = await abortable(tokens.get(), signal);
    let answer: { status: number; json: unknown };
    try {
      answer = await exchange(spec, token, signal);
    } catch (error) {
      if (!(error instanceof UpstreamAuthError) || error.status !== 401) throw error;
      tokens.invalidate(token);
      token = await abortable(tokens.get(), signal);
      answer = await exchange(spec, token, signal);
    }
    return parse(spec.endpoint, answer.status, answer.json, schema);
  }

  return {
    getBalance(signal) {
      return call({ endpoint: 'balance', method: 'GET' }, balanceResponseSchema, signal);
    },

    listSims(q, signal) {
      return call(
        { endpoint: 'sims', method: 'GET', query: { limit: q.limit, page: q.page, 'filter[iccid]': q.iccidContains || undefined } },
        simListResponseSchema(q),
        signal,
      );
    },

    getSim(iccid, signal) {
      return call({ endpoint: 'sim', method: 'GET', params: { iccid }, iccid }, simResponseSchema, signal);
    },

    getUsage(iccid, signal) {
      return call({ endpoint: 'usage', method: 'GET', params: { iccid }, iccid }, usageResponseSchema, signal);
    },

    getTopups(iccid, signal) {
      return call({ endpoint: 'topups', method: 'GET', params: { iccid }, iccid }, topupsResponseSchema, signal);
    },

    getPackageHistory(iccid, signal) {
      return call({ endpoint: 'packages', method: 'GET', params: { iccid }, iccid }, historyResponseSchema, signal);
    },

    async submitTopup(input, signal) {
      const payload = { package_id: input.packageId, iccid: input.iccid, description: input.description };
      const order = await call(
        {
          endpoint: 'submitTopup',
          method: 'POST',
          body: { contentType: 'application/json', text: JSON.stringify(payload) },
          iccid: input.iccid,
        },
        orderResponseSchema,
        signal,
      );
      // The submit answer does not echo the ICCID; the order is for the one we sent.
      return { ...order, iccid: order.iccid ?? input.iccid };
    },

    listOrders(q, signal) {
      return call(
        {
          endpoint: 'orders',
          method: 'GET',
          query: {
            include: 'sims',
            'filter[iccid]': q.iccid || undefined,
            'filter[description]': q.description || undefined,
            limit: q.limit,
            page: q.page,
          },
        },
        orderListResponseSchema(q),
        signal,
      );
    },

    getOrder(id, signal) {
      return call({ endpoint: 'order', method: 'GET', params: { id }, query: { include: 'sims' } }, orderResponseSchema, signal);
    },

    close() {
      return upstream.close();
    },
  };
}
