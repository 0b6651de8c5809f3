/**
 * The operations the scenarios send, as request bodies: the GraphQL dialect (ours, Apollo, Mercurius and the REST BFF,
 * which recognises them by operationName) and the equivalent for the Mesh-generated schema (one aliased root field
 * per (SIM, resource), since a generated gateway has no `Sim` type that links them).
 */
import { createHash } from 'node:crypto';

/** Our gateway authenticates callers (AUTH_API_KEYS); every client sends this key, the peers ignore it. */
export const API_KEY = 'bench-api-key-0123456789abcdef';

const USAGE = 'usage { status remainingMb totalMb }';
const TOPUPS = 'topupPackages { id title price { amount currency } }';
const HISTORY = 'packageHistory { id status package { id title } }';

export const SCREEN_QUERY = `query Screen($iccids: [ID!]!) { sims(iccids: $iccids) { iccid ${USAGE} ${TOPUPS} ${HISTORY} } }`;
export const SIMS_USAGE_QUERY = `query SimsUsage($iccids: [ID!]!) { sims(iccids: $iccids) { iccid ${USAGE} } }`;
export const SIM_USAGE_QUERY = `query SimUsage($iccid: ID!) { sim(iccid: $iccid) { iccid ${USAGE} } }`;
export const SIM_TOPUPS_QUERY = `query SimTopups($iccid: ID!) { sim(iccid: $iccid) { iccid ${TOPUPS} } }`;

// Our gateway only (the peers' schemas have neither): usage with its `stale` flag, so that a load run can tell fresh
// answers from stale ones (scenario 7), and the screen with usage under `@defer` (scenario 8).
const USAGE_WITH_FRESHNESS = 'usage { status remainingMb totalMb stale }';
export const SCREEN_FRESHNESS_QUERY = `query Screen($iccids: [ID!]!) { sims(iccids: $iccids) { iccid ${USAGE_WITH_FRESHNESS} ${TOPUPS} ${HISTORY} } }`;
export const SIM_USAGE_FRESHNESS_QUERY = `query SimUsage($iccid: ID!) { sim(iccid: $iccid) { iccid ${USAGE_WITH_FRESHNESS} } }`;
export const SCREEN_DEFERRED_QUERY = `query ScreenDeferred($iccids: [ID!]!) { sims(iccids: $iccids) { iccid ${TOPUPS} ${HISTORY} ... @defer { ${USAGE} } } }`;

/** `persisted`: our gateway's trusted documents — the GraphQL dialect's bodies with `documentId` instead of `query`. */
export type Dialect = 'graphql' | 'mesh' | 'persisted' | 'freshness';
export type Operation =
  | { name: 'Screen'; iccids: string[] }
  | { name: 'SimsUsage'; iccids: string[] }
  | { name: 'SimUsage'; iccid: string }
  | { name: 'SimTopups'; iccid: string }
  | { name: 'ScreenDeferred'; iccids: string[] };

export function body(op: Operation, dialect: Dialect): string {
  if (dialect === 'mesh') return JSON.stringify({ query: meshQuery(op) });
  if (dialect === 'persisted') return persistedBody(op);
  if (dialect === 'freshness' && op.name === 'Screen')
    return JSON.stringify({ operationName: 'Screen', query: SCREEN_FRESHNESS_QUERY, variables: { iccids: op.iccids } });
  if (dialect === 'freshness' && op.name === 'SimUsage')
    return JSON.stringify({
      operationName: 'SimUsage',
      query: SIM_USAGE_FRESHNESS_QUERY,
      variables: { iccid: op.iccid },
    });
  switch (op.name) {
    case 'Screen':
      return JSON.stringify({ operationName: 'Screen', query: SCREEN_QUERY, variables: { iccids: op.iccids } });
    case 'SimsUsage':
      return JSON.stringify({ operationName: 'SimsUsage', query: SIMS_USAGE_QUERY, variables: { iccids: op.iccids } });
    case 'SimUsage':
      return JSON.stringify({ operationName: 'SimUsage', query: SIM_USAGE_QUERY, variables: { iccid: op.iccid } });
    case 'SimTopups':
      return JSON.stringify({ operationName: 'SimTopups', query: SIM_TOPUPS_QUERY, variables: { iccid: op.iccid } });
    case 'ScreenDeferred':
      return JSON.stringify({
        operationName: 'ScreenDeferred',
        query: SCREEN_DEFERRED_QUERY,
        variables: { iccids: op.iccids },
      });
  }
}

// ---- persisted documents (our gateway's PERSISTED_DOCUMENTS) -----------------------------------------------------------

