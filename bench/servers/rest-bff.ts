/**
 * Peer (a): no gateway — a backend-for-frontend calling the REST API directly with `fetch`, one call per
 * (SIM, resource) a screen shows, no cross-request cache (what a team writes before it has a gateway).
 * To run under the same harness it accepts the same POST body as the GraphQL servers and recognises the benchmark's
 * operations by `operationName` (it does not parse GraphQL); it answers `{data, errors?}` shaped like theirs.
 * It skips the details call (a BFF learns "unknown SIM" from the usage 404), so a cold screen costs 3 calls per SIM.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  announce,
  exitOnSignals,
  fetchToken,
  normHistory,
  normTopups,
  normUsage,
  PORT,
  UPSTREAM_URL,
} from './common.ts';

const token = await fetchToken();
const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
type GqlError = { message: string; path: (string | number)[] };

async function get(path: string): Promise<any> {
  const res = await fetch(`${UPSTREAM_URL}/${path}`, { headers });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw Object.assign(new Error(`upstream ${path}: HTTP ${res.status}`), { status: res.status });
  return body;
}

/** One field of one SIM; a failure nulls the field and adds an error, like the GraphQL servers. */
async function field<T>(
  path: string,
  normalise: (b: unknown) => T,
  errors: GqlError[],
  at: (string | number)[],
): Promise<T | null> {
  try {
    return normalise(await get(path));
  } catch (error) {
    errors.push({ message: (error as Error).message, path: at });
    return null;
  }
}

async function sim(
  iccid: string,
  want: { usage?: boolean; topups?: boolean; history?: boolean },
  errors: GqlError[],
  at: (string | number)[],
) {
  const p = `sims/${encodeURIComponent(iccid)}`;
  const [usage, topupPackages, packageHistory] = await Promise.all([
    want.usage ? field(`${p}/usage`, normUsage, errors, [...at, 'usage']) : undefined,
    want.topups ? field(`${p}/topups`, normTopups, errors, [...at, 'topupPackages']) : undefined,
    want.history ? field(`${p}/packages`, normHistory, errors, [...at, 'packageHistory']) : undefined,
  ]);
  const out: Record<string, unknown> = { iccid };
  if (want.usage) out.usage = usage;
  if (want.topups) out.topupPackages = topupPackages;
  if (want.history) out.packageHistory = packageHistory;
  return out;
}

const SCREEN = { usage: true, topups: true, history: true };
const operations: Record<string, (v: any, errors: GqlError[]) => Promise<unknown>> = {
  Screen: async (v, errors) => ({
    sims: await Promise.all((v.iccids as string[]).map((iccid, i) => sim(iccid, SCREEN, errors, ['sims', i]))),
  }),
  SimsUsage: async (v, errors) => ({
    sims: await Promise.all((v.iccids as string[]).map((iccid, i) => sim(iccid, { usage: true }, errors, ['sims', i]))),
  }),
  SimUsage: async (v, errors) => ({ sim: await sim(v.iccid, { usage: true }, errors, ['sim']) }),
  SimTopups: async (v, errors) => ({ sim: await sim(v.iccid, { topups: true }, errors, ['sim']) }),
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer(async (req, res) => {
  try {
    const { operationName, variables } = JSON.parse(await readBody(req)) as {
      operationName?: string;
      variables?: unknown;
    };
    const operation = operationName ? operations[operationName] : undefined;
    if (!operation) return send(res, 400, { errors: [{ message: `unknown operation ${operationName}` }] });
    const errors: GqlError[] = [];
    const data = await operation(variables ?? {}, errors);
    send(res, 200, errors.length ? { data, errors } : { data });
  } catch (error) {
    send(res, 500, { errors: [{ message: (error as Error).message }] });
  }
});
server.keepAliveTimeout = 60_000;
server.listen(PORT, '127.0.0.1', () => announce(server));
exitOnSignals(() => new Promise((r) => server.close(r)));
