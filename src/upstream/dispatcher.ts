/**
 * The one dispatcher every upstream call goes through: an undici Pool (its `connections` is the concurrency cap, its
 * timeouts are the connect/headers/body timeouts) decorated by interceptors for cross-cutting policy:
 *
 *   errorConversion  (outermost)  non-2xx answers and transport failures → UpstreamError subclasses
 *   responseGuard                 an overall deadline per call (all attempts included) and a response-size cap enforced
 *                                 while streaming: the Pool's bodyTimeout is an idle timeout a trickling body never
 *                                 trips, and nothing else bounds what a 2xx body may make us buffer
 *   getRetry                      GET only: 5xx / network errors → jittered exponential backoff, ≤ 1 + getRetries attempts,
 *                                 each retry paid from the client-wide RetryBudget and admitted by the gateway's
 *                                 scheduler (`upstreamAdmitRetry`: it is one more upstream call) — 429 and every other
 *                                 4xx are final; POST is never retried
 *   Pool             (innermost)
 *
 * `compose([...])` makes the last interceptor the outermost, so the array below is innermost-first. The order matters:
 * the retry interceptor must see raw 5xx statuses, before they become errors. A test pins it. The knobs: README
 * "Configuration" (`UPSTREAM_CONNECTIONS`, `UPSTREAM_*_TIMEOUT_MS`, `UPSTREAM_CALL_DEADLINE_MS`, …).
 */
import { type Dispatcher, Pool } from 'undici';
import { unwatchAbort, watchAbort } from '../platform/abort.ts';
import type { Clock } from '../platform/clock.ts';
import { DispatchGate, GateDeadlineError } from './dispatch-gate.ts';
import { errorFromResponse, UpstreamUnavailableError } from './errors.ts';
import type { UpstreamEndpoint } from './flavours.ts';
import { RetryBudget } from './retry-budget.ts';

/** What the interceptors report back about one request, for transport.ts's log line and span. */
export interface UpstreamTrace {
  /** Number of the attempt in flight or last made (1 = the first). */
  attempts: number;
}

/**
 * Dispatch options as sent by transport.ts: undici's, plus the endpoint name used to label errors and a trace the
 * interceptors fill in (undici hands the same options object to every interceptor and to every retry).
 */
export type UpstreamDispatchOptions = Dispatcher.DispatchOptions & {
  upstreamEndpoint?: UpstreamEndpoint;
  upstreamTrace?: UpstreamTrace;
  /**
   * Asked before each GET retry is sent (after its backoff): the retry is one more upstream call, so the gateway's
   * budgets decide it too (admission.ts `admitRetry`). False: no retry, the failure before it is the answer.
   */
  upstreamAdmitRetry?: (() => boolean | Promise<boolean>) | undefined;
  /** What is left of the call deadline when the call waited for a slot first (set by `requestText`); default: all of it. */
  upstreamDeadlineMs?: number;
};

/** A GET retry the admission refused: the attempt before it (a 5xx or a network error) is the final failure. */
export const RETRY_NOT_ADMITTED = 'UPSTREAM_RETRY_NOT_ADMITTED';

export interface UpstreamDispatcherOptions {
  origin: string;
  connections: number;
  timeouts: { connectMs: number; headersMs: number; bodyMs: number };
  /** Bytes a response body may have; a larger one is refused (by Content-Length) or cut off once crossed. */
  maxResponseBytes: number;
  /** Wall time one call may take from dispatch to its last body byte, retries and their backoff included. */
  callDeadlineMs: number;
  getRetries: number;
  /** Base of the exponential backoff between GET attempts. */
  retryBaseDelayMs: number;
  /** Every GET retry draws one token from it; default: a fresh RetryBudget with its defaults. */
  retryBudget?: RetryBudget;
  clock: Clock;
  /** Test-only: replaces the Pool (e.g. a MockAgent). It is decorated with the same interceptors and not closed by us. */
  dispatcher?: Dispatcher;
}

export interface UpstreamDispatcher {
  readonly dispatcher: Dispatcher;
  /** Where calls wait for a slot before they are built and dispatched (dispatch-gate.ts); hand it to `requestText`. */
  readonly gate: DispatchGate;
  close(): Promise<void>;
}

/** Names of the interceptors in the order handed to `compose()` (innermost first). */
export const interceptorOrder = ['getRetry', 'responseGuard', 'errorConversion'] as const;

const RETRYABLE_STATUS: ReadonlySet<number> = new Set([500, 502, 503, 504]);

