/**
 * graphql-jit execution that answers exactly what graphql-js answers (README "HTTP endpoints and authentication",
 * GraphQL over HTTP).
 *
 * graphql-jit (through @envelop/graphql-jit) differs from graphql-js where a request is wrong, not where it is
 * right:
 * - it cannot compile what graphql-js refuses with a GraphQL error (no such operation, an operation type the
 *   schema has no root for — any subscription here), and reports that as a plain error, which Yoga masks into
 *   a 500 "Unexpected error.";
 * - its request errors (variables not provided or not coercible) carry no locations and `data: undefined`,
 *   which Yoga answers with 200 where graphql-js's answer is a 400;
 * - @envelop/graphql-jit caches compiled queries by document, not by operation, so a document with several
 *   operations could run the one compiled first;
 * - it has no incremental delivery: `@defer`/`@stream` would be ignored, everything sent in one payload.
 * So: documents with one operation the schema has a root type for, and no `@defer`/`@stream` (whatever their `if`),
 * run compiled; the others run on Yoga's executor (graphql-js semantics, incremental delivery included); and a
 * compiled run that executed nothing (a request error: no `data` at all) is answered by graphql-js, which fails the
 * same way before executing anything and reports it its own way. Only the error path pays twice.
 */
import { useGraphQlJit } from '@envelop/graphql-jit';
import { type ExecutionArgs, getOperationAST, Kind } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { isIncrementalDocument } from '../defer.ts';

type ExecuteFn = (args: ExecutionArgs) => unknown;

export function useJitWithGraphqlJsErrors(logger: Logger, cacheSize = 1_000): Plugin {
  const jit = useGraphQlJit(
    {},
    {
      cache: new LRUCache({ max: cacheSize }),
      onError: (result) =>
        logger.warn({ errors: result.errors?.map((e) => e.message) }, 'graphql-jit: compilation failed'),
    },
  );
  return {
    onExecute(payload) {
      if (!jitCanExecute(payload.args)) return;
      const reference = payload.executeFn as ExecuteFn;
      let compiled: ExecuteFn | undefined;
      // Without `enableIf`, the plugin sets its execute function synchronously.
      void jit.onExecute!({ ...payload, setExecuteFn: (fn: unknown) => (compiled = fn as ExecuteFn) } as never);
      const run = compiled;
      if (!run) return;
      payload.setExecuteFn((async (args: ExecutionArgs) => {
        const result = await run(args);
        if (!isAsyncIterable(result) && (result as { data?: unknown }).data === undefined) return reference(args);
        return result;
      }) as never);
    },
  };
}

/** One operation in the document, the schema has a root type for it, and nothing is deferred or streamed. */
function jitCanExecute(args: ExecutionArgs): boolean {
  if (isIncrementalDocument(args.document)) return false;
  let operations = 0;
  for (const definition of args.document.definitions)
    if (definition.kind === Kind.OPERATION_DEFINITION && ++operations > 1) return false;
  const operation = getOperationAST(args.document, args.operationName);
  return operation != null && args.schema.getRootType(operation.operation) != null;
}
