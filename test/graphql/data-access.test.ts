/**
 * The response-cache rule "impossible to forget": resolvers read only through the request's data access object,
 * which records every read itself. A resolver added to a schema of its own, served through the real context
 * factory, guard plugin and HTTP fast path, is cached when it reads a per-ICCID resource and never cached when it
 * reads the upstream directly — without calling anything but the DAO. The context type exposes no upstream access.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import SchemaBuilder from '@pothos/core';
import { createYoga } from 'graphql-yoga';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../src/app/http-handler.ts';
import { createContext, type GatewayContext, type GatewayServerContext } from '../../src/graphql/context.ts';
import { useResponseCacheGuard } from '../../src/graphql/plugins/response-cache-guard.ts';
import { type Harness, startHarness } from '../support/harness.ts';

const KEY = 'partner-a-key-0123456789abcdefghij';

/** A schema a new contributor might write: one resolver per DAO path. */
function testSchema() {
  const builder = new SchemaBuilder<{ Context: GatewayContext }>({});
  builder.queryType({
    fields: (t) => ({
      remainingMb: t.int({
        nullable: true,
        args: { iccid: t.arg.string({ required: true }) },
        resolve: async (_root, { iccid }, ctx) => (await ctx.data.usage(iccid)).value.remainingMb,
      }),
      listedTotal: t.int({
        resolve: async (_root, _args, ctx) =>
          (await ctx.data.uncached('sims', 1, (client, signal) => client.listSims({ limit: 1, page: 1 }, signal))).page
            .total,
      }),
      noDirectAccess: t.boolean({
        resolve: (_root, _args, ctx) => {
          // The type system refuses every way around the DAO.
          // @ts-expect-error the upstream client is not in the resolver context
          void ctx.client;
          // @ts-expect-error nor are the resource caches
          void ctx.caches;
          // @ts-expect-error nor the purchase service
          void ctx.purchases;
          // @ts-expect-error nor the response-cache dependency tracker
          void ctx.dependencies;
          // @ts-expect-error nor the loaders
          void ctx.loaders;
          // @ts-expect-error the DAO keeps its client private
          void ctx.data.client;
          return true;
        },
      }),
    }),
  });
  return builder.toSchema();
}

let h: Harness;
let server: Server;
let url: string;

async function start() {
  h = await startHarness({ env: { AUTH_API_KEYS: `a:${KEY}` } });
  const services = h.gateway.services;
  const yoga = createYoga<GatewayServerContext, GatewayContext>({
    schema: testSchema(),
    graphqlEndpoint: '/graphql',
    context: ({ request, dependencies }) => createContext(services, request, dependencies ? { dependencies } : {}),
    plugins: [useResponseCacheGuard()],
  });
  server = createServer(createHttpHandler({ ...h.gateway, yoga }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

async function post(query: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify({ query }),
  });
  return {
    cache: response.headers.get('x-response-cache'),
    json: (await response.json()) as { data?: any; errors?: unknown[] },
  };
}

describe('data access object', () => {
  it('records a per-ICCID read by itself: a new resolver reading through it is response-cached', async () => {
    await start();
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    const query = `{ remainingMb(iccid: "${iccid}") noDirectAccess }`;
    expect((await post(query)).json.errors).toBeUndefined();
    await post(query);
    const calls = h.sandbox.control.countCalls();
    const hit = await post(query);
    expect(hit.cache).toBe('hit');
    expect(h.sandbox.control.countCalls()).toBe(calls);
    // The DAO noted the dependency: a change to that usage drops the stored response.
    h.gateway.services.caches.usage.invalidate(iccid!);
    expect((await post(query)).cache).toBeNull();
  });

  it('marks a response uncacheable when a resolver reads the upstream directly (alone or beside cached reads)', async () => {
    await start();
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    for (const query of ['{ listedTotal }', `{ remainingMb(iccid: "${iccid}") listedTotal }`]) {
      for (let i = 0; i < 3; i++) {
        const calls = h.sandbox.control.countCalls({ endpoint: 'sims' });
        const answer = await post(query);
        expect(answer.json.errors).toBeUndefined();
        expect(answer.json.data.listedTotal).toBeGreaterThan(0);
        expect(answer.cache).toBeNull();
        expect(h.sandbox.control.countCalls({ endpoint: 'sims' })).toBe(calls + 1); // really went upstream
      }
    }
    expect(h.gateway.responseCache!.size).toBe(0);
  });

  it('counts direct upstream reads against the request allowance', async () => {
    await start();
    const services = h.gateway.services;
    const context = await createContext(
      { ...services, config: { ...services.config, maxUpstreamCallsPerRequest: 1 } },
      new Request('http://x/graphql', { headers: { 'x-api-key': KEY } }),
    );
    const read = () =>
      context.data.uncached('sims', 1, (client, signal) => client.listSims({ limit: 1, page: 1 }, signal));
    await read();
    await expect(read()).rejects.toMatchObject({ name: 'CallAllowanceExceededError' });
  });
});