/** Connection failures: the request never left this process, whatever its method. */
const CONNECT_FAILURE_CODES = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
];

/**
 * Transport failures worth another GET attempt. Headers/body timeouts are deliberately absent: a slow upstream would
 * otherwise cost (1 + getRetries) × the timeout before the caller hears anything.
 */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  ...CONNECT_FAILURE_CODES,
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

/** Codes of the failures the response guard raises (see ResponseGuardError). */
export const RESPONSE_TOO_LARGE = 'UPSTREAM_RESPONSE_TOO_LARGE';
export const CALL_DEADLINE = 'UPSTREAM_CALL_DEADLINE';
/** The deadline passed while the request still waited for a connection: it was never written. */
export const CALL_DEADLINE_QUEUED = 'UPSTREAM_CALL_DEADLINE_QUEUED';

/** Failures that happen before a single byte of the request can have reached the upstream. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  ...CONNECT_FAILURE_CODES,
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  CALL_DEADLINE_QUEUED,
]);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Retries one GET on 5xx answers and transport errors, after a jittered exponential backoff, until it has made
 * 1 + maxRetries attempts. A retried attempt's 5xx body is discarded; the final answer (2xx–5xx) or error goes
 * downstream unchanged. Once an answer has been handed downstream nothing is retried (no partial-body resume).
 *
 * Written here rather than using undici's RetryHandler: that one keeps forwarding body chunks while its retry
 * decision is pending (it relies on pause(), which MockAgent ignores) and handles ranges we do not need.
 *
 * It is also the controller the downstream handler keeps across attempts (`aborted` … `resume` act on the current
 * attempt): one object per call, no closures — every call in the Pool's queue holds one.
 */
class GetRetryHandler implements Dispatcher.DispatchHandler, Dispatcher.DispatchController {
  readonly #opts: Dispatcher.DispatchOptions;
  readonly #handler: Dispatcher.DispatchHandler;
  readonly #dispatch: Dispatcher.Dispatch;
  readonly #maxRetries: number;
  readonly #baseDelayMs: number;
  readonly #budget: RetryBudget;
  #attempt = 1;
  #current: Dispatcher.DispatchController | null = null;
  #started = false;
  #responded = false;
  #discarding = false;
  #abortReason: Error | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** Waiting for the admission of a retry (after its backoff): nothing is in flight. */
  #admitting = false;
  /** What the last attempt failed with, delivered when its retry is not admitted. */
  #lastFailure: Error | null = null;

  constructor(
    opts: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
    dispatch: Dispatcher.Dispatch,
    maxRetries: number,
    baseDelayMs: number,
    budget: RetryBudget,
  ) {
    this.#opts = opts;
    this.#handler = handler;
    this.#dispatch = dispatch;
    this.#maxRetries = maxRetries;
    this.#baseDelayMs = baseDelayMs;
    this.#budget = budget;
    budget.deposit();
  }

  // ---- the controller the downstream handler sees ----

  get aborted(): boolean {
    return this.#abortReason !== null || (this.#current?.aborted ?? false);
  }

  get paused(): boolean {
    return this.#current?.paused ?? false;
  }

  get reason(): Error | null {
    return this.#abortReason ?? this.#current?.reason ?? null;
  }

  abort(reason: Error): void {
    if (this.#abortReason) return;
    this.#abortReason = reason;
    if (this.#timer || this.#admitting) {
      // Waiting between attempts (its backoff, or its admission): nothing is in flight, so the downstream hears
      // about the abort from us.
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      this.#admitting = false;
      this.#handler.onResponseError?.(this, reason);
    } else {
      this.#current?.abort(reason);
    }
  }

  pause(): void {
    this.#current?.pause();
  }

  resume(): void {
    this.#current?.resume();
  }

  // ---- the handler of each attempt ----

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#current = controller;
    if (this.#abortReason) {
      controller.abort(this.#abortReason);
      return;
    }
    if (this.#started) return;
    this.#started = true;
    this.#handler.onRequestStart?.(this, context);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    // The budget is asked last: a token is spent only on a retry that will happen.
    if (RETRYABLE_STATUS.has(statusCode) && this.#attempt <= this.#maxRetries && this.#budget.tryWithdraw()) {
      this.#discarding = true;
      this.#lastFailure = Object.assign(new Error(`HTTP ${statusCode}; its retry was not admitted`), {
        code: RETRY_NOT_ADMITTED,
      });
      return;
    }
    this.#responded = true;
    this.#handler.onResponseStart?.(this, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#discarding) this.#handler.onResponseData?.(this, chunk);
  }

