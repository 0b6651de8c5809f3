/**
 * The response-cache guard: the one place that decides whether a response may be stored (README "HTTP endpoints
 * and authentication"). A response is approved only when every operation was a query, the complete result is a
 * single-shot result without errors, and the request's data access recorded at least one read and nothing that
 * makes it unstorable (stale values, failed reads, list pages, mutations, direct upstream reads). Anything that
 * never reaches result processing (401, 500, refused before execution) is never approved, so never stored.
 * Requests without a tracker (not on the HTTP fast path) are left alone.
 */
import { type ExecutionResult, getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GatewayServerContext } from '../context.ts';
import type { ResponseDependencies } from '../response-cache.ts';

export function useResponseCacheGuard(): Plugin<GatewayServerContext, GatewayServerContext> {
  return {
    onExecute({ args }) {
      const dependencies = args.contextValue.dependencies;
      if (dependencies && getOperationAST(args.document, args.operationName)?.operation !== 'query')
        dependencies.refuse();
    },
    onResultProcess({ result, serverContext }) {
      const dependencies = serverContext.dependencies;
      if (dependencies) judgeResult(result, dependencies);
    },
  };
}

/** The verdict on a complete result (Yoga's onResultProcess here; the edge's direct execution calls it itself). */
export function judgeResult(result: unknown, dependencies: ResponseDependencies): void {
  const results = isAsyncIterable(result)
    ? undefined
    : ((Array.isArray(result) ? result : [result]) as ExecutionResult[]);
  if (!results || results.some((r) => r.errors?.length)) dependencies.refuse();
  else if (dependencies.cacheable && dependencies.keys.size > 0) dependencies.approve();
}
