/**
 * `@defer` and `@stream` (incremental delivery), README "Using @defer and retryAfterSeconds from a frontend".
 *
 * Yoga's executor runs them once the schema has the directives (src/graphql/schema/index.ts adds them, so the printed
 * SDL, codegen and persisted documents know them too); `@graphql-yoga/plugin-defer-stream` contributes the validation
 * rules: a label used once, no `@defer`/`@stream` on a mutation's or subscription's root fields, `@stream` only on
 * lists, and a field-merging rule that compares `@stream` arguments. An incremental result is an async iterable
 * answered as `multipart/mixed` or `text/event-stream`. Elsewhere: graphql-jit leaves such documents to Yoga's
 * executor (jit.ts), the response cache never stores them (response-cache-guard.ts) and the HTTP edge streams them
 * part by part (src/app/http-handler.ts).
 *
 * An operation that may be answered incrementally is refused before anything is executed (`BAD_USER_INPUT`) when the
 * request accepts neither of those media types (406, naming the header; Yoga would execute it, upstream reads
 * included, and then answer 406 with an empty body), or is part of a batch (400: a batch is answered as one JSON
 * array, in which Yoga would silently turn the operation's result into `{}`).
 */
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { getOperationAST, type ValidationRule } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../../domain/errors.ts';
import { mayDeliverIncrementally } from '../defer.ts';

const STREAMING_TYPES = ['multipart/mixed', 'text/event-stream'];

// biome-ignore lint/suspicious/noExplicitAny: Yoga's own plugin context type is Record<string, any>
export function incrementalDeliveryPlugins(): Plugin<Record<string, any>>[] {
  return [useDeferStream(), useStreamingAcceptRequired()];
}

function useStreamingAcceptRequired(): Plugin {
  /** Requests whose body is a batch (an array of operations): answered as one JSON array, never incrementally. */
  const batches = new WeakSet<Request>();
  const refuse = (message: string, status: number) => ({
    errors: [
      createGraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode, http: { status } } }),
    ],
  });
  return {
    onRequestParse({ request }) {
      return {
        onRequestParseDone({ requestParserResult }) {
          if (Array.isArray(requestParserResult)) batches.add(request);
        },
      };
    },
    onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation || !mayDeliverIncrementally(args.document, operation, args.variableValues)) return;
      const request = (args.contextValue as { request?: Request } | undefined)?.request;
      if (!request) return;
      if (batches.has(request))
        setResultAndStopExecution(
          refuse('@defer and @stream cannot be used in a batched request: send this operation on its own.', 400),
        );
      else if (!acceptsStream(request.headers.get('accept')))
        setResultAndStopExecution(
          refuse(
            'This operation uses @defer or @stream: its parts arrive one by one, so the request must accept ' +
              '"multipart/mixed" or "text/event-stream" (e.g. Accept: multipart/mixed, application/json).',
            406,
          ),
        );
    },
  };
}

/** Whether an Accept header admits a streamed answer, as Yoga reads it (no header = anything; utf-8 only). */
function acceptsStream(accept: string | null): boolean {
  for (const entry of (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',')) {
    const [type = '', ...params] = entry.split(';');
    const charset = params.find((p) => p.startsWith('charset='));
    if (charset && charset !== 'charset=utf-8') continue;
    const [main, sub] = type.split('/');
    if (
      STREAMING_TYPES.some((t) => (main === '*' || t.startsWith(`${main}/`)) && (sub === '*' || t.endsWith(`/${sub}`)))
    )
      return true;
  }
  return false;
}

/**
 * `rules` as the plugin leaves them for a text request: for validating documents outside Yoga's pipeline (the
 * persisted-document manifests) exactly as a request's are.
 */
export function withIncrementalDeliveryRules(rules: readonly ValidationRule[]): ValidationRule[] {
  const params = { rules: [...rules] };
  useDeferStream().onValidate!({
    params,
    addValidationRule: (rule: ValidationRule) => params.rules.push(rule),
  } as never);
  return params.rules;
}
