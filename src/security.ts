/**
 * Protections against hostile or careless clients, as Yoga/envelop plugins:
 * request body size, CSRF, depth/alias/token/directive/cost limits and masked field suggestions
 * (graphql-armor), at most one `purchaseTopup` per document, and introspection switchable off.
 * Mutations over GET are refused by Yoga itself (405). Requests that a browser would send without a CORS
 * preflight (GET, form or text/plain bodies) must carry an `x-graphql-csrf` header.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { GraphQLError, Kind, type ASTVisitor, type ValidationContext, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayConfig } from './config.ts';

/** Refuses bodies over `maxBytes` before they are read (413), and bodies of unknown length (411). */
export function useRequestSizeLimit(maxBytes: number): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const length = request.headers.get('content-length');
      const reject = (status: number, message: string) =>
        endResponse(
          new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code: 'REQUEST_TOO_LARGE' } }] }), {
            status,
            headers: { 'content-type': 'application/json' },
          }),
        );
      if (length === null) return reject(411, 'A Content-Length header is required.');
      if (!/^\d+$/.test(length) || Number(length) > maxBytes) return reject(413, `Request bodies are limited to ${maxBytes} bytes.`);
    },
  };
}

/** A document may place at most one order: a retried document must never be able to buy twice over. */
export const onePurchasePerDocument: ValidationRule = (context: ValidationContext): ASTVisitor => {
  let count = 0;
  return {
    OperationDefinition: {
      enter(node) {
        if (node.operation !== 'mutation') return;
        const visitedFragments = new Set<string>();
        const countIn = (selections: readonly import('graphql').SelectionNode[]) => {
          for (const selection of selections) {
            if (selection.kind === Kind.FIELD && selection.name.value === 'purchaseTopup') count++;
            else if (selection.kind === Kind.INLINE_FRAGMENT) countIn(selection.selectionSet.selections);
            else if (selection.kind === Kind.FRAGMENT_SPREAD && !visitedFragments.has(selection.name.value)) {
              visitedFragments.add(selection.name.value);
              const fragment = context.getFragment(selection.name.value);
              if (fragment) countIn(fragment.selectionSet.selections);
            }
          }
        };
        countIn(node.selectionSet.selections);
        if (count > 1) {
          context.reportError(
            new GraphQLError('At most one purchaseTopup per document.', { nodes: node, extensions: { code: 'BAD_USER_INPUT' } }),
          );
        }
      },
    },
  };
};

const tagRejection = (_ctx: unknown, error: GraphQLError) => {
  (error.extensions as Record<string, unknown>).code ??= 'QUERY_TOO_COMPLEX';
};

export function securityPlugins(config: GatewayConfig): Plugin<Record<string, any>>[] {
  const q = config.queryLimits;
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: q.maxDepth, onReject: [tagRejection] },
    maxAliases: { n: q.maxAliases, onReject: [tagRejection] },
    maxTokens: { n: q.maxTokens, onReject: [tagRejection] },
    maxDirectives: { n: q.maxDirectives, onReject: [tagRejection] },
    costLimit: { maxCost: q.maxCost, onReject: [tagRejection] },
    blockFieldSuggestion: { enabled: true },
  });
  return [
    useRequestSizeLimit(q.maxRequestBytes),
    useCSRFPrevention({ requestHeaders: ['x-graphql-csrf'] }),
    armor as Plugin<Record<string, any>>,
    {
      onValidate({ addValidationRule }) {
        addValidationRule(onePurchasePerDocument);
      },
    },
    ...(config.introspection ? [] : [useDisableIntrospection()]),
  ];
}