  onResponseEnd(
    _controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.#discarding) this.#scheduleRetry();
    else this.#handler.onResponseEnd?.(this, trailers);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const retryable =
      !this.#responded &&
      this.#abortReason === null &&
      this.#attempt <= this.#maxRetries &&
      RETRYABLE_CODES.has(errorCode(error) ?? '') &&
      this.#budget.tryWithdraw();
    if (retryable) {
      this.#lastFailure = error;
      this.#scheduleRetry();
    } else this.#handler.onResponseError?.(this, error);
  }

  #scheduleRetry(): void {
    // Equal jitter: half the exponential step fixed, half random, so callers that failed together spread out.
    const step = this.#baseDelayMs * 2 ** (this.#attempt - 1);
    this.#attempt += 1;
    this.#discarding = false;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        const admit = (this.#opts as UpstreamDispatchOptions).upstreamAdmitRetry;
        const admitted = admit ? admit() : true;
        if (admitted === true) this.#retry();
        else if (admitted === false) this.#giveUp();
        else {
          this.#admitting = true;
          admitted.then(
            (ok) => {
              if (!this.#admitting) return; // aborted meanwhile: the downstream has been told
              this.#admitting = false;
              if (ok) this.#retry();
              else this.#giveUp();
            },
            () => {
              if (!this.#admitting) return;
              this.#admitting = false;
              this.#giveUp();
            },
          );
        }
      },
      step / 2 + Math.random() * (step / 2),
    );
  }

  #retry(): void {
    const trace = (this.#opts as UpstreamDispatchOptions).upstreamTrace;
    if (trace) trace.attempts = this.#attempt;
    try {
      this.#dispatch(this.#opts, this);
    } catch (error) {
      this.#handler.onResponseError?.(this, error as Error);
    }
  }

  /** The retry was not admitted: the previous attempt's failure is the answer (a GET: nothing ambiguous about it). */
  #giveUp(): void {
    const failure = this.#lastFailure ?? Object.assign(new Error('retry not admitted'), { code: RETRY_NOT_ADMITTED });
    this.#handler.onResponseError?.(this, failure);
  }
}

/**
 * GET-only retry on 5xx and network errors, each retry paid from `budget` (shared by every request of the client).
 * POST (and every other method) bypasses it entirely.
 */
export function getRetryInterceptor(
  maxRetries: number,
  baseDelayMs: number,
  budget: RetryBudget = new RetryBudget(),
): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) =>
    String(opts.method).toUpperCase() === 'GET' && maxRetries > 0
      ? dispatch(opts, new GetRetryHandler(opts, handler, dispatch, maxRetries, baseDelayMs, budget))
      : dispatch(opts, handler);
}

/** Raised by the response guard; `detail` (sizes, limits; never body content) becomes the UpstreamUnavailableError's. */
export class ResponseGuardError extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ResponseGuardError';
  }
}

