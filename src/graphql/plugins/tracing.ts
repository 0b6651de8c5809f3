/**
 * The Yoga plugin that traces a GraphQL request, installed only when tracing is on (SDK: src/platform/tracing.ts;
 * README "Tracing"):
 *
 *   POST /graphql            server span; an incoming W3C `traceparent` is its parent
 *   └─ query MyEsims         one per operation (name, type)
 *      ├─ Query.simList      resolver spans, only for the fields that load (TRACED_FIELDS), with how the
 *      ├─ Sim.usage          resource cache answered (hit / stale / miss / budget + the budget's wait)
 *      │  └─ upstream usage  client spans made by the upstream client, under the field whose read started them
 *      …
 *
 * Resolver spans are children of the operation span (graphql-js resolves nested fields in the executor's
 * context, not the parent resolver's). Scalar and object-mapping fields get no span: they cost nanoseconds and
 * would drown the trace.
 */
import { context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import {
  defaultFieldResolver,
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  getOperationAST,
  isObjectType,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { BALANCE_KEY } from '../../domain/cache/index.ts';
import { cacheReadOf, extractContext, type Tracing, withCacheReads } from '../../platform/tracing.ts';

/** `Type.field` → the resource cache it reads and how to find the key (the ICCID) from the resolver's input. */
// biome-ignore lint/suspicious/noExplicitAny: resolver sources and arguments differ per field; each key function reads what its field has
const TRACED_FIELDS: Record<string, { resource?: string; key?: (source: any, args: any) => string | undefined }> = {
  'Query.balance': { resource: 'balance', key: () => BALANCE_KEY },
  'Query.sim': {
    resource: 'details',
    key: (_s, args) => (typeof args.iccid === 'string' ? args.iccid.trim() : undefined),
  },
  'Query.sims': {},
  'Query.simList': {},
  'Mutation.purchaseTopup': {},
  'Sim.usage': { resource: 'usage', key: (sim) => sim?.iccid },
  'Sim.topupPackages': { resource: 'topups', key: (sim) => sim?.iccid },
  'Sim.packageHistory': { resource: 'history', key: (sim) => sim?.iccid },
  'Sim.packageHistoryInfo': { resource: 'history', key: (sim) => sim?.iccid },
};

/** The tracer of the operation being executed; absent outside a traced operation. */
const TRACER = Symbol.for('esim-gateway.tracer');

// biome-ignore lint/suspicious/noExplicitAny: Yoga's own plugin context type is Record<string, any>
export function useTracing(tracing: Tracing): Plugin<Record<string, any>, { dependencies?: unknown }> {
  const { tracer } = tracing;
  const requestSpans = new WeakMap<Request, Span>();
  return {
    instrumentation: {
      request({ request }, wrapped) {
        const parent = extractContext((name) => request.headers.get(name) ?? undefined);
        const path = new URL(request.url).pathname;
        const span = tracer.startSpan(
          `${request.method} ${path}`,
          { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.path': path } },
          parent,
        );
        requestSpans.set(request, span);
        return context.with(trace.setSpan(parent, span), () => settle(span, wrapped));
      },
      operation(_payload, wrapped) {
        const span = tracer.startSpan('graphql.operation');
        const traced = trace.setSpan(context.active(), span);
        // Resolver spans and cache notes only for a sampled operation.
        const ctx = span.isRecording() ? withCacheReads(traced).setValue(TRACER, tracer) : traced;
        return context.with(ctx, () => settle(span, wrapped));
      },
    },
    onSchemaChange({ schema }) {
      traceResolvers(schema);
    },
    onRequest({ request, serverContext }) {
      // The HTTP fast path (src/app/http-handler.ts) hands Yoga its response-cache misses with a dependency tracker.
      if (serverContext?.dependencies) requestSpans.get(request)?.setAttribute('gateway.response_cache', 'miss');
    },
    onExecute({ args }) {
      const span = trace.getActiveSpan();
      const operation = getOperationAST(args.document, args.operationName);
      if (!span || !operation) return;
      const name = operation.name?.value ?? args.operationName ?? undefined;
      span.updateName(name ? `${operation.operation} ${name}` : operation.operation);
      span.setAttribute('graphql.operation.type', operation.operation);
      if (name) span.setAttribute('graphql.operation.name', name);
    },
    onResponse({ request, response }) {
      const span = requestSpans.get(request);
      if (!span) return;
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    },
  };
}

/** Runs `wrapped` and ends `span` when it has settled (sync or async). */
function settle<T>(span: Span, wrapped: () => T | Promise<T>): T | Promise<T> {
  let result: T | Promise<T>;
  try {
    result = wrapped();
  } catch (error) {
    fail(span, error);
    span.end();
    throw error;
  }
  if (!(result instanceof Promise)) {
    span.end();
    return result;
  }
  return result.then(
    (value) => {
      span.end();
      return value;
    },
    (error: unknown) => {
      fail(span, error);
      span.end();
      throw error;
    },
  );
}

function fail(span: Span, error: unknown): void {
  // The error code (ours, stable) — never the message of an unexpected error, which Yoga masks for clients too.
  const code = error instanceof GraphQLError ? error.extensions?.code : undefined;
  if (typeof code === 'string') span.setAttribute('graphql.error.code', code);
  span.setStatus({ code: SpanStatusCode.ERROR, ...(typeof code === 'string' ? { message: code } : {}) });
}

/**
 * Wraps the resolvers of TRACED_FIELDS in `schema`, once per schema object. The wrapper is inert (one lookup in the
 * active context) for a gateway without tracing that shares the schema module in the same process.
 */
const tracedSchemas = new WeakSet<GraphQLSchema>();
function traceResolvers(schema: GraphQLSchema): void {
  if (tracedSchemas.has(schema)) return;
  tracedSchemas.add(schema);
  for (const [coordinate, spec] of Object.entries(TRACED_FIELDS)) {
    const [typeName, fieldName] = coordinate.split('.') as [string, string];
    const type = schema.getType(typeName);
    const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
    if (!field) continue;
    const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args, ctx, info) => {
      const parent = context.active();
      // Set only inside a sampled operation: an unsampled one pays this lookup and nothing else.
      const tracer = parent.getValue(TRACER) as Tracer | undefined;
      if (!tracer) return resolve(source, args, ctx, info);
      const key = spec.key?.(source, args);
      const span = tracer.startSpan(
        coordinate,
        {
          attributes: {
            'graphql.field.name': fieldName,
            'graphql.field.path': pathOf(info.path),
            ...(key !== undefined && spec.resource !== 'balance' ? { 'esim.iccid': key } : {}),
          },
        },
        parent,
      );
      const done = (error?: unknown) => {
        const read = spec.resource && key !== undefined ? cacheReadOf(parent, spec.resource, key) : undefined;
        if (read) {
          span.setAttribute('gateway.cache.resource', spec.resource!);
          span.setAttribute('gateway.cache.outcome', read.outcome);
          if (read.budgetWaitMs !== undefined) span.setAttribute('gateway.cache.budget_wait_ms', read.budgetWaitMs);
        }
        if (error !== undefined) fail(span, error);
        span.end();
      };
      let result: unknown;
      try {
        result = context.with(trace.setSpan(parent, span), resolve, undefined, source, args, ctx, info);
      } catch (error) {
        done(error);
        throw error;
      }
      if (!(result instanceof Promise)) {
        done();
        return result;
      }
      return result.then(
        (value: unknown) => {
          done();
          return value;
        },
        (error: unknown) => {
          done(error);
          throw error;
        },
      );
    };
  }
}

function pathOf(path: { prev: unknown; key: string | number } | undefined): string {
  const parts: (string | number)[] = [];
  for (let p = path; p; p = p.prev as typeof path) parts.unshift(p.key);
  return parts.join('.');
}
