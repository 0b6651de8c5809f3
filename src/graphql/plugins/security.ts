/**
 * Protections against hostile or careless clients, as Yoga/envelop plugins:
 * request body size, CSRF, depth/alias/token/directive/cost limits and masked field suggestions
 * (graphql-armor), at most one `purchaseTopup` per document, and introspection switchable off.
 * Mutations over GET are refused by Yoga itself (405). Requests that a browser would send without a CORS
 * preflight (GET, form or text/plain bodies) must carry an `x-graphql-csrf` header. README "Reliability and security".
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import {
  type ASTVisitor,
  type FieldNode,
  GraphQLError,
  Kind,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../../domain/errors.ts';
import type { GatewayConfig } from '../../platform/config.ts';

/** Refuses bodies over `maxBytes` before they are read (413), and bodies of unknown length (411). */
export function useRequestSizeLimit(maxBytes: number): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const length = request.headers.get('content-length');
      const reject = (status: number, message: string) =>
        endResponse(
          new fetchAPI.Response(
            JSON.stringify({ errors: [{ message, extensions: { code: 'REQUEST_TOO_LARGE' satisfies ErrorCode } }] }),
            {
              status,
              headers: { 'content-type': 'application/json' },
            },
          ),
        );
      if (length === null) return reject(411, 'A Content-Length header is required.');
      if (!/^\d+$/.test(length) || Number(length) > maxBytes)
        return reject(413, `Request bodies are limited to ${maxBytes} bytes.`);
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
            new GraphQLError('At most one purchaseTopup per document.', {
              nodes: node,
              extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode },
            }),
          );
        }
      },
    },
  };
};

export const CSRF_HEADER = 'x-graphql-csrf';

/**
 * Yoga's CSRF check (a request a browser could send cross-site without a CORS preflight — GET, form or text/plain
 * bodies — must carry `x-graphql-csrf`), with a 403 that names the header and how to avoid needing it.
 */
export function useCsrfHeader(): Plugin {
  const yogaCsrf = useCSRFPrevention({ requestHeaders: [CSRF_HEADER] });
  return {
    onRequestParse(payload) {
      try {
        yogaCsrf.onRequestParse!(payload);
      } catch {
        throw createGraphQLError(
          `Missing the ${CSRF_HEADER} header. GET requests and form or text/plain POST bodies need it (any value, e.g. ` +
            `"${CSRF_HEADER}: 1"): a browser can send those cross-site without a CORS preflight. ` +
            'A POST with content-type: application/json does not need it.',
          { extensions: { code: 'CSRF_HEADER_REQUIRED' satisfies ErrorCode, http: { status: 403 } } },
        );
      }
    },
  };
}

/** graphql-armor labels every rejection "Syntax Error: …" although the query parsed fine; say what it is. */
const tagRejection = (_ctx: unknown, error: GraphQLError) => {
  (error.extensions as Record<string, unknown>).code ??= 'QUERY_TOO_COMPLEX' satisfies ErrorCode;
  error.message = error.message.replace(/^Syntax Error: /, '');
};

/** The one message for a `simList(first:)` out of range, from validation (literal) or the resolver (variable). */
export const simListFirstOutOfRange = (maxPage: number) =>
  `first must be between 1 and ${maxPage} (MAX_SIM_LIST_PAGE); page with after: endCursor.`;

/** Literal `first` arguments of `simList` outside [1, maxPage] (a variable is checked by the resolver). */
function outOfRangeFirst(context: ValidationContext, node: FieldNode, maxPage: number): boolean {
  if (node.name.value !== 'simList' || context.getParentType()?.name !== 'Query') return false;
  const first = node.arguments?.find((a) => a.name.value === 'first')?.value;
  if (first?.kind !== Kind.INT) return false;
  const n = Number(first.value);
  return n < 1 || n > maxPage;
}

/** The cost graphql-armor computed for the operation being validated (its rule runs on entering the operation). */
const measuredCost = new WeakMap<ValidationContext, number>();
const recordCost = (context: ValidationContext | null, { n }: { n: number }) =>
  void (context && measuredCost.set(context, n));

/**
 * The cost limit, on graphql-armor's cost computation (a `first: n` argument multiplies its subtree by n; armor's own
 * limit is set out of reach and only measures), with a plain message naming the limit. When the cost comes with a
 * `simList(first:)` over MAX_SIM_LIST_PAGE, that bound is the error reported: it is the actual mistake.
 */
export function costLimit(maxCost: number, maxSimListPage: number): ValidationRule {
  return (context) => {
    const badFirst: FieldNode[] = [];
    return {
      OperationDefinition: {
        enter() {
          badFirst.length = 0;
        },
        leave() {
          const cost = measuredCost.get(context) ?? 0;
          if (cost <= maxCost) return;
          for (const field of badFirst) {
            context.reportError(
              new GraphQLError(simListFirstOutOfRange(maxSimListPage), {
                nodes: field,
                extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode, field: 'first' },
              }),
            );
          }
          if (badFirst.length) return;
          context.reportError(
            new GraphQLError(
              `Query cost ${Math.round(cost)} exceeds the limit of ${maxCost} (MAX_QUERY_COST). Each field costs 1–2, 1.5× more ` +
                'per level of nesting, and first: n multiplies its selection by n: ask for smaller pages or fewer fields.',
              { extensions: { code: 'QUERY_TOO_COMPLEX' satisfies ErrorCode, cost: Math.round(cost), maxCost } },
            ),
          );
        },
      },
      Field(node) {
        if (outOfRangeFirst(context, node, maxSimListPage)) badFirst.push(node);
      },
    };
  };
}

// biome-ignore lint/suspicious/noExplicitAny: Yoga's own plugin context type is Record<string, any>
export function securityPlugins(config: GatewayConfig): Plugin<Record<string, any>>[] {
  const q = config.queryLimits;
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: q.maxDepth, onReject: [tagRejection] },
    maxAliases: { n: q.maxAliases, onReject: [tagRejection] },
    maxTokens: { n: q.maxTokens, onReject: [tagRejection] },
    maxDirectives: { n: q.maxDirectives, onReject: [tagRejection] },
    // Measures only; costLimit() below rejects, with a plain message and the `first` bound reported first.
    costLimit: { maxCost: Number.MAX_SAFE_INTEGER, onAccept: [recordCost] },
    blockFieldSuggestion: { enabled: true },
  });
  return [
    useRequestSizeLimit(q.maxRequestBytes),
    useCsrfHeader(),
    // biome-ignore lint/suspicious/noExplicitAny: Yoga's own plugin context type
    armor as Plugin<Record<string, any>>,
    {
      onValidate({ addValidationRule }) {
        addValidationRule(costLimit(q.maxCost, config.maxSimListPage));
        addValidationRule(onePurchasePerDocument);
      },
    },
    ...(config.introspection ? [] : [useDisableIntrospection()]),
  ];
}