function contentLength(headers: Record<string, string | string[] | undefined>): number | null {
  const raw = headers['content-length'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : null;
}

/**
 * Bounds one call: at most `maxBytes` of response body (a Content-Length over it is refused before a body byte is
 * read; a chunked body is aborted once it crosses it) and at most `deadlineMs` from dispatch to the end of the body,
 * whatever the Pool's idle timeouts allow. Either failure aborts the exchange, which errorConversion turns into an
 * UpstreamUnavailableError — ambiguous for a POST whose request was written (an order cut short after its 2xx was
 * probably placed), not for one still waiting for a connection.
 */
class ResponseGuardHandler implements Dispatcher.DispatchHandler {
  readonly #handler: Dispatcher.DispatchHandler;
  readonly #maxBytes: number;
  #controller: Dispatcher.DispatchController | null = null;
  #timer: NodeJS.Timeout | null;
  #received = 0;
  /** Set once downstream has been told the outcome (end or error): later events are dropped. */
  #settled = false;
  /** A failure decided before the request reached a socket: delivered already, applied when it gets there. */
  #earlyAbort: Error | null = null;

  constructor(handler: Dispatcher.DispatchHandler, maxBytes: number, deadlineMs: number) {
    this.#handler = handler;
    this.#maxBytes = maxBytes;
    this.#timer = setTimeout(expireGuard, deadlineMs, this, deadlineMs); // no closure per call
    this.#timer.unref?.();
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#controller = controller;
    if (this.#earlyAbort) {
      controller.abort(this.#earlyAbort);
      return;
    }
    this.#handler.onRequestStart?.(controller, context);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (this.#settled) return;
    const declared = contentLength(headers);
    if (declared !== null && declared > this.#maxBytes) {
      this.#fail(
        controller,
        new ResponseGuardError(
          RESPONSE_TOO_LARGE,
          `HTTP ${statusCode} with content-length ${declared} > ${this.#maxBytes} bytes, refused unread`,
        ),
      );
      return;
    }
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.#received += chunk.length;
    if (this.#received > this.#maxBytes) {
      this.#fail(
        controller,
        new ResponseGuardError(RESPONSE_TOO_LARGE, `over ${this.#maxBytes} bytes (${this.#received} read), aborted`),
      );
      return;
    }
    this.#handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(
    controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.#settle()) this.#handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#settle()) this.#handler.onResponseError?.(controller, error);
  }

  #settle(): boolean {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#settled) return false;
    this.#settled = true;
    return true;
  }

  #fail(controller: Dispatcher.DispatchController, error: ResponseGuardError): void {
    // undici answers the abort with onResponseError(error), which settles and forwards it.
    controller.abort(error);
    if (!this.#settled) this.onResponseError(controller, error);
  }

  /** The call deadline passed (the timer's callback, `expireGuard`). */
  expire(deadlineMs: number): void {
    this.#timer = null;
    if (this.#settled) return;
    const controller = this.#controller;
    if (controller) {
      this.#fail(
        controller,
        new ResponseGuardError(
          CALL_DEADLINE,
          `no complete answer within the ${deadlineMs} ms call deadline (${this.#received} body bytes read)`,
        ),
      );
      return;
    }
    // Still queued for a connection: tell the caller now, and abort the request before it is written.
    const error = new ResponseGuardError(
      CALL_DEADLINE_QUEUED,
      `not sent within the ${deadlineMs} ms call deadline (no free upstream connection)`,
    );
    this.#earlyAbort = error;
    this.#settled = true;
    this.#handler.onResponseError?.(detachedController(error), error);
  }
}

function expireGuard(guard: ResponseGuardHandler, deadlineMs: number): void {
  guard.expire(deadlineMs);
}

/** Stands in for the Pool's controller when a request fails before it got one; there is nothing left to control. */
function detachedController(reason: Error): Dispatcher.DispatchController {
  return { aborted: true, paused: false, reason, abort() {}, pause() {}, resume() {} };
}

/** The call deadline and the response-size cap; see ResponseGuardHandler. */
export function responseGuardInterceptor(
  maxBytes: number,
  deadlineMs: number,
): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) =>
    dispatch(
      opts,
      new ResponseGuardHandler(handler, maxBytes, (opts as UpstreamDispatchOptions).upstreamDeadlineMs ?? deadlineMs),
    );
}

const NO_HEADERS: Record<string, string | string[] | undefined> = Object.freeze({});

/** Upstream error bodies are small; anything bigger is truncated before parsing (and then fails to parse). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

class ErrorConversionHandler implements Dispatcher.DispatchHandler {
  readonly #handler: Dispatcher.DispatchHandler;
  readonly #endpoint: UpstreamEndpoint;
  readonly #method: string;
  readonly #clock: Clock;
  #status = 0;
  #headers: Record<string, string | string[] | undefined> = NO_HEADERS;
  /** An error answer's body (allocated only for one). */
  #chunks: Buffer[] | null = null;
  #size = 0;

  constructor(opts: UpstreamDispatchOptions, handler: Dispatcher.DispatchHandler, clock: Clock) {
    this.#handler = handler;
    this.#endpoint = opts.upstreamEndpoint ?? 'balance';
    this.#method = String(opts.method).toUpperCase();
    this.#clock = clock;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#status = 0;
    this.#chunks = null;
    this.#size = 0;
    this.#handler.onRequestStart?.(controller, context);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    this.#status = statusCode;
    if (statusCode < 400) {
      this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
      return;
    }
    this.#headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#status < 400) {
      this.#handler.onResponseData?.(controller, chunk);
      return;
    }
    if (this.#size < MAX_ERROR_BODY_BYTES) {
      this.#chunks ??= [];
      this.#chunks.push(chunk);
      this.#size += chunk.length;
    }
  }

  onResponseEnd(
    controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.#status < 400) {
      this.#handler.onResponseEnd?.(controller, trailers);
      return;
    }
    const body = Buffer.concat(this.#chunks ?? [])
      .subarray(0, MAX_ERROR_BODY_BYTES)
      .toString('utf8');
    this.#handler.onResponseError?.(
      controller,
      errorFromResponse(this.#endpoint, this.#method, this.#status, this.#headers, body, this.#clock),
    );
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    const code = errorCode(error);
    // A POST that failed after it may have left the machine is ambiguous: it might have been processed.
    const ambiguous = this.#method !== 'GET' && !(code && NOT_SENT_CODES.has(code));
    this.#handler.onResponseError?.(
      controller,
      new UpstreamUnavailableError(
        this.#endpoint,
        this.#status >= 400 ? this.#status : null,
        ambiguous,
        error instanceof ResponseGuardError ? `${error.code}: ${error.detail}` : (code ?? error.name),
        { cause: error },
      ),
    );
  }
}

