// The load generator, always in its own process (spawned by run.ts): `node lib/load.mjs <job.json>`; prints one JSON
// line with the result. Modes:
//   autocannon  — N connections for `duration` s (or `amount` requests), bodies picked by weight/rotation; optionally
//                 counts responses whose body carries GraphQL `errors` (countErrors; costs some load-generator CPU).
//   sequential  — one keep-alive connection, one request at a time, hrtime per request: sub-millisecond p50/p99
//                 (autocannon's histogram has 1 ms resolution, too coarse for a ≤ 1 ms target).
// `fieldStats: ['usage', …]` (autocannon mode): also parses every response and counts, per named field of each object
// that has an `iccid`, the values answered fresh, answered stale (`stale: true` inside the value), and null — and of
// the nulls, those of a (ICCID, field) answered earlier in the run ("lost": a value that had been served once).
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { Client } from 'undici';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const markers = job.errorMarkers ?? ['"errors"'];
const hasError = (body) => markers.some((m) => body.includes(m));
const headers = {
  'content-type': 'application/json',
  accept: 'application/graphql-response+json, application/json',
  ...job.headers,
};

/**
 * A group whose every request carries different variables: `size` distinct ICCIDs drawn from `pool` (a seeded
 * partial Fisher–Yates shuffle per request), so no two requests of a run are alike (100 choose 25, ordered, is
 * ~10^48 windows): a whole-response cache can never answer one from another. The pool is what the runner warmed.
 */
function distinctBodies({ operationName, query, pool, size, seed = 7 }) {
  let state = seed >>> 0 || 1;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const deck = [...pool];
  return () => {
    for (let i = 0; i < size; i++) {
      const j = i + Math.floor(random() * (deck.length - i));
      [deck[i], deck[j]] = [deck[j], deck[i]];
    }
    return JSON.stringify({ operationName, query, variables: { iccids: deck.slice(0, size) } });
  };
}

/**
 * Bodies: [{ weight, bodies: [string…] } | { weight, distinct: {…} }] — a group is picked by weight, then its bodies
 * rotate (or, for a `distinct` group, a new body is made per request).
 */
function picker(groups) {
  const total = groups.reduce((s, g) => s + g.weight, 0);
  const next = groups.map(() => 0);
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  return () => {
    let r = random() * total;
    let i = 0;
    while (r >= groups[i].weight && i < groups.length - 1) r -= groups[i++].weight;
    const g = groups[i];
    if (g.distinct) {
      g.make ??= distinctBodies(g.distinct);
      return g.make();
    }
    return g.bodies[next[i]++ % g.bodies.length];
  };
}

async function runAutocannon() {
  const pick = picker(job.groups);
  let gqlErrors = 0;
  let responses = 0;
  const request = {
    method: 'POST',
    path: job.path ?? '/graphql',
    headers,
  };
  const single = job.groups.length === 1 && job.groups[0].bodies?.length === 1;
  if (single)
    request.body = job.groups[0].bodies[0]; // static request: the cheapest for the load generator
  else
    request.setupRequest = (req) => {
      req.body = pick();
      return req;
    };
  const fields = job.fieldStats ? newFieldStats(job.fieldStats) : null;
  // First request sent → last response received, measured here: autocannon's own run time ends on its 1 s ticker.
  let startedAt = 0;
  let lastResponseAt = 0;
  if (job.countErrors || fields) {
    request.onResponse = (status, body) => {
      lastResponseAt = performance.now();
      responses++;
      if (status === 200 && body && hasError(body)) gqlErrors++;
      if (fields && status === 200 && body) fields.add(body);
    };
  }
  const opts = { url: job.url, connections: job.connections, requests: [request], timeout: job.timeoutSeconds ?? 30 };
  if (job.amount) opts.amount = job.amount;
  else opts.duration = job.duration;
  startedAt = performance.now();
  const r = await autocannon(opts);
  return {
    ...(lastResponseAt ? { elapsedSeconds: (lastResponseAt - startedAt) / 1000 } : {}),
    requestsPerSecond: r.requests.average,
    latencyP50: r.latency.p50,
    latencyP99: r.latency.p99,
    latencyAvg: r.latency.average,
    total: r.requests.total,
    durationSeconds: r.duration,
    non2xx: r.non2xx,
    socketErrors: r.errors,
    timeouts: r.timeouts,
    gqlErrors: job.countErrors ? gqlErrors : null,
    checkedResponses: job.countErrors ? responses : null,
    bytesPerSecond: r.throughput.average,
    ...(fields ? { fields: fields.result() } : {}),
  };
}

/** Per-field counts over parsed responses (see the header). */
function newFieldStats(names) {
  const counts = Object.fromEntries(names.map((n) => [n, { fresh: 0, stale: 0, null: 0, lost: 0 }]));
  const answered = new Set();
  const visit = (node) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    if (typeof node.iccid === 'string')
      for (const name of names) {
        if (!(name in node)) continue;
        const key = `${node.iccid}:${name}`;
        const value = node[name];
        if (value === null) {
          counts[name].null++;
          if (answered.has(key)) counts[name].lost++;
        } else {
          answered.add(key);
          if (value.stale === true) counts[name].stale++;
          else counts[name].fresh++;
        }
      }
    for (const child of Object.values(node)) if (child && typeof child === 'object') visit(child);
  };
  return {
    add(body) {
      try {
        visit(JSON.parse(body).data);
      } catch {
        // not JSON (counted as an error response elsewhere)
      }
    },
    result: () => counts,
  };
}

async function runSequential() {
  const pick = picker(job.groups);
  const client = new Client(job.url, { pipelining: 1, keepAliveTimeout: 60_000 });
  const path = job.path ?? '/graphql';
  const once = async () => {
    const res = await client.request({ method: 'POST', path, headers, body: pick() });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  };
  for (let i = 0; i < 200; i++) await once(); // warm the connection and the server's JIT
  const samples = [];
  let non2xx = 0;
  let gqlErrors = 0;
  const end = performance.now() + job.duration * 1000;
  const started = performance.now();
  while (performance.now() < end) {
    const t0 = process.hrtime.bigint();
    const { status, text } = await once();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (status !== 200) non2xx++;
    else if (hasError(text)) gqlErrors++;
  }
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  samples.sort((a, b) => a - b);
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return {
    requestsPerSecond: samples.length / seconds,
    latencyP50: q(0.5),
    latencyP99: q(0.99),
    latencyAvg: samples.reduce((s, x) => s + x, 0) / samples.length,
    total: samples.length,
    durationSeconds: seconds,
    non2xx,
    socketErrors: 0,
    timeouts: 0,
    gqlErrors,
    checkedResponses: samples.length,
  };
}

const result = job.mode === 'sequential' ? await runSequential() : await runAutocannon();
process.stdout.write(`${JSON.stringify(result)}\n`);
