/**
 * Peer (c): Fastify + Mercurius, the idiomatic way — `loaders` batch each nested resource per request (one upstream
 * call per distinct ICCID, concurrently), and `mercurius-cache` caches each field per ICCID across requests with the
 * gateway's TTLs (async-cache-dedupe: in-memory, concurrent misses coalesced); details use async-cache-dedupe directly.
 * Upstream calls go through one undici Pool (16 connections, like the gateway's UPSTREAM_CONNECTIONS default).
 */

import { createCache } from 'async-cache-dedupe';
import Fastify from 'fastify';
import mercurius from 'mercurius';
import mercuriusCache from 'mercurius-cache';
import { Pool } from 'undici';
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

const base = new URL(UPSTREAM_URL);
const pool = new Pool(base.origin, { connections: Number(process.env.UPSTREAM_CONNECTIONS ?? 16) });
const token = await fetchToken();
const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };

class NotFound extends Error {}

async function get(path: string): Promise<any> {
  const res = await pool.request({ method: 'GET', path: `${base.pathname}/${path}`, headers });
  if (res.statusCode === 404) {
    await res.body.dump();
    throw new NotFound('SIM not found');
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`upstream ${path}: HTTP ${res.statusCode}`);
  }
  return res.body.json();
}

// Details (the existence check) are read by the root resolvers, which cannot be loaders: cache them per ICCID with the
// library mercurius-cache is built on.
const details = createCache({ ttl: TTL.details, storage: { type: 'memory', options: { size: 100_000 } } }).define(
  'details',
  { serialize: (iccid: string) => iccid },
  async (iccid: string) => {
    await get(`sims/${encodeURIComponent(iccid)}`);
    return { iccid };
  },
);
const sim = (iccid: string): Promise<{ iccid: string }> => (details as any).details(iccid);

type Query = { obj: { iccid: string } };
/** A Mercurius loader gets every (parent, args) of one field in the request; one result per query, in order. */
const loader =
  <T>(resource: string, normalise: (body: unknown) => T) =>
  async (queries: Query[]) => {
    const distinct = [...new Set(queries.map((q) => q.obj.iccid))];
    const settled = await Promise.allSettled(
      distinct.map((iccid) => get(`sims/${encodeURIComponent(iccid)}/${resource}`).then(normalise)),
    );
    const byIccid = new Map(distinct.map((iccid, i) => [iccid, settled[i]!]));
    return queries.map((q) => {
      const r = byIccid.get(q.obj.iccid)!;
      return r.status === 'fulfilled' ? r.value : r.reason;
    });
  };

const app = Fastify({ logger: false });
await app.register(mercurius, {
  schema: SDL,
  resolvers: {
    Query: {
      sim: (_: unknown, { iccid }: { iccid: string }) => sim(iccid),
      sims: (_: unknown, { iccids }: { iccids: string[] }) => iccids.map((iccid) => sim(iccid).catch((e) => e)),
    },
  },
  loaders: {
    Sim: {
      usage: loader('usage', normUsage),
      topupPackages: loader('topups', normTopups),
      packageHistory: loader('packages', normHistory),
    },
  },
});
const byIccid = { key: ({ self }: { self: { iccid: string } }) => self.iccid };
await app.register(mercuriusCache, {
  // the gateway's CACHE_MAX_SIMS default (async-cache-dedupe's default is 1024 entries per field)
  storage: { type: 'memory', options: { size: 100_000 } },
  policy: {
    Sim: {
      usage: { ttl: TTL.usage, ...byIccid },
      topupPackages: { ttl: TTL.topups, ...byIccid },
      packageHistory: { ttl: TTL.history, ...byIccid },
    },
  },
});
await app.listen({ port: PORT, host: '127.0.0.1' });
announce(app.server);
exitOnSignals(async () => {
  await app.close();
  await pool.close();
});
