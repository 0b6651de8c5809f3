/**
 * Peer (b): a hand-written Apollo Server 5 gateway, the idiomatic way — `startStandaloneServer`, one
 * `RESTDataSource` per request sharing the server's cache (`server.cache`, an in-memory LRU), per-resource
 * `cacheOptions.ttl` equal to the gateway's TTLs, and RESTDataSource's built-in per-request GET deduplication.
 */

import { type AugmentedRequest, RESTDataSource } from '@apollo/datasource-rest';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { GraphQLError } from 'graphql';
import {
  announce,
  exitOnSignals,
  fetchToken,
  normHistory,
  normTopups,
  normUsage,
  PORT,
  SDL,
  TTL,
  UPSTREAM_URL,
} from './common.ts';

class UpstreamAPI extends RESTDataSource {
  override baseURL = `${UPSTREAM_URL}/`;
  constructor(
    private readonly token: string,
    cache: KeyValueCache,
  ) {
    super({ cache });
  }
  protected override willSendRequest(_path: string, request: AugmentedRequest): void {
    request.headers.authorization = `Bearer ${this.token}`;
    request.headers.accept = 'application/json';
  }
  sim(iccid: string) {
    return this.get(`sims/${encodeURIComponent(iccid)}`, { cacheOptions: { ttl: TTL.details } });
  }
  usage(iccid: string) {
    return this.get(`sims/${encodeURIComponent(iccid)}/usage`, { cacheOptions: { ttl: TTL.usage } });
  }
  topups(iccid: string) {
    return this.get(`sims/${encodeURIComponent(iccid)}/topups`, { cacheOptions: { ttl: TTL.topups } });
  }
  history(iccid: string) {
    return this.get(`sims/${encodeURIComponent(iccid)}/packages`, { cacheOptions: { ttl: TTL.history } });
  }
}

interface Context {
  dataSources: { api: UpstreamAPI };
}

/** Unknown ICCID → null in its own slot (and an error), like the gateway. */
async function loadSim(api: UpstreamAPI, iccid: string) {
  try {
    const body = await api.sim(iccid);
    return { iccid: String(body.data.iccid) };
  } catch (error) {
    if ((error as { extensions?: { response?: { status?: number } } }).extensions?.response?.status === 404) {
      throw new GraphQLError('SIM not found', { extensions: { code: 'SIM_NOT_FOUND' } });
    }
    throw error;
  }
}

const resolvers = {
  Query: {
    sim: (_: unknown, { iccid }: { iccid: string }, { dataSources }: Context) => loadSim(dataSources.api, iccid),
    sims: (_: unknown, { iccids }: { iccids: string[] }, { dataSources }: Context) =>
      iccids.map((iccid) => loadSim(dataSources.api, iccid)),
  },
  Sim: {
    usage: async ({ iccid }: { iccid: string }, _: unknown, { dataSources }: Context) =>
      normUsage(await dataSources.api.usage(iccid)),
    topupPackages: async ({ iccid }: { iccid: string }, _: unknown, { dataSources }: Context) =>
      normTopups(await dataSources.api.topups(iccid)),
    packageHistory: async ({ iccid }: { iccid: string }, _: unknown, { dataSources }: Context) =>
      normHistory(await dataSources.api.history(iccid)),
  },
};

const token = await fetchToken();
const server = new ApolloServer<Context>({ typeDefs: SDL, resolvers, introspection: false });
const { url } = await startStandaloneServer(server, {
  listen: { port: PORT, host: '127.0.0.1' },
  context: async () => ({ dataSources: { api: new UpstreamAPI(token, server.cache) } }),
});
announce({ address: () => ({ port: Number(new URL(url).port) }) });
exitOnSignals(() => server.stop());
