/**
 * The only failures the rest of the gateway sees from the upstream. Resolvers switch on the class, never on a status
 * code. Contract for every message: no access token, no client secret, no raw upstream body (upstream text may echo
 * customer data) — only what this module composed itself.
 */
import type { Clock } from '../platform/clock.ts';
import type { UpstreamEndpoint } from './flavours.ts';

export abstract class UpstreamError extends Error {
  readonly endpoint: UpstreamEndpoint;
  /** HTTP status of the upstream answer; null when no answer arrived (network error, timeout). */
  readonly status: number | null;

  constructor(endpoint: UpstreamEndpoint, status: number | null, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.endpoint = endpoint;
    this.status = status;
  }
}

/** 404, or the 200-with-not-found-body quirk of the top-up list / package history. */
export class UpstreamNotFoundError extends UpstreamError {
  constructor(endpoint: UpstreamEndpoint, status: number) {
    super(endpoint, status, `upstream ${endpoint}: resource not found (${status})`);
  }
}

export class UpstreamRateLimitedError extends UpstreamError {
  /** Seconds to wait before calling this endpoint again; never capped (package history asks for up to 15 minutes). */
  readonly retryAfterSeconds: number;
  /** The answer's `X-RateLimit-Limit` (which limit refused: an ICCID's or the partner's); null when absent. */
  readonly limit: number | null;

