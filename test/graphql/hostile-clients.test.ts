/** Hostile or careless clients: each class of abuse is refused with a typed error, before any upstream call. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.ts';

let h: Harness;
let iccid: string;
beforeAll(async () => {
  h = await startHarness({
    env: {
      MAX_QUERY_DEPTH: '6',
      MAX_QUERY_ALIASES: '10',
      MAX_QUERY_TOKENS: '500',
      MAX_QUERY_COST: '2000',
      MAX_REQUEST_BYTES: '4096',
    },
  });
  iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
});
afterAll(async () => h?.close());

const firstCode = (r: { errors?: { extensions?: Record<string, unknown> }[] }) => r.errors?.[0]?.extensions?.code;

describe('hostile clients', () => {
  it('rejects queries that are too deep', async () => {
    const atLimit = `{ simList { edges { node { packageHistory { package { title } } } } } }`;
    expect((await h.gql(atLimit)).errors).toBeUndefined();
    const tooDeep = `{ simList { edges { node { packageHistory { package { price { amount } } } } } } }`;
    expect(firstCode(await h.gql(tooDeep))).toBe('QUERY_TOO_COMPLEX');
  });

  it('rejects too many aliases', async () => {
    const aliases = Array.from({ length: 11 }, (_, i) => `a${i}: sim(iccid: "${iccid}") { iccid }`).join(' ');
    expect(firstCode(await h.gql(`{ ${aliases} }`))).toBe('QUERY_TOO_COMPLEX');
  });

  it('rejects too many tokens and too many directives', async () => {
    const fields = Array.from({ length: 600 }, () => 'iccid').join(' ');
    expect(firstCode(await h.gql(`{ sim(iccid: "${iccid}") { ${fields} } }`))).toBe('QUERY_TOO_COMPLEX');
    const directives = Array.from({ length: 25 }, () => '@include(if: true)').join(' ');
    expect(firstCode(await h.gql(`{ sim(iccid: "${iccid}") { iccid ${directives} } }`))).toBe('QUERY_TOO_COMPLEX');
  });

  it('rejects an over-expensive query', async () => {
    const fat = (alias: string) =>
      `${alias}: simList(first: 100) { edges { node { usage { status remainingMb totalMb usedMb } topupPackages { id title price { amount currency } } packageHistory { id package { id title price { amount } } } } } }`;
    expect(firstCode(await h.gql(`{ ${['a', 'b', 'c', 'd', 'e', 'f'].map(fat).join(' ')} }`))).toBe(
      'QUERY_TOO_COMPLEX',
    );
  });

  it('names the cost limit in a plain message, not a "Syntax Error"', async () => {
    const nodes = 'nodes { iccid usage { status remainingMb } topupPackages { id title } }';
    const callsBefore = h.sandbox.control.countCalls({});
    const result = await h.gql(`{ a: simList(first: 100) { ${nodes} } b: simList(first: 100) { ${nodes} } }`);
    expect(result.data).toBeUndefined();
    expect(result.errors).toHaveLength(1);
    const error = result.errors![0]!;
    expect(error.message).toMatch(/^Query cost \d+ exceeds the limit of 2000 \(MAX_QUERY_COST\)/);
    expect(error.message).not.toMatch(/Syntax Error/);
    expect(error.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', maxCost: 2000 });
    expect(error.extensions!.cost).toBeGreaterThan(2000);
    expect(h.sandbox.control.countCalls({})).toBe(callsBefore);
  });

  it('reports an out-of-range simList(first:) rather than the cost it causes', async () => {
    const result = await h.gql('{ simList(first: 100000) { nodes { iccid usage { status } } } }');
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.message).toBe(
      'first must be between 1 and 100 (MAX_SIM_LIST_PAGE); page with after: endCursor.',
    );
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    // Through a variable the cost is not multiplied: the resolver refuses it, with the same message, on that field only.
    const viaVariable = await h.gql('query ($n: Int) { simList(first: $n) { totalCount } }', { n: 100000 });
    expect(viaVariable.data).toEqual({ simList: null });
    expect(viaVariable.errors![0]).toMatchObject({
      message: result.errors![0]!.message,
      path: ['simList'],
      extensions: { code: 'BAD_USER_INPUT', field: 'first' },
    });
    // In range but too expensive: the cost error.
    const fat = await h.gql(
      '{ simList(first: 100) { nodes { iccid usage { status remainingMb totalMb usedMb } topupPackages { id title } } } }',
    );
    expect(fat.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('labels the other armor limits without "Syntax Error"', async () => {
    const tooDeep = await h.gql(`{ simList { edges { node { packageHistory { package { price { amount } } } } } } }`);
    expect(tooDeep.errors![0]!.message).not.toMatch(/^Syntax Error/);
    expect(tooDeep.errors![0]!.message).toMatch(/depth/i);
  });

  it('masks field suggestions', async () => {
    const result = await h.gql(`{ sim(iccid: "${iccid}") { iccd } }`);
    expect(result.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  it('refuses a body over the size limit (413) and a body of unknown length (411)', async () => {
    const big = JSON.stringify({ query: `{ __typename }`, padding: 'x'.repeat(5000) });
    const tooBig = await h.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
      body: big,
    });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as any).errors[0].extensions.code).toBe('REQUEST_TOO_LARGE');
    const unknownLength = await h.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
    });
    expect(unknownLength.status).toBe(411);
  });

  it('refuses a mutation over GET', async () => {
    const query = encodeURIComponent(
      'mutation { purchaseTopup(input: {iccid: "1", packageId: "p", idempotencyKey: "k"}) { __typename } }',
    );
    const response = await h.fetch(`/graphql?query=${query}`, {
      headers: { 'x-graphql-csrf': '1', accept: 'application/json' },
    });
    expect(response.status).toBe(405);
    expect(h.sandbox.control.orders()).toHaveLength(0);
  });

  it('refuses simple (non-preflighted) requests without the CSRF header, naming the header and when it is needed', async () => {
    const response = await h.fetch(`/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(403);
    const error = ((await response.json()) as any).errors[0];
    expect(error.extensions.code).toBe('CSRF_HEADER_REQUIRED');
    expect(error.message).toContain('x-graphql-csrf');
    expect(error.message).toMatch(/GET/);
    expect(error.message).toMatch(/application\/json/);
    const textPlain = await h.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'content-length': '26' },
      body: '{"query":"{ __typename }"}',
    });
    expect(textPlain.status).toBe(403);
    const withHeader = await h.fetch(`/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json', 'x-graphql-csrf': '1' },
    });
    expect(withHeader.status).toBe(200);
  });

  it('allows at most one purchaseTopup per document, fragments and aliases included', async () => {
    const document = `
      mutation Twice { a: purchaseTopup(input: {iccid: "${iccid}", packageId: "p", idempotencyKey: "k1"}) { ...R } ...More }
      fragment More on Mutation { b: purchaseTopup(input: {iccid: "${iccid}", packageId: "p", idempotencyKey: "k2"}) { ...R } }
      fragment R on PurchaseTopupResult { __typename }`;
    const result = await h.gql(document);
    expect(firstCode(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toMatch(/one purchaseTopup/);
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(0);
  });

  it('limits batched operations', async () => {
    const batch = JSON.stringify(Array.from({ length: 6 }, () => ({ query: '{ __typename }' })));
    const response = await h.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(batch.length) },
      body: batch,
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
  });

  it('masks unexpected errors: no stack, no internal message', async () => {
    const broken = await startHarness();
    try {
      // Sabotage the upstream client so a resolver throws a plain Error.
      (broken.gateway.services.caches.usage as any).options.load = async () => {
        throw new Error('internal detail: db password=hunter2');
      };
      const id = broken.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
      const result = await broken.gql(`{ sim(iccid: "${id}") { usage { status } } }`);
      expect(result.errors![0]!.message).toBe('Unexpected error.');
      expect(JSON.stringify(result)).not.toMatch(/hunter2|internal detail|stack/);
    } finally {
      await broken.close();
    }
  });
});

describe('production switches', () => {
  it('turns introspection and GraphiQL off', async () => {
    const prod = await startHarness({ env: { INTROSPECTION: 'false', GRAPHIQL: 'false' } });
    try {
      const result = await prod.gql('{ __schema { types { name } } }');
      expect(result.errors?.length).toBeGreaterThan(0);
      const page = await prod.fetch('/graphql', { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/graphiql/i);
    } finally {
      await prod.close();
    }
  });
});
