/**
 * What every benchmark server shares: the upstream coordinates (from env), the token call, the GraphQL schema subset
 * the scenarios need, the normalisation the gateway applies (so peers return the very same data), the cache TTLs and
 * the listen/ready protocol the runner waits for (one stdout line `BENCH_LISTENING <port>`).
 */
import type { Server } from 'node:http';

export const UPSTREAM_URL = required('UPSTREAM_URL'); // e.g. http://127.0.0.1:1234/customer/v2
export const CLIENT_ID = required('UPSTREAM_CLIENT_ID');
export const CLIENT_SECRET = required('UPSTREAM_CLIENT_SECRET');
export const PORT = Number(process.env.PORT ?? 0);
/** Same defaults as the gateway's CACHE_*_TTL_SECONDS. */
export const TTL = { details: 3600, usage: 300, topups: 60, history: 900 } as const;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

export async function fetchToken(): Promise<string> {
  const res = await fetch(`${UPSTREAM_URL}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: 'client_credentials' }),
  });
  if (!res.ok) throw new Error(`token: HTTP ${res.status}`);
  return ((await res.json()) as { data: { access_token: string } }).data.access_token;
}

/** The subset of the gateway's schema the scenarios query, with the same names and nullability. */
export const SDL = /* GraphQL */ `
  enum SimStatus { ACTIVE EXPIRED FINISHED NOT_ACTIVE RECYCLED UNKNOWN }
  enum PackageStatus { ACTIVE EXPIRED FINISHED NOT_ACTIVE UNKNOWN }
  type Money { amount: String! currency: String! }
  type Usage { status: SimStatus! remainingMb: Int totalMb: Int }
  type TopupPackage { id: ID! title: String! price: Money! }
  type PackageInfo { id: ID! title: String! }
  type PackageHistory { id: ID! status: PackageStatus! package: PackageInfo! }
  type Sim {
    iccid: ID!
    usage: Usage
    topupPackages: [TopupPackage!]
    packageHistory: [PackageHistory!]
  }
  type Query {
    sim(iccid: ID!): Sim
    sims(iccids: [ID!]!): [Sim]!
  }
`;

// ---- normalisation: the same results the gateway produces -------------------------------------------------------

export interface SimOut {
  iccid: string;
}
export interface UsageOut {
  status: string;
  remainingMb: number | null;
  totalMb: number | null;
}
export interface TopupOut {
  id: string;
  title: string;
  price: { amount: string; currency: string };
}
export interface HistoryOut {
  id: string;
  status: string;
  package: { id: string; title: string };
}

const SIM_STATUSES = new Set(['ACTIVE', 'EXPIRED', 'FINISHED', 'NOT_ACTIVE', 'RECYCLED', 'UNKNOWN']);
const PACKAGE_STATUSES = new Set(['ACTIVE', 'EXPIRED', 'FINISHED', 'NOT_ACTIVE', 'UNKNOWN']);

/** 10 → "10.00", 22.5 → "22.50", "9.50" → "9.50" (what the gateway's Decimal does for these inputs). */
export function toDecimal(value: number | string): string {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const [int = '0', frac = ''] = text.split('.');
  return `${int || '0'}.${frac.padEnd(2, '0')}`;
}

export function normUsage(body: any): UsageOut {
  const u = body.data;
  const status = String(u.status ?? '')
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  return {
    status: SIM_STATUSES.has(status) ? status : 'UNKNOWN',
    remainingMb: u.is_unlimited ? null : (u.remaining ?? null),
    totalMb: u.is_unlimited ? null : (u.total ?? null),
  };
}

export function normTopups(body: any): TopupOut[] {
  return (body.data as any[]).map((p) => ({
    id: String(p.id),
    title: p.title,
    price: { amount: toDecimal(p.price), currency: p.currency ?? 'USD' },
  }));
}

export function normHistory(body: any): HistoryOut[] {
  const items: any[] = Array.isArray(body.data) ? body.data : body.data.data;
  return items.map((h) => {
    const status = String(h.status).trim().toUpperCase();
    return {
      id: String(h.id),
      status: PACKAGE_STATUSES.has(status) ? status : 'UNKNOWN',
      package: { id: String(h.package.id), title: h.package.title },
    };
  });
}

// ---- process plumbing ---------------------------------------------------------------------------------------------

/** Prints the ready line the runner waits for. */
export function announce(server: Server | { address(): unknown }): void {
  const address = server.address() as { port: number } | null;
  process.stdout.write(`BENCH_LISTENING ${address?.port}\n`);
}

export function exitOnSignals(close: () => Promise<unknown> | undefined): void {
  const stop = () => {
    void Promise.resolve(close()).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