/** Converts every non-2xx answer and every transport failure into an UpstreamError: transport.ts sees only 2xx answers. */
export function errorConversionInterceptor(clock: Clock): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) =>
    dispatch(opts, new ErrorConversionHandler(opts as UpstreamDispatchOptions, handler, clock));
}

/** The answer to one exchange as transport.ts needs it: a 2xx status (the interceptors turned the rest into errors) and the body. */
export interface UpstreamAnswer {
  statusCode: number;
  /** The body decoded as UTF-8 (a leading byte-order mark dropped), as undici's `body.text()` decodes it. */
  text: string;
}

const utf8 = new TextDecoder();
const EMPTY = Buffer.alloc(0);

/**
 * Collects one answer for `requestText`: its status and body chunks, decoded once at the end. No body stream, no
 * per-chunk events: what `dispatcher.request()` + `body.text()` deliver, for a fraction of their allocations (the
 * upstream path's largest cost per call after the socket itself).
 */
class TextCollector implements Dispatcher.DispatchHandler {
  readonly #resolve: (answer: UpstreamAnswer) => void;
  readonly #reject: (error: unknown) => void;
  readonly #signal: AbortSignal | null;
  /** The slot this exchange holds, given back once, when it ends either way. */
  #gate: DispatchGate | null;
  #controller: Dispatcher.DispatchController | null = null;
  #status = 0;
  /** The body: one chunk (the usual answer) or, past the first, all of them. */
  #first: Buffer | null = null;
  #chunks: Buffer[] | null = null;
  #size = 0;

