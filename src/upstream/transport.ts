/**
 * Request handling shared by every upstream call (README "Reliability and security"): the access token around a call
 * (shared, lazy; a 401 invalidates it and the same request is sent once more with a fresh one — also a POST: a 401
 * means the upstream did not process it), circuit-breaker admission, one exchange through the dispatcher (timeouts,
 * budgeted GET retries, error conversion), the JSON body through the caller's zod schema, and per exchange one log
 * line, one `onCall` event and one span. Nothing here retries a POST for any other reason. While the breaker is open
 * every call (the token request included) fails fast with a CircuitOpenError (an UpstreamUnavailableError, never
 * ambiguous). Knows no endpoint but `token`; client.ts maps the others.
 * With an `admission` (the gateway's scheduler, admission.ts) every attempt — token request, call, resend after a 401,
 * GET retry — is admitted first, and every 429 is reported to it before the caller hears of it.
 */
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { raceAbort } from '../platform/abort.ts';
import { type Clock, systemClock } from '../platform/clock.ts';
import type { TokenStore } from '../stores/token/types.ts';
import type { UpstreamAdmission, UpstreamAttempt } from './admission.ts';
import { type BreakerState, CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.ts';
import {
  createUpstreamDispatcher,
  requestText,
  type UpstreamDispatchOptions,
  type UpstreamTrace,
} from './dispatcher.ts';
import {
  CircuitOpenError,
  UpstreamAuthError,
  UpstreamBadResponseError,
  UpstreamBusinessError,
  UpstreamError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
  UpstreamValidationError,
} from './errors.ts';
import type { EndpointResolver, UpstreamEndpoint } from './flavours.ts';
import { isNotFoundBody, summariseIssues, tokenResponseSchema } from './models/index.ts';
import { RetryBudget, type RetryBudgetOptions } from './retry-budget.ts';
import { createTokenManager } from './token.ts';
import { endUpstreamSpan, startUpstreamSpan } from './tracing.ts';

export interface UpstreamCallEvent {
  endpoint: UpstreamEndpoint;
  /** HTTP status of the final answer; 0 when none arrived (network error, timeout, abort). */
  status: number;
  durationMs: number;
  iccid?: string;
}

export interface UpstreamTransportOptions {
  clientId: string;
  clientSecret: string;
  /** Max concurrent upstream connections (Pool), default 16. */
  connections?: number;
  /** Defaults 5000 / 10000 / 10000 ms. */
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  /**
   * Response-body cap in bytes, default 4 MiB: a larger Content-Length is refused unread, a longer chunked body is
   * aborted once it crosses the cap. Either way an UpstreamUnavailableError (ambiguous for a POST).
   */
  maxResponseBytes?: number;
  /**
   * Overall deadline per exchange (dispatch to last body byte, GET retries included), default `defaultCallDeadlineMs`:
   * the body timeout is an idle timeout, so a body trickling a byte at a time would never end.
   */
  callDeadlineMs?: number;
  /** Extra attempts for GETs on 5xx/network errors, default 2; jittered exponential backoff (base 100 ms). Never for POST or 4xx. */
  getRetries?: number;
  /**
   * Client-wide budget every GET retry draws from: each first attempt deposits `ratio` tokens (default 0.2) up to
   * `max` (default 10, the initial content); a retry costs 1. Retries thus add at most ~20 % load.
   */
  retryBudget?: RetryBudgetOptions;
  /**
   * Circuit breaker thresholds. Defaults: opens after 5 consecutive failures, or ≥ 50 % failures among ≥ 10 calls in a
   * 60 s window; stays open 30 s (on `clock`), then lets one probe through. Only 5xx, timeouts and network errors
   * count as failures.
   */
  circuitBreaker?: CircuitBreakerOptions;
  /** Called on every breaker transition. */
  onBreakerStateChange?: (state: BreakerState) => void;
  /**
   * One line per upstream call: debug when it succeeded (or got a 404 / 422 business answer), warn when it failed.
   * Fields: endpoint, method, status, durationMs, attempt, iccid — never the token, a header, the secret or a body.
   */
  logger?: Logger;
  /** Refresh the token after min(expires_in − 60 s, this); default 86400. */
  tokenRefreshSeconds?: number;
  /** Where the token is shared with the other replicas (src/stores/token/); default: this process only. */
  tokenStore?: TokenStore;
  clock?: Clock;
  /** Observability hook, called once per upstream request (token requests included). Never receives secrets. */
  onCall?: (e: UpstreamCallEvent) => void;
  /** Test-only: a dispatcher (e.g. undici MockAgent) used instead of the Pool; decorated with the same interceptors. */
  dispatcher?: Dispatcher;
  /** Tracing on: one client span per exchange and a W3C `traceparent` on every request (see tracing.ts). */
  tracer?: Tracer;
  /**
   * Asked before every attempt (token, call, resend after a 401, GET retry) and told of every 429: the gateway's
   * scheduler (admission.ts). Absent: nothing limits the calls.
   */
  admission?: UpstreamAdmission;
}

/** One request as an endpoint function describes it; the resolver turns endpoint + params + query into the path. */
export interface CallSpec {
  endpoint: UpstreamEndpoint;
  method: 'GET' | 'POST';
  params?: { iccid?: string; id?: string };
  query?: Record<string, string | number | undefined>;
  body?: { contentType: string; text: string };
  /** Reported to onCall. */
  iccid?: string;
}

export interface UpstreamTransport {
  /** An authorised call: on a 401, one token refresh and one retry of the same request; a second 401 is final. */
  call<S extends z.ZodType>(spec: CallSpec, schema: S, signal: AbortSignal | undefined): Promise<z.output<S>>;
  breakerState(): BreakerState;
  close(): Promise<void>;
}

function describeTransportError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown error';
}

