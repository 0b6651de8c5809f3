/**
 * OpenTelemetry tracing (README "Tracing"): the SDK built from the `tracing` section of the config (standard OTEL_*
 * variables), and the small hooks the rest of the code calls.
 *
 * Contract:
 * - off (no OTLP endpoint configured, OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER=none, and no exporter injected) →
 *   `createTracing` returns undefined: no provider, no plugin, no context manager; every hook below is one
 *   boolean test;
 * - on → a private TracerProvider (never registered globally, so several gateways in one process — tests — do not
 *   share one), W3C trace context as the propagator, an AsyncLocalStorage context manager (registered once per
 *   process: the API keeps one);
 * - attributes never carry a credential: no token, Authorization, API key, client secret or request body. ICCIDs
 *   are identifiers, not secrets (they are already in logs), and are recorded on upstream spans.
 */
import { type Context, context, propagation, type Span, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { TracingConfig } from './config.ts';

export interface Tracing {
  tracer: Tracer;
  /** Exports what is buffered and stops; call at shutdown. */
  shutdown(): Promise<void>;
}

/** True once any tracing instance exists in the process: the hooks below do nothing before that. */
let active = false;
let contextManagerRegistered = false;
const propagator = new W3CTraceContextPropagator();

/**
 * The SDK for `config`, or undefined when tracing is off. `exporter` (tests) replaces the OTLP exporter, is fed
 * synchronously span by span, and turns tracing on whatever the config says.
 */
export function createTracing(config: TracingConfig, options: { exporter?: SpanExporter } = {}): Tracing | undefined {
  if (!options.exporter && !config.enabled) return undefined;
  if (!contextManagerRegistered) {
    // Span parents follow async work (DataLoader batches, cache fills) only with a context manager.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(propagator);
    contextManagerRegistered = true;
  }
  const processor = options.exporter
    ? new SimpleSpanProcessor({ exporter: options.exporter })
    : new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({
          ...(config.endpoint ? { url: config.endpoint } : {}),
          headers: config.headers,
        }),
      });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: sampler(config.sampler, config.samplerRatio),
    spanProcessors: [processor],
  });
  active = true;
  return { tracer: provider.getTracer('esim-gateway'), shutdown: () => provider.shutdown() };
}

function sampler(kind: TracingConfig['sampler'], ratio: number): Sampler {
  switch (kind) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The incoming W3C trace context (`traceparent`, `tracestate`) of a request, or the root context. */
export function extractContext(get: (name: string) => string | undefined): Context {
  return propagator.extract(context.active(), undefined, {
    get: (_carrier, key) => get(key),
    keys: () => ['traceparent', 'tracestate'],
  });
}

/** Writes `traceparent` (and `tracestate`) for `span` into outgoing request headers. */
export function injectContext(span: Span, headers: Record<string, string>): void {
  propagator.inject(trace.setSpan(context.active(), span), headers, {
    set: (carrier, key, value) => {
      carrier[key] = value;
    },
  });
}

/**
 * Pino mixin fields: the active span's ids, when tracing is on and a span is active. Always a fresh object: pino
 * merges the line's own fields into what the mixin returns.
 */
export function traceLogFields(): Record<string, string> {
  const span = active ? trace.getSpan(context.active()) : undefined;
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

// --- cache reads → the resolver span that asked for them ------------------------------------------------------

/** How a resource cache answered one read. */
export type CacheOutcome = 'hit' | 'stale' | 'miss' | 'budget';
export interface CacheReadNote {
  outcome: CacheOutcome;
  /** For `budget`: how long the per-ICCID budget (or a 429 block) keeps the upstream closed for this key. */
  budgetWaitMs?: number;
}

/** Per operation: `resource:key` → how the cache answered. Reads run in DataLoader batches, not in their field's span. */
const CACHE_READS = Symbol.for('esim-gateway.cache-reads');

export function withCacheReads(ctx: Context): Context {
  return ctx.setValue(CACHE_READS, new Map<string, CacheReadNote>());
}

/** Hook for the resource caches: remembers how `resource:key` was answered, for the current operation. */
export function noteCacheRead(resource: string, key: string, outcome: CacheOutcome, budgetWaitMs?: number): void {
  if (!active) return;
  const reads = context.active().getValue(CACHE_READS) as Map<string, CacheReadNote> | undefined;
  // First answer wins: a later read of the same key in this operation comes from the request's DataLoader.
  if (reads && !reads.has(`${resource}:${key}`))
    reads.set(`${resource}:${key}`, budgetWaitMs === undefined ? { outcome } : { outcome, budgetWaitMs });
}

export function cacheReadOf(ctx: Context, resource: string, key: string): CacheReadNote | undefined {
  return (ctx.getValue(CACHE_READS) as Map<string, CacheReadNote> | undefined)?.get(`${resource}:${key}`);
}

/**
 * Starts the span of a request the HTTP fast path answers from the response cache (Yoga never sees it, so its
 * plugin cannot); the caller ends it once the bytes are written.
 */
export function startResponseCacheHitSpan(
  tracer: Tracer,
  method: string,
  path: string,
  headers: Record<string, string | string[] | undefined>,
): Span {
  const parent = extractContext((name) => {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  });
  return tracer.startSpan(
    `${method} ${path}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': method, 'url.path': path, 'gateway.response_cache': 'hit' },
    },
    parent,
  );
}