  constructor(endpoint: UpstreamEndpoint, status: number, retryAfterSeconds: number, limit: number | null = null) {
    super(endpoint, status, `upstream ${endpoint}: rate limited, retry after ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
    this.limit = limit;
  }
}

/**
 * The gateway itself did not send an upstream call attempt: its scheduler refused it (a budget spent for longer than
 * the caller may wait, a 429 block). Nothing reached the upstream, so a POST refused this way bought nothing.
 * An `UpstreamAdmission` (admission.ts) refuses with this class or a subclass; nothing here converts it.
 */
export class CallNotAdmittedError extends Error {
  constructor(
    message: string,
    /** When a call is expected to be admitted (an estimate, whole seconds, ≥ 1). */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 422 `{data: {field: message}}`: the request was rejected field by field. */
export class UpstreamValidationError extends UpstreamError {
  /** Upstream message per field. Meant for logs and mapping, not for echoing to clients verbatim. */
  readonly fields: Record<string, string>;

  constructor(endpoint: UpstreamEndpoint, status: number, fields: Record<string, string>) {
    const names = Object.keys(fields);
    super(
      endpoint,
      status,
      `upstream ${endpoint}: request rejected (${status})${names.length ? ` on ${names.join(', ')}` : ''}`,
    );
    this.fields = fields;
  }
}

/** 422 `{code: N, reason}`: a business rule refused the request (11 insufficient credit, 73 recycled, …). */
export class UpstreamBusinessError extends UpstreamError {
  readonly code: number;
  /** Upstream prose; keep it for logs, never pass it to clients (it may contain ICCIDs and balances). */
  readonly reason: string;

  constructor(endpoint: UpstreamEndpoint, status: number, code: number, reason: string) {
    super(endpoint, status, `upstream ${endpoint}: business rule ${code} refused the request`);
    this.code = code;
    this.reason = reason;
  }
}

/** 401/403 after the single token refresh and retry, or the token endpoint refusing our credentials. */
export class UpstreamAuthError extends UpstreamError {
  constructor(endpoint: UpstreamEndpoint, status: number | null, detail = 'authentication failed') {
    super(endpoint, status, `upstream ${endpoint}: ${detail}${status === null ? '' : ` (${status})`}`);
  }
}

/**
 * 5xx, network errors, timeouts. `ambiguous` is true when a non-idempotent request (POST) may have reached the
 * upstream — it was sent and then the answer was lost or was a 5xx. The caller must reconcile (search the order
 * list), never re-POST.
 */
export class UpstreamUnavailableError extends UpstreamError {
  readonly ambiguous: boolean;
  /** What failed, composed here: 'HTTP 503', an undici/errno code ('UND_ERR_HEADERS_TIMEOUT'), 'circuit open' … */
  readonly detail: string;

  constructor(
    endpoint: UpstreamEndpoint,
    status: number | null,
    ambiguous: boolean,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      endpoint,
      status,
      `upstream ${endpoint}: unavailable (${detail})${ambiguous ? '; the request may have been processed' : ''}`,
      options,
    );
    this.ambiguous = ambiguous;
    this.detail = detail;
  }
}

/** The circuit breaker refused the call: nothing was sent, so it is never ambiguous. */
export class CircuitOpenError extends UpstreamUnavailableError {
  constructor(endpoint: UpstreamEndpoint) {
    super(endpoint, null, false, 'circuit open');
  }
}

/** The body was not JSON or not the expected shape. The message summarises the problem without echoing the body. */
export class UpstreamBadResponseError extends UpstreamError {
  constructor(endpoint: UpstreamEndpoint, status: number | null, detail: string) {
    super(endpoint, status, `upstream ${endpoint}: unexpected response (${detail})`);
  }
}

type HeaderValue = string | string[] | undefined;
type Headers = Record<string, HeaderValue>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Seconds to wait after a 429: `Retry-After` as delta-seconds or HTTP-date (relative to `clock`), else
 * `X-RateLimit-Reset` (delta-seconds, or epoch seconds when it is that large), else 60. Not capped.
 */
export function retryAfterSeconds(headers: Headers, clock: Clock): number {
  const retryAfter = header(headers, 'retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter));
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - clock.now()) / 1000));
  }
  const reset = header(headers, 'x-ratelimit-reset')?.trim();
  if (reset && /^\d+$/.test(reset)) {
    const value = Number(reset);
    // Laravel sends an epoch timestamp; some proxies send a delta. Anything past 2001 is a timestamp.
    return value > 1_000_000_000 ? Math.max(0, Math.ceil(value - clock.now() / 1000)) : value;
  }
  return 60;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validationFields(body: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!isRecord(body) || !isRecord(body.data)) return fields;
  for (const [name, message] of Object.entries(body.data)) {
    if (typeof message === 'string') fields[name] = message;
    else if (Array.isArray(message)) fields[name] = message.filter((m) => typeof m === 'string').join(' ');
  }
  return fields;
}

function businessError(body: unknown): { code: number; reason: string } | null {
  if (!isRecord(body)) return null;
  const code =
    typeof body.code === 'number'
      ? body.code
      : typeof body.code === 'string' && /^\d+$/.test(body.code)
        ? Number(body.code)
        : null;
  if (code === null) return null;
  return { code, reason: typeof body.reason === 'string' ? body.reason : '' };
}

/**
 * Maps one non-2xx upstream answer to its error class. `bodyText` is parsed here and never copied into a message.
 * `method` decides whether a 5xx is ambiguous (a POST that answered 5xx may still have been processed).
 */
export function errorFromResponse(
  endpoint: UpstreamEndpoint,
  method: string,
  status: number,
  headers: Headers,
  bodyText: string,
  clock: Clock,
): UpstreamError {
  let body: unknown = null;
  try {
    body = bodyText ? JSON.parse(bodyText) : null;
  } catch {
    body = null;
  }
  if (status >= 500) return new UpstreamUnavailableError(endpoint, status, method !== 'GET', `HTTP ${status}`);
  if (status === 401 || status === 403) return new UpstreamAuthError(endpoint, status);
  if (status === 404) return new UpstreamNotFoundError(endpoint, status);
  if (status === 429) {
    const limit = header(headers, 'x-ratelimit-limit')?.trim();
    return new UpstreamRateLimitedError(
      endpoint,
      status,
      retryAfterSeconds(headers, clock),
      limit && /^\d+$/.test(limit) ? Number(limit) : null,
    );
  }
  const business = businessError(body);
  if (business) return new UpstreamBusinessError(endpoint, status, business.code, business.reason);
  if (status >= 400) return new UpstreamValidationError(endpoint, status, validationFields(body));
  return new UpstreamBadResponseError(endpoint, status, `unexpected HTTP ${status}`);
}
