/**
 * Which fields a client asked to receive later (`@defer`, `@stream`), so their upstream reads can wait for budget
 * instead of holding up the first payload (README "Using @defer and retryAfterSeconds from a frontend").
 *
 * Contract of `readMode(info)`:
 * - 'deferred' when the field being resolved is delivered in a later payload: it lies under a fragment (inline or
 *   spread) with an active `@defer` (its `if` is true, by literal, variable or default), anywhere between the
 *   operation's root and the field, or under an item of a `@stream`ed list at an index ≥ its `initialCount`;
 * - 'foreground' otherwise, and whenever it cannot tell (a field node it did not see, a document too large to
 *   analyse): the conservative answer, a read that is not held back;
 * - a field node reached along several routes (a named fragment spread in several places) counts as deferred only
 *   when every route that matches the field's response path is deferred: the executor may run it for the first
 *   payload too, and both executions share one read.
 * The document is analysed once, on first use (WeakMap by operation node); a document without `@defer`/`@stream`
 * costs one WeakMap lookup per call afterwards, one with them a lookup and a short walk over the conditions.
 */
import {
  type ASTNode,
  BREAK,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  visit,
} from 'graphql';

import type { ReadMode } from '../domain/scheduler/index.ts';

export type { ReadMode };

type Condition =
  | { kind: 'defer'; if: ValueNode | undefined }
  /** `fields`: how many fields from the root down to the streamed list field (its position among the path's keys). */
  | { kind: 'stream'; if: ValueNode | undefined; initialCount: ValueNode | undefined; fields: number };

/** One route from the operation's root to a field node: the response keys along it and the conditions crossed. */
interface Route {
  keys: readonly string[];
  conditions: readonly Condition[];
}

interface Analysis {
  /** False for a document without @defer/@stream: every field is foreground. */
  incremental: boolean;
  /** Field node → the routes that reach it. Missing → foreground. */
  routes: Map<FieldNode, Route[]>;
}

/** Bound on the field visits of one analysis: named fragments spread in many places multiply them. */
const MAX_VISITS = 20_000;

const NOT_INCREMENTAL: Analysis = { incremental: false, routes: new Map() };
const analyses = new WeakMap<OperationDefinitionNode, Analysis>();

const incrementalDocuments = new WeakMap<DocumentNode, boolean>();

/**
 * True when the document uses `@defer` or `@stream` anywhere (whatever their `if`): graphql-jit cannot execute it.
 * Remembered per document object (Yoga's parse cache and the persisted documents hand out the same object).
 */
export function isIncrementalDocument(document: DocumentNode): boolean {
  let incremental = incrementalDocuments.get(document);
  if (incremental === undefined) {
    incremental = usesIncrementalDelivery(document);
    incrementalDocuments.set(document, incremental);
  }
  return incremental;
}

