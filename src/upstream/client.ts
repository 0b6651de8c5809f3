/**
 * The upstream client: one small function per endpoint — which endpoint, method, path parameters, query and body, and
 * which model normalises the answer. Everything about *how* a request is made (token, circuit breaker, retries,
 * timeouts, error conversion, logs, spans) is transport.ts; paths come from flavours.ts.
 */
import type { BreakerState } from './circuit-breaker.ts';
import { createEndpointResolver, type Flavour, type UpstreamEndpoint } from './flavours.ts';
import {
  type Balance,
  balanceResponseSchema,
  type HistoryEntry,
  historyResponseSchema,
  type NotificationSetting,
  type NotificationType,
  notificationResponseSchema,
  optOutResponseSchema,
  orderListResponseSchema,
  orderResponseSchema,
  type Page,
  type SimDetails,
  simListResponseSchema,
  simResponseSchema,
  type TopupOrder,
  type TopupPackage,
  topupsResponseSchema,
  type Usage,
  usageResponseSchema,
} from './models/index.ts';
import { createUpstreamTransport, type UpstreamTransportOptions } from './transport.ts';

export { DEFAULT_MAX_RESPONSE_BYTES, defaultCallDeadlineMs, type UpstreamCallEvent } from './transport.ts';

export interface UpstreamClientOptions extends UpstreamTransportOptions {
  /** Origin + flavour base path, e.g. 'http://127.0.0.1:4010/customer/v2' (a bare origin gets the flavour's base path). */
  baseUrl: string;
  flavour: Flavour;
  /** Overrides relative to baseUrl (or absolute URLs on the same origin); templates use '{iccid}' / '{id}'. */
  paths?: Partial<Record<UpstreamEndpoint, string>>;
}

export type { Page };

export interface UpstreamClient {
  getBalance(signal?: AbortSignal): Promise<Balance>;
  listSims(
    q: { limit: number; page: number; iccidContains?: string },
    signal?: AbortSignal,
  ): Promise<{ items: SimDetails[]; page: Page }>;
  getSim(iccid: string, signal?: AbortSignal): Promise<SimDetails>;
  getUsage(iccid: string, signal?: AbortSignal): Promise<Usage>;
  getTopups(iccid: string, signal?: AbortSignal): Promise<TopupPackage[]>;
  getPackageHistory(iccid: string, signal?: AbortSignal): Promise<HistoryEntry[]>;
  /**
   * One POST, never retried (except the 401 → fresh token → once more). Failures keep what is known about whether it
   * was sent: UpstreamUnavailableError.ambiguous, an error from the `token` endpoint (the POST was not sent), a 2xx whose
   * body is unreadable or incomplete (UpstreamBadResponseError/UpstreamNotFoundError with the 2xx status — the order was
   * probably placed), the abort reason when `signal` fires. purchase-service.ts classifySubmitFailure decides.
   */
  submitTopup(
    input: { iccid: string; packageId: string; description?: string },
    signal?: AbortSignal,
  ): Promise<TopupOrder>;
  listOrders(
    q: { iccid?: string; description?: string; limit: number; page: number },
    signal?: AbortSignal,
  ): Promise<{ items: TopupOrder[]; page: Page }>;
  getOrder(id: string, signal?: AbortSignal): Promise<TopupOrder>;
  /** Opts in to `type` deliveries at `webhookUrl` (the upstream checks it with a HEAD first); `levels` for credit limits. */
  optInNotification(
    input: { type: NotificationType; webhookUrl: string; levels?: number[] },
    signal?: AbortSignal,
  ): Promise<NotificationSetting | null>;
  optOutNotification(type: NotificationType, signal?: AbortSignal): Promise<void>;
  /** The current setting of `type`; null when not opted in. */
  getNotification(type: NotificationType, signal?: AbortSignal): Promise<NotificationSetting | null>;
  /** The circuit breaker's state; 'open' means every call fails fast with UpstreamUnavailableError. */
  breakerState(): BreakerState;
  close(): Promise<void>;
}

export type { BreakerState };

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const transport = createUpstreamTransport(
    createEndpointResolver(options.baseUrl, options.flavour, options.paths),
    options,
  );
  const { call } = transport;

  return {
    getBalance(signal) {
      return call({ endpoint: 'balance', method: 'GET' }, balanceResponseSchema, signal);
    },

    listSims(q, signal) {
      return call(
        {
          endpoint: 'sims',
          method: 'GET',
          query: { limit: q.limit, page: q.page, 'filter[iccid]': q.iccidContains || undefined },
        },
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
      return call(
        { endpoint: 'order', method: 'GET', params: { id }, query: { include: 'sims' } },
        orderResponseSchema,
        signal,
      );
    },

    optInNotification(input, signal) {
      const payload = { type: input.type, webhook_url: input.webhookUrl, levels: input.levels };
      return call(
        {
          endpoint: 'notificationOptIn',
          method: 'POST',
          body: { contentType: 'application/json', text: JSON.stringify(payload) },
        },
        notificationResponseSchema,
        signal,
      );
    },

    async optOutNotification(type, signal) {
      await call(
        {
          endpoint: 'notificationOptOut',
          method: 'POST',
          body: { contentType: 'application/json', text: JSON.stringify({ type }) },
        },
        optOutResponseSchema,
        signal,
      );
    },

    async getNotification(type, signal) {
      const setting = await call(
        { endpoint: 'notificationSettings', method: 'GET', query: { type } },
        notificationResponseSchema,
        signal,
      );
      return setting && setting.type === type ? setting : null;
    },

    breakerState: () => transport.breakerState(),

    close: () => transport.close(),
  };
}