  constructor(
    resolve: (answer: UpstreamAnswer) => void,
    reject: (error: unknown) => void,
    signal: AbortSignal | null,
    gate: DispatchGate | null,
  ) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
    this.#gate = gate;
    if (signal) watchAbort(signal, this); // the collector is its own watcher: no closure
  }

  /** The signal's `abort` event. */
  handleEvent(): void {
    this.#controller?.abort(this.#signal!.reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#signal?.aborted) controller.abort(this.#signal.reason);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.#status = statusCode;
    this.#first = null; // the interceptors hand over one answer; a retried attempt's never reaches us
    this.#chunks = null;
    this.#size = 0;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#first === null) this.#first = chunk;
    else {
      this.#chunks ??= [this.#first];
      this.#chunks.push(chunk);
    }
  }

  onResponseEnd(): void {
    this.#leave();
    if (this.#signal) unwatchAbort(this.#signal, this);
    const body = this.#chunks ? Buffer.concat(this.#chunks, this.#size) : (this.#first ?? EMPTY);
    deliverAfterResume(this.#resolve, { statusCode: this.#status, text: utf8.decode(body) });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#leave();
    if (this.#signal) unwatchAbort(this.#signal, this);
    this.#reject(error);
  }

  #leave(): void {
    const gate = this.#gate;
    this.#gate = null;
    gate?.leave(); // before the answer is delivered: the next call is dispatched in this turn
  }
}

/**
 * Answers are handed to their callers after undici has sent the requests that were waiting for their connections.
 * undici writes a connection's next request one event-loop turn after its answer ended (a `setImmediate`); the
 * caller's processing of the answer (parsing, caching, resolving GraphQL fields) would otherwise run first, in the
 * answer's own I/O callback — and with a full pool every answer of a turn delayed every next request by the
 * processing of all of them (a cold 50-SIM screen: one wave of 16 answers processed per 50 ms of upstream latency).
 * So the answers ended in one turn are delivered together two turns later, after undici's `setImmediate`s; an answer
 * costs two array slots, a turn two immediates.
 */
let pendingResolve: ((answer: UpstreamAnswer) => void)[] = [];
let pendingAnswer: UpstreamAnswer[] = [];
let deliveryScheduled = false;

function deliverAfterResume(resolve: (answer: UpstreamAnswer) => void, answer: UpstreamAnswer): void {
  pendingResolve.push(resolve);
  pendingAnswer.push(answer);
  if (deliveryScheduled) return;
  deliveryScheduled = true;
  setImmediate(afterResume); // queued before this turn's resumes (the answer ends before undici schedules them) …
}

function afterResume(): void {
  // … which run right after this, in the same check phase; the delivery goes to the next one.
  setImmediate(deliver, pendingResolve, pendingAnswer);
  pendingResolve = [];
  pendingAnswer = [];
  deliveryScheduled = false;
}

function deliver(resolves: ((answer: UpstreamAnswer) => void)[], answers: UpstreamAnswer[]): void {
  for (let i = 0; i < resolves.length; i++) resolves[i]!(answers[i]!);
}

/**
 * One exchange through `dispatcher` (the interceptors included), its body read as text. Rejects with what the
 * interceptors raise (an UpstreamError), or — `signal` having fired — with the error of the aborted exchange; the
 * caller checks `signal.aborted`, as it did with `dispatcher.request()`.
 */
export function requestText(
  dispatcher: Dispatcher,
  opts: Dispatcher.DispatchOptions,
  signal?: AbortSignal | null,
  gate?: DispatchGate,
): Promise<UpstreamAnswer> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const entered = gate?.enter(signal ?? null);
  if (entered === undefined) return dispatchText(dispatcher, opts, signal ?? null, gate ?? null);
  return entered.then(
    (waitedMs) => {
      if (signal?.aborted) {
        gate!.leave();
        throw signal.reason;
      }
      // The wait counts against the call deadline, as a wait in the Pool's queue did.
      const deadlineMs = (opts as UpstreamDispatchOptions).upstreamDeadlineMs ?? gate!.maxWaitMs;
      (opts as UpstreamDispatchOptions).upstreamDeadlineMs = Math.max(1, deadlineMs - waitedMs);
      return dispatchText(dispatcher, opts, signal ?? null, gate!);
    },
    (error: unknown) => {
      if (!(error instanceof GateDeadlineError)) throw error;
      // Never sent: not ambiguous, whatever the method (as CALL_DEADLINE_QUEUED from the Pool's queue).
      const endpoint = (opts as UpstreamDispatchOptions).upstreamEndpoint ?? 'balance';
      throw new UpstreamUnavailableError(endpoint, null, false, `${CALL_DEADLINE_QUEUED}: ${error.message}`, {
        cause: error,
      });
    },
  );
}

function dispatchText(
  dispatcher: Dispatcher,
  opts: Dispatcher.DispatchOptions,
  signal: AbortSignal | null,
  gate: DispatchGate | null,
): Promise<UpstreamAnswer> {
  return new Promise<UpstreamAnswer>((resolve, reject) => {
    const collector = new TextCollector(resolve, reject, signal, gate);
    try {
      dispatcher.dispatch(opts, collector);
    } catch (error) {
      collector.onResponseError(detachedController(error as Error), error as Error);
    }
  });
}

export function createUpstreamDispatcher(options: UpstreamDispatcherOptions): UpstreamDispatcher {
  const owned = options.dispatcher
    ? null
    : new Pool(options.origin, {
        connections: options.connections,
        connect: { timeout: options.timeouts.connectMs },
        headersTimeout: options.timeouts.headersMs,
        bodyTimeout: options.timeouts.bodyMs,
      });
  const base: Dispatcher = options.dispatcher ?? (owned as Pool);
  const byName = {
    getRetry: getRetryInterceptor(
      options.getRetries,
      options.retryBaseDelayMs,
      options.retryBudget ?? new RetryBudget(),
    ),
    responseGuard: responseGuardInterceptor(options.maxResponseBytes, options.callDeadlineMs),
    errorConversion: errorConversionInterceptor(options.clock),
  };
  const dispatcher = base.compose(interceptorOrder.map((name) => byName[name]));
  return {
    dispatcher,
    gate: new DispatchGate(2 * options.connections, options.callDeadlineMs),
    close: async () => {
      if (owned && !owned.closed) await owned.close();
    },
  };
}