/** True when `node` (a document, an operation, a fragment…) uses `@defer` or `@stream` anywhere. */
function usesIncrementalDelivery(node: ASTNode): boolean {
  let found = false;
  visit(node, {
    Directive(directive) {
      if (directive.name.value === 'defer' || directive.name.value === 'stream') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * True when executing `operationName` of `document` with these (raw, request) variables may produce an incremental
 * result: a `@defer` or `@stream` reached from the operation has an `if` that is true (absent, literal, a variable's
 * value or its default). Errs towards true when it cannot tell.
 */
export function mayDeliverIncrementally(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): boolean {
  if (!isIncrementalDocument(document)) return false;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  const defaults: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? [])
    if (definition.defaultValue?.kind === Kind.BOOLEAN)
      defaults[definition.variable.name.value] = definition.defaultValue.value;
  const values = { ...defaults, ...variables };
  let active = false;
  const seen = new Set<string>();
  const search = (node: ASTNode): void => {
    visit(node, {
      Directive(directive) {
        if (directive.name.value !== 'defer' && directive.name.value !== 'stream') return undefined;
        if (!booleanArg(argument(directive, 'if'), values, true)) return undefined;
        active = true;
        return BREAK;
      },
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (active || seen.has(name) || !fragments[name]) return;
        seen.add(name);
        search(fragments[name]);
      },
    });
  };
  search(operation);
  return active;
}

/** 'deferred' when the field `info` resolves is delivered after the first payload (see the module comment). */
export function readMode(info: GraphQLResolveInfo): ReadMode {
  const analysis = analysisOf(info.operation, info.fragments);
  if (!analysis.incremental) return 'foreground';
  const path = pathOf(info);
  let matched = false;
  for (const node of info.fieldNodes) {
    const routes = analysis.routes.get(node);
    if (!routes) return 'foreground';
    for (const route of routes) {
      if (routes.length > 1 && !sameKeys(route.keys, path)) continue;
      matched = true;
      if (!deferredAlong(route.conditions, info, path)) return 'foreground';
    }
  }
  return matched ? 'deferred' : 'foreground';
}

/**
 * The `initialCount` of an active `@stream` on the list field `info` resolves: its items from that index on are sent
 * in later payloads. Undefined when the field is not streamed.
 */
export function streamedFrom(info: GraphQLResolveInfo): number | undefined {
  for (const node of info.fieldNodes) {
    const stream = node.directives?.find((d) => d.name.value === 'stream');
    if (stream && booleanArg(argument(stream, 'if'), info.variableValues, true))
      return intArg(argument(stream, 'initialCount'), info.variableValues, 0);
  }
  return undefined;
}

/** True when an active `@defer` directive is among `directives` (the `if` argument honoured). */
export function isDeferActive(
  directives: FieldNode['directives'],
  variables: GraphQLResolveInfo['variableValues'],
): boolean {
  const defer = directives?.find((d) => d.name.value === 'defer');
  return defer !== undefined && booleanArg(argument(defer, 'if'), variables, true);
}

function analysisOf(operation: OperationDefinitionNode, fragments: Record<string, FragmentDefinitionNode>): Analysis {
  let analysis = analyses.get(operation);
  if (!analysis) {
    analysis = analyse(operation, fragments);
    analyses.set(operation, analysis);
  }
  return analysis;
}

function analyse(operation: OperationDefinitionNode, fragments: Record<string, FragmentDefinitionNode>): Analysis {
  const used = new Set<string>();
  let incremental = usesIncrementalDelivery(operation);
  // Only the fragments this operation spreads matter (a document may hold other operations' fragments).
  const collect = (set: SelectionSetNode): void => {
    visit(set, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (used.has(name)) return;
        used.add(name);
        const fragment = fragments[name];
        if (fragment) collect(fragment.selectionSet);
      },
    });
  };
  collect(operation.selectionSet);
  for (const name of used) if (fragments[name] && usesIncrementalDelivery(fragments[name])) incremental = true;
  if (!incremental) return NOT_INCREMENTAL;

  const routes = new Map<FieldNode, Route[]>();
  let visits = 0;
  const walk = (
    set: SelectionSetNode,
    keys: readonly string[],
    conditions: readonly Condition[],
    spreading: readonly string[],
  ): boolean => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (++visits > MAX_VISITS) return false;
        const own = [...keys, selection.alias?.value ?? selection.name.value];
        const list = routes.get(selection);
        if (list) list.push({ keys: own, conditions });
        else routes.set(selection, [{ keys: own, conditions }]);
        if (!selection.selectionSet) continue;
        const stream = selection.directives?.find((d) => d.name.value === 'stream');
        const inner = stream
          ? [
              ...conditions,
              {
                kind: 'stream' as const,
                if: argument(stream, 'if'),
                initialCount: argument(stream, 'initialCount'),
                fields: own.length,
              },
            ]
          : conditions;
        if (!walk(selection.selectionSet, own, inner, spreading)) return false;
      } else {
        const defer = selection.directives?.find((d) => d.name.value === 'defer');
        const inner = defer ? [...conditions, { kind: 'defer' as const, if: argument(defer, 'if') }] : conditions;
        if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (!walk(selection.selectionSet, keys, inner, spreading)) return false;
        } else {
          const name = selection.name.value;
          const fragment = fragments[name];
          if (!fragment || spreading.includes(name)) continue; // validation forbids cycles; never loop anyway
          if (!walk(fragment.selectionSet, keys, inner, [...spreading, name])) return false;
        }
      }
    }
    return true;
  };
  // Too large to analyse: every field is read in the foreground (see the contract).
  if (!walk(operation.selectionSet, [], [], [])) return NOT_INCREMENTAL;
  return { incremental: true, routes };
}

function deferredAlong(conditions: readonly Condition[], info: GraphQLResolveInfo, path: (string | number)[]): boolean {
  for (const condition of conditions) {
    if (!booleanArg(condition.if, info.variableValues, true)) continue;
    if (condition.kind === 'defer') return true;
    const index = itemIndex(path, condition.fields);
    if (index !== undefined && index >= intArg(condition.initialCount, info.variableValues, 0)) return true;
  }
  return false;
}

/** The response path from the root, e.g. ['simList', 'nodes', 3, 'usage']. */
function pathOf(info: GraphQLResolveInfo): (string | number)[] {
  const path: (string | number)[] = [];
  for (let p: GraphQLResolveInfo['path'] | undefined = info.path; p; p = p.prev) path.push(p.key);
  return path.reverse();
}

/** The index right after the `fields`-th key of `path` (the item of that list field), if there is one. */
function itemIndex(path: (string | number)[], fields: number): number | undefined {
  let seen = 0;
  for (let i = 0; i < path.length; i++) {
    if (typeof path[i] === 'string' && ++seen === fields) {
      const next = path[i + 1];
      return typeof next === 'number' ? next : undefined;
    }
  }
  return undefined;
}

/** `keys` equals the string keys of `path` (list indices left out). */
function sameKeys(keys: readonly string[], path: (string | number)[]): boolean {
  let k = 0;
  for (const segment of path) {
    if (typeof segment === 'number') continue;
    if (keys[k++] !== segment) return false;
  }
  return k === keys.length;
}

function argument(directive: NonNullable<FieldNode['directives']>[number], name: string): ValueNode | undefined {
  return directive.arguments?.find((a) => a.name.value === name)?.value;
}

function booleanArg(value: ValueNode | undefined, variables: Record<string, unknown>, fallback: boolean): boolean {
  if (!value) return fallback;
  if (value.kind === Kind.BOOLEAN) return value.value;
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return typeof v === 'boolean' ? v : fallback;
  }
  return fallback;
}

function intArg(value: ValueNode | undefined, variables: Record<string, unknown>, fallback: number): number {
  if (!value) return fallback;
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return typeof v === 'number' ? v : fallback;
  }
  return fallback;
}