/** Far above any documented answer (a 100-SIM list page is ~100 KB), far below what would hurt the heap. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/**
 * Connect + headers + body timeouts + 1 s (26 s with the defaults): a slow but steady call is never cut short before
 * those finer timeouts (whose undici timers tick every ~0.5 s) have had their say.
 */
export function defaultCallDeadlineMs(timeouts: { connectMs: number; headersMs: number; bodyMs: number }): number {
  return timeouts.connectMs + timeouts.headersMs + timeouts.bodyMs + 1_000;
}

export function createUpstreamTransport(
  resolver: EndpointResolver,
  options: UpstreamTransportOptions,
): UpstreamTransport {
  const clock = options.clock ?? systemClock;
  const logger = options.logger?.child({ component: 'upstream' });
  const timeouts = {
    connectMs: options.timeouts?.connectMs ?? 5_000,
    headersMs: options.timeouts?.headersMs ?? 10_000,
    bodyMs: options.timeouts?.bodyMs ?? 10_000,
  };
  const callDeadlineMs = options.callDeadlineMs ?? defaultCallDeadlineMs(timeouts);
  const upstream = createUpstreamDispatcher({
    origin: resolver.origin,
    connections: options.connections ?? 16,
    timeouts,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    callDeadlineMs,
    getRetries: Math.max(0, Math.floor(options.getRetries ?? 2)),
    retryBaseDelayMs: 100,
    retryBudget: new RetryBudget(options.retryBudget),
    clock,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const dispatcher = upstream.dispatcher;
  const breaker = new CircuitBreaker(clock, options.circuitBreaker, (state) => {
    if (state === 'open') logger?.warn({ breaker: state }, 'upstream circuit breaker opened: calls fail fast');
    else logger?.info({ breaker: state }, `upstream circuit breaker ${state}`);
    options.onBreakerStateChange?.(state);
  });

  function report(event: UpstreamCallEvent): void {
    if (!options.onCall) return;
    try {
      options.onCall(event);
    } catch {
      // An observer must never break a call.
    }
  }

  /**
   * The log line of one exchange. Only fields composed here: no header, no body, and error messages that by the
   * contract of errors.ts carry neither token nor secret nor upstream text.
   */
  function logCall(
    spec: CallSpec,
    status: number,
    durationMs: number,
    attempt: number,
    outcome: 'ok' | 'aborted' | UpstreamError,
  ): void {
    // The common case (a good answer, debug off) builds no log record at all.
    if (!logger || (outcome === 'ok' && !logger.isLevelEnabled('debug'))) return;
    const fields = {
      endpoint: spec.endpoint,
      method: spec.method,
      status,
      durationMs: Math.round(durationMs),
      attempt,
      ...(spec.iccid === undefined ? {} : { iccid: spec.iccid }),
    };
    if (outcome === 'ok') logger.debug(fields, 'upstream call');
    else if (outcome === 'aborted')
      logger.debug({ ...fields, aborted: true }, 'upstream call abandoned by its callers');
    else if (
      spec.endpoint !== 'token' &&
      (outcome instanceof UpstreamNotFoundError ||
        outcome instanceof UpstreamBusinessError ||
        outcome instanceof UpstreamValidationError)
    ) {
      // 404 and 422 (business code or field validation): answers about one SIM, package or order from a healthy
      // upstream, not failures — debug, never warn. The token endpoint refusing our credentials stays a warning.
      logger.debug({ ...fields, error: outcome.name, reason: outcome.message }, 'upstream call refused');
    } else if (outcome instanceof UpstreamBadResponseError) {
      // A 2xx the gateway cannot use (not JSON, wrong shape, a required value missing): the upstream broke its contract.
      logger.warn(
        { ...fields, error: outcome.name, reason: outcome.message, contractViolation: true },
        'upstream answer violates its contract',
      );
    } else logger.warn({ ...fields, error: outcome.name, reason: outcome.message }, 'upstream call failed');
  }

  function circuitOpen(spec: CallSpec): CircuitOpenError {
    logger?.debug(
      { endpoint: spec.endpoint, method: spec.method, ...(spec.iccid === undefined ? {} : { iccid: spec.iccid }) },
      'upstream call refused: circuit open',
    );
    return new CircuitOpenError(spec.endpoint);
  }

  function parse<S extends z.ZodType>(
    endpoint: UpstreamEndpoint,
    status: number,
    json: unknown,
    schema: S,
  ): z.output<S> {
    if (isNotFoundBody(json)) throw new UpstreamNotFoundError(endpoint, status);
    const result = schema.safeParse(json);
    if (!result.success) throw new UpstreamBadResponseError(endpoint, status, summariseIssues(result.error));
    return result.data;
  }

  /**
   * One HTTP exchange, admitted by the circuit breaker and reported to it, to `onCall` and to the log. Returns the
   * parsed model of a 2xx answer; everything else arrives here, and leaves, as an UpstreamError.
   */
  async function exchange<S extends z.ZodType>(
    spec: CallSpec,
    token: string | null,
    signal: AbortSignal | undefined,
    schema: S,
  ): Promise<z.output<S>> {
    const { endpoint, method } = spec;
    const { admission } = options;
    const attempt: UpstreamAttempt = { endpoint, iccid: spec.iccid };
    if (admission) {
      // Not while the breaker is open (no budget spent on a call that would fail fast); before its permit, so a
      // half-open probe is never held while this attempt waits for budget.
      if (breaker.state() === 'open') throw circuitOpen(spec);
      const admitted = admission.admit(attempt, signal);
      if (admitted) await admitted;
    }
    const permit = breaker.tryAcquire();
    if (!permit) throw circuitOpen(spec);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (spec.body) headers['content-type'] = spec.body.contentType;
    const span = startUpstreamSpan(options.tracer, spec, breaker.state(), headers); // tracing hook
    const trace: UpstreamTrace = { attempts: 1 };
    const requestOptions: UpstreamDispatchOptions = {
      origin: resolver.origin,
      path: resolver.path(endpoint, spec.params, spec.query),
      method,
      headers,
      body: spec.body?.text ?? null,
      upstreamEndpoint: endpoint,
      upstreamTrace: trace,
      upstreamAdmitRetry: admission ? () => admission.admitRetry(attempt) : undefined,
    };
    const started = performance.now();
    let status = 0;
    let outcome: 'ok' | 'aborted' | UpstreamError = 'ok';
    try {
      const response = await requestText(dispatcher, requestOptions, signal, upstream.gate);
      status = response.statusCode;
      const text = response.text;
      if (status < 200 || status >= 300)
        throw new UpstreamBadResponseError(endpoint, status, `unexpected HTTP ${status}`);
      let json: unknown;
      try {
        // 204 No Content (e.g. notification opt-out) has no body to parse.
        json = status === 204 && text === '' ? null : (JSON.parse(text) as unknown);
      } catch {
        throw new UpstreamBadResponseError(endpoint, status, 'body is not JSON');
      }
      return parse(endpoint, status, json, schema);
    } catch (error) {
      if (error instanceof UpstreamError && error.status !== null) status = error.status;
      if (signal?.aborted) {
        outcome = 'aborted';
        throw signal.reason;
      }
      outcome =
        error instanceof UpstreamError
          ? error
          : new UpstreamUnavailableError(endpoint, null, method !== 'GET', describeTransportError(error), {
              cause: error,
            });
      // Recorded before anyone learns of the 429: every later attempt honours it.
      if (admission && outcome instanceof UpstreamRateLimitedError) await admission.rateLimited(attempt, outcome);
      throw outcome;
    } finally {
      // Only a sick upstream trips the breaker; 4xx answers and unparsable 2xx bodies come from one that is up.
      if (outcome === 'aborted') permit.release();
      else if (outcome instanceof UpstreamUnavailableError) permit.failure();
      else permit.success();
      const durationMs = performance.now() - started;
      if (options.onCall) report({ endpoint, status, durationMs, iccid: spec.iccid });
      logCall(spec, status, durationMs, trace.attempts, outcome);
      endUpstreamSpan(span, status, trace.attempts, outcome); // tracing hook
    }
  }

  const tokens = createTokenManager({
    clock,
    refreshSeconds: options.tokenRefreshSeconds ?? 86_400,
    // A refresh claim outlives the token request it covers.
    refreshLeaseMs: callDeadlineMs + 1_000,
    ...(options.tokenStore ? { store: options.tokenStore } : {}),
    fetchToken() {
      const form = new URLSearchParams({
        client_id: options.clientId,
        client_secret: options.clientSecret,
        grant_type: 'client_credentials',
      });
      return exchange(
        {
          endpoint: 'token',
          method: 'POST',
          body: { contentType: 'application/x-www-form-urlencoded', text: form.toString() },
        },
        null,
        undefined,
        tokenResponseSchema,
      );
    },
  });

  return {
    async call(spec, schema, signal) {
      signal?.throwIfAborted();
      // Fail fast before the token dance; a half-open breaker lets the first exchange (token or call) probe.
      if (breaker.state() === 'open') throw circuitOpen(spec);
      let token = await raceAbort(tokens.get(), signal);
      try {
        return await exchange(spec, token, signal, schema);
      } catch (error) {
        if (!(error instanceof UpstreamAuthError) || error.status !== 401) throw error;
        tokens.invalidate(token);
        token = await raceAbort(tokens.get(), signal);
        return exchange(spec, token, signal, schema);
      }
    },

    breakerState() {
      return breaker.state();
    },

    close() {
      return upstream.close();
    },
  };
}
