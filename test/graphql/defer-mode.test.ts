/**
 * `readMode(info)` (src/graphql/defer.ts) on a small schema executed by Yoga's executor with @defer/@stream: each
 * resolver records the mode it sees, by response path. Also which requests may be answered incrementally.
 */
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { getOperationAST, parse } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { isIncrementalDocument, mayDeliverIncrementally, readMode, streamedFrom } from '../../src/graphql/defer.ts';
import { readAll } from '../support/incremental.ts';

interface Item {
  id: number;
}

/** Runs `query` and returns "path: mode" for every `a`/`b` resolved (and "items: streamed from n"), sorted. */
async function modes(query: string, variables: Record<string, unknown> = {}): Promise<string[]> {
  const seen: string[] = [];
  const record = (info: Parameters<typeof readMode>[0]) => {
    const path: (string | number)[] = [];
    for (let p: typeof info.path | undefined = info.path; p; p = p.prev) path.unshift(p.key);
    seen.push(`${path.join('.')}: ${readMode(info)}`);
  };
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: /* GraphQL */ `
        directive @defer(if: Boolean! = true, label: String) on FRAGMENT_SPREAD | INLINE_FRAGMENT
        directive @stream(if: Boolean! = true, label: String, initialCount: Int = 0) on FIELD
        type Query {
          item: Item!
          items: [Item!]!
        }
        type Item {
          id: Int!
          a: Int
          b: Int
          child: Item
        }
      `,
      resolvers: {
        Query: {
          item: () => ({ id: 0 }),
          items: (_root: unknown, _args: unknown, _ctx: unknown, info: Parameters<typeof readMode>[0]) => {
            const from = streamedFrom(info);
            if (from !== undefined) seen.push(`items: streamed from ${from}`);
            return [0, 1, 2, 3].map((id) => ({ id }));
          },
        },
        Item: {
          a: (item: Item, _args: unknown, _ctx: unknown, info: Parameters<typeof readMode>[0]) => {
            record(info);
            return item.id;
          },
          b: (item: Item, _args: unknown, _ctx: unknown, info: Parameters<typeof readMode>[0]) => {
            record(info);
            return item.id;
          },
          child: (item: Item) => ({ id: item.id + 10 }),
        },
      },
    }),
    plugins: [useDeferStream()],
    maskedErrors: false,
    logging: false,
  });
  const response = await yoga.fetch('http://test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'multipart/mixed' },
    body: JSON.stringify({ query, variables }),
  });
  for (const payload of await readAll(response)) {
    expect(payload.errors).toBeUndefined();
    for (const entry of payload.incremental ?? []) expect(entry.errors).toBeUndefined();
  }
  return seen.sort();
}

describe('readMode', () => {
  it('a document without @defer/@stream: every field is foreground', async () => {
    expect(await modes('{ item { a b child { a } } }')).toEqual([
      'item.a: foreground',
      'item.b: foreground',
      'item.child.a: foreground',
    ]);
  });

  it('under an inline fragment or a spread with @defer: deferred, descendants included', async () => {
    expect(await modes('{ item { a ... @defer { b child { a } } } }')).toEqual([
      'item.a: foreground',
      'item.b: deferred',
      'item.child.a: deferred',
    ]);
    expect(await modes('fragment F on Item { b } { item { a ...F @defer } }')).toEqual([
      'item.a: foreground',
      'item.b: deferred',
    ]);
    // A deferred parent defers its whole subtree.
    expect(await modes('{ ... @defer { item { a } } }')).toEqual(['item.a: deferred']);
  });

  it('honours `if`: literal, variable, variable default', async () => {
    const query = 'query ($d: Boolean!) { item { ... @defer(if: $d) { b } } }';
    expect(await modes('{ item { ... @defer(if: false) { b } } }')).toEqual(['item.b: foreground']);
    expect(await modes(query, { d: false })).toEqual(['item.b: foreground']);
    expect(await modes(query, { d: true })).toEqual(['item.b: deferred']);
    expect(await modes('query ($d: Boolean = false) { item { ... @defer(if: $d) { b } } }')).toEqual([
      'item.b: foreground',
    ]);
  });

  it('@stream: items before initialCount are foreground, the rest deferred (if and initialCount honoured)', async () => {
    expect(await modes('{ items @stream(initialCount: 2) { a } }')).toEqual([
      'items.0.a: foreground',
      'items.1.a: foreground',
      'items.2.a: deferred',
      'items.3.a: deferred',
      'items: streamed from 2',
    ]);
    expect(await modes('query ($n: Int!) { items @stream(initialCount: $n) { a } }', { n: 3 })).toEqual([
      'items.0.a: foreground',
      'items.1.a: foreground',
      'items.2.a: foreground',
      'items.3.a: deferred',
      'items: streamed from 3',
    ]);
    expect(await modes('{ items @stream(if: false) { a } }')).toEqual([
      'items.0.a: foreground',
      'items.1.a: foreground',
      'items.2.a: foreground',
      'items.3.a: foreground',
    ]);
  });

  it('one fragment spread in several places: decided by the response path', async () => {
    expect(await modes('fragment F on Item { a } { now: item { ...F } later: item { ... @defer { ...F } } }')).toEqual([
      'later.a: deferred',
      'now.a: foreground',
    ]);
  });

  it('a field selected for the first payload and again under @defer: each execution gets its own mode', async () => {
    expect(await modes('{ item { b ... @defer { b } } }')).toEqual(['item.b: deferred', 'item.b: foreground']);
  });

  it('the same field node reached by a deferred and a non-deferred route at the same path: foreground (both share a read)', async () => {
    const seen = await modes('fragment F on Item { a } { item { ...F ... @defer { ...F } } }');
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['item.a: foreground']));
  });
});

describe('which requests may be answered incrementally', () => {
  const may = (source: string, variables?: Record<string, unknown>) => {
    const document = parse(source);
    return mayDeliverIncrementally(document, getOperationAST(document)!, variables);
  };

  it('an active @defer or @stream anywhere the operation reaches; `if` as literal, variable or default', () => {
    expect(may('{ item { a } }')).toBe(false);
    expect(may('{ item { ... @defer { a } } }')).toBe(true);
    expect(may('{ items @stream { a } }')).toBe(true);
    expect(may('{ item { ... @defer(if: false) { a } } }')).toBe(false);
    expect(may('query ($d: Boolean!) { item { ... @defer(if: $d) { a } } }', { d: false })).toBe(false);
    expect(may('query ($d: Boolean!) { item { ... @defer(if: $d) { a } } }', { d: true })).toBe(true);
    expect(may('query ($d: Boolean = false) { item { ... @defer(if: $d) { a } } }', {})).toBe(false);
    expect(may('query ($d: Boolean = false) { item { ... @defer(if: $d) { a } } }', { d: true })).toBe(true);
    expect(may('fragment F on Item { ... @defer { a } } { item { ...F } }')).toBe(true);
    expect(may('fragment F on Item { a } { item { ...F @defer } }')).toBe(true);
  });

  it('isIncrementalDocument: any @defer/@stream, whatever its `if` (graphql-jit then stays out)', () => {
    expect(isIncrementalDocument(parse('{ item { a } }'))).toBe(false);
    expect(isIncrementalDocument(parse('{ item { ... @defer(if: false) { a } } }'))).toBe(true);
    expect(isIncrementalDocument(parse('fragment F on Item { a } { items @stream(if: false) { ...F } }'))).toBe(true);
  });
});
