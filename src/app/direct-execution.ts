/**
 * Direct execution at the node:http edge: a plain GraphQL query is run on Yoga's envelop pipeline (parse and validation
 * with their cache and limits, the context, graphql-jit, error masking, the response-cache guard — every envelop
 * plugin) and answered with Yoga's own result processor, without Yoga's HTTP layer (whatwg-node's server adapter, its
 * request and response hooks and promise plumbing), which cost about as much as executing a 25-SIM screen. See
 * README.md, "HTTP endpoints and authentication".
 *
 * Contract: the answer is exactly Yoga's (status, headers, body: test/graphql/http-direct.test.ts compares them for
 * every kind of request). So only requests whose answer this module can reproduce are taken — every other one gets
 * `undefined` before anything was executed, and the edge hands it to Yoga:
 * - tracing off (spans come from Yoga's hooks) and no persisted documents configured (their rules are Yoga hooks);
 * - an `Accept` header under which Yoga picks its regular JSON result processor (computed as Yoga computes it);
 * - a body that is a JSON object of `query` (a string without `@defer`/`@stream`), optional `operationName` and
 *   `variables` — nothing else (batches, `extensions`, `documentId` go to Yoga);
 * - a document that parses and validates (errors are Yoga's to answer) with a `query` operation to run (mutations
 *   and subscriptions go to Yoga);
 * - an authenticated caller, passed in `principal` (the edge authenticated it; 401s are Yoga's).
 * What Yoga's HTTP hooks add to such an answer is added here: the response-cache guard's verdict (its
 * `onResultProcess`), the CORS headers (`corsResponseHeaders`, as Yoga's CORS plugin), the request-duration metric.
 * No other plugin of the gateway has an HTTP hook that acts on such a request (authentication, request size, CSRF,
 * readiness, health, GraphiQL act before or instead of it); a new one must be added here, or make this path step
 * aside.
 */
import { type DocumentNode, getOperationAST } from 'graphql';
import { isAsyncIterable, maskError, processRegularResult } from 'graphql-yoga';
import type { GatewayServerContext } from '../graphql/context.ts';
import { judgeResult } from '../graphql/plugins/response-cache-guard.ts';
import { corsResponseHeaders } from './cors.ts';
import type { Gateway } from './gateway.ts';

/** The media types of Yoga's regular (single-result) processor, in the order Yoga tries them. */
const REGULAR = ['application/graphql-response+json', 'application/json'] as const;
type RegularMediaType = (typeof REGULAR)[number];

/**
 * The media type Yoga's result processors choose for `accept` when it is one of the regular processor's, else
 * undefined (an event stream, multipart, or nothing acceptable: Yoga answers). As Yoga: `*∕*` when absent, whitespace
 * dropped, lower case, only UTF-8, the list walked last to first and the last match winning (the regular processor is
 * tried last, so a regular match is Yoga's choice).
 */
export function regularMediaType(accept: string | undefined): RegularMediaType | undefined {
  const asked = (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',');
  let chosen: RegularMediaType | undefined;
  for (let i = asked.length - 1; i >= 0; i--) {
    const [mediaType = '', ...params] = asked[i]!.split(';');
    const charset = params.find((param) => param.includes('charset=')) || 'charset=utf-8';
    if (charset !== 'charset=utf-8') continue;
    const [pre, suf] = mediaType.split('/');
    for (const candidate of REGULAR) {
      const [candidatePre, candidateSuf] = candidate.split('/');
      if ((pre === '*' || pre === candidatePre) && (suf === '*' || suf === candidateSuf)) chosen = candidate;
    }
  }
  return chosen;
}

interface PlainParams {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/** The request body when it is a plain query request (see the header), else undefined. */
function plainParams(body: Buffer): PlainParams | undefined {
  let params: unknown;
  try {
    params = JSON.parse(body.toString('utf-8')); // as Yoga's JSON request parser reads it
  } catch {
    return undefined;
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  const p = params as Record<string, unknown>;
  for (const key in p) if (key !== 'query' && key !== 'operationName' && key !== 'variables') return undefined;
  if (typeof p.query !== 'string' || p.query.includes('@defer') || p.query.includes('@stream')) return undefined;
  if (p.operationName != null && typeof p.operationName !== 'string') return undefined;
  if (p.variables != null && (typeof p.variables !== 'object' || Array.isArray(p.variables))) return undefined;
  return p as unknown as PlainParams;
}

/**
 * `direct(request, body, context)`: Yoga's answer to `request` (whose body is `body`), or undefined when this request
 * is Yoga's to answer (nothing was executed). `context.principal` is required: the caller the edge authenticated.
 */
export type DirectExecutor = (
  request: Request,
  body: Buffer,
  context: GatewayServerContext & Required<Pick<GatewayServerContext, 'principal'>>,
) => Promise<Response | undefined>;

export function createDirectExecutor(gateway: Gateway): DirectExecutor {
  const { yoga, metrics } = gateway;
  const { config, logger } = gateway.services;
  if (gateway.tracing || gateway.persistedDocuments) return async () => undefined;

  return async (request, body, context) => {
    const mediaType = regularMediaType(request.headers.get('accept') ?? undefined);
    if (!mediaType) return undefined;
    const params = plainParams(body);
    if (!params) return undefined;
    const started = performance.now();
    // Yoga's context for a request: its server context, the request and its parameters.
    const enveloped = yoga.getEnveloped({ ...context, request, params });
    // A document that does not parse or validate (limits included: graphql-armor throws its rejections) is Yoga's.
    let document: DocumentNode;
    try {
      document = enveloped.parse(params.query);
      if (enveloped.validate(enveloped.schema, document).length > 0) return undefined;
    } catch {
      return undefined;
    }
    if (getOperationAST(document, params.operationName)?.operation !== 'query') return undefined;
    let contextValue: unknown;
    try {
      contextValue = await enveloped.contextFactory();
    } catch {
      return undefined;
    }
    let result: unknown;
    try {
      result = await enveloped.execute({
        schema: enveloped.schema,
        document,
        contextValue,
        variableValues: params.variables,
        operationName: params.operationName,
      });
    } catch (error) {
      // As Yoga answers an execution that threw: the error masked ("Unexpected error.", 500) and logged.
      logger.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'yoga');
      result = { errors: [maskError(error, 'Unexpected error.', false)] };
    }
    if (isAsyncIterable(result)) return undefined; // not for a query without @defer/@stream; Yoga's, if ever
    if (context.dependencies) judgeResult(result, context.dependencies);
    const response = processRegularResult(result as never, yoga.fetchAPI, mediaType);
    for (const [name, value] of corsResponseHeaders(config.corsOrigins, request.headers))
      response.headers.set(name, value);
    if (config.metrics) metrics.observeRequest('POST', response.status, (performance.now() - started) / 1000);
    return response;
  };
}
