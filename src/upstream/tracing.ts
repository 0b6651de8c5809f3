/**
 * Client spans for upstream exchanges (transport.ts calls these; no-ops without a tracer; README "Tracing"). One span per
 * exchange — a GET retried by the dispatcher stays one span, its `upstream.attempts` counts the tries.
 * Attributes: endpoint, method, the URL path template's endpoint name (never the query string), HTTP status,
 * attempts, outcome, circuit-breaker state and ICCID. Never a header, the token, a body or the client secret.
 */
import { type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { injectContext } from '../platform/tracing.ts';
import type { BreakerState } from './circuit-breaker.ts';
import { UpstreamBusinessError, type UpstreamError, UpstreamNotFoundError } from './errors.ts';

export function startUpstreamSpan(
  tracer: Tracer | undefined,
  call: { endpoint: string; method: string; iccid?: string | undefined },
  breaker: BreakerState,
  headers: Record<string, string>,
): Span | undefined {
  if (!tracer) return undefined;
  const span = tracer.startSpan(`upstream ${call.endpoint}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'http.request.method': call.method,
      'upstream.endpoint': call.endpoint,
      'upstream.breaker_state': breaker,
      ...(call.iccid === undefined ? {} : { 'esim.iccid': call.iccid }),
    },
  });
  injectContext(span, headers); // W3C traceparent: the upstream's spans join this trace under this span
  return span;
}

export function endUpstreamSpan(
  span: Span | undefined,
  status: number,
  attempts: number,
  outcome: 'ok' | 'aborted' | UpstreamError,
): void {
  if (!span) return;
  span.setAttribute('upstream.attempts', attempts);
  if (status > 0) span.setAttribute('http.response.status_code', status);
  span.setAttribute('upstream.outcome', typeof outcome === 'string' ? outcome : outcome.name);
  // 404 and 422 answers are about one SIM or order from a healthy upstream, not failures of the call.
  if (
    typeof outcome !== 'string' &&
    !(outcome instanceof UpstreamNotFoundError || outcome instanceof UpstreamBusinessError)
  ) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.name });
  }
  span.end();
}