/** The id codegen's client preset gives a document: `sha256:` + the SHA-256 hex of its text. */
export const documentId = (query: string) => `sha256:${createHash('sha256').update(query).digest('hex')}`;

/** The manifest the `persisted` variants load: every GraphQL-dialect document by its id. */
export const PERSISTED_MANIFEST: Record<string, string> = Object.fromEntries(
  [SCREEN_QUERY, SIMS_USAGE_QUERY, SIM_USAGE_QUERY, SIM_TOPUPS_QUERY].map((query) => [documentId(query), query]),
);

function persistedBody(op: Operation): string {
  const { query, ...rest } = JSON.parse(body(op, 'graphql')) as { query: string };
  return JSON.stringify({ documentId: documentId(query), ...rest });
}

// ---- Mesh (generated from the OpenAPI export; field names as mesh-compose derives them) ------------------------------

const meshDetails = (i: number, iccid: string) =>
  `d${i}: v2_sims_by_sim_iccid(sim_iccid: "${iccid}") { ... on v2_sims_by_sim_iccid_200_response { data { iccid } } }`;
const meshUsage = (i: number, iccid: string) =>
  `u${i}: v2_sims_by_sim_iccid_usage(sim_iccid: "${iccid}") { __typename ... on v2_sims_by_sim_iccid_usage_200_response { data { status remaining total is_unlimited } } }`;
const meshTopups = (i: number, iccid: string) =>
  `t${i}: v2_sims_by_iccid_topups(iccid: "${iccid}") { __typename ... on v2_sims_by_iccid_topups_200_response { data { id title price } } }`;
const meshHistory = (i: number, iccid: string) =>
  `h${i}: v2_sims_by_iccid_packages(iccid: "${iccid}") { __typename ... on v2_sims_by_iccid_packages_200_response { data { id status package { id title } } } }`;

function meshQuery(op: Operation): string {
  const fields: string[] = [];
  const iccids = 'iccids' in op ? op.iccids : [op.iccid];
  iccids.forEach((iccid, i) => {
    fields.push(meshDetails(i, iccid));
    if (op.name !== 'SimTopups') fields.push(meshUsage(i, iccid));
    if (op.name === 'Screen' || op.name === 'ScreenDeferred' || op.name === 'SimTopups')
      fields.push(meshTopups(i, iccid));
    if (op.name === 'Screen' || op.name === 'ScreenDeferred') fields.push(meshHistory(i, iccid));
  });
  return `query ${op.name} { ${fields.join(' ')} }`;
}

/** Strings whose presence in a response body means the client saw a failure (GraphQL errors; Mesh's typed 4xx). */
export const ERROR_MARKERS = ['"errors"', '_429_response', '_404_response', '_422_response'];

/**
 * A response is correct when it has no errors and every SIM carries every requested resource (non-null).
 * For the GraphQL dialect the data must also equal the reference (our gateway's answer), when one is given.
 */
export function check(op: Operation, dialect: Dialect, text: string, reference?: string): string | null {
  let json: { data?: Record<string, any>; errors?: unknown[] };
  try {
    json = JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 120)}`;
  }
  if (json.errors?.length) return `errors: ${JSON.stringify(json.errors).slice(0, 300)}`;
  const data = json.data;
  if (!data) return 'no data';
  const iccids = 'iccids' in op ? op.iccids : [op.iccid];
  if (dialect === 'mesh') {
    for (let i = 0; i < iccids.length; i++) {
      for (const prefix of ['d', 'u', 't', 'h']) {
        const v = data[`${prefix}${i}`];
        if (v === undefined) continue;
        if (v === null || !('data' in v)) return `mesh ${prefix}${i}: ${JSON.stringify(v).slice(0, 200)}`;
      }
    }
    return null;
  }
  const sims: any[] = 'iccids' in op ? data.sims : [data.sim];
  if (!Array.isArray(sims) || sims.length !== iccids.length) return `expected ${iccids.length} SIMs`;
  for (const [i, sim] of sims.entries()) {
    if (!sim || sim.iccid !== iccids[i]) return `SIM ${i}: ${JSON.stringify(sim).slice(0, 200)}`;
    for (const key of ['usage', 'topupPackages', 'packageHistory']) {
      if (key in sim && sim[key] === null) return `SIM ${i}: ${key} is null`;
    }
  }
  if (reference !== undefined && canonical(data) !== reference)
    return `data differs from our gateway's: ${firstDifference(canonical(data), reference)}`;
  return null;
}

export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `…${a.slice(Math.max(0, i - 60), i + 60)}… vs …${b.slice(Math.max(0, i - 60), i + 60)}…`;
}
