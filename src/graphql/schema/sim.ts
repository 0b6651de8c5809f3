/**
 * `Sim` and its entry points: `sim`, `sims`, `simList`.
 * A `Sim` is only ever handed out after its details were loaded (the existence check behind SIM_NOT_FOUND),
 * through the request's data access (`ctx.data`), which records every read for the response cache.
 */
import { type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';
import { canAccess } from '../../domain/auth.ts';
import type { CacheRead } from '../../domain/cache/index.ts';
import type { HistoryEntry, SimDetails, TopupPackage, Usage } from '../../upstream/index.ts';
import type { GatewayContext } from '../context.ts';
import type { DataAccess, SimResource } from '../data-access.ts';
import { isDeferActive, type ReadMode, readMode, streamedFrom } from '../defer.ts';
import { badUserInput, simNotFound, toGraphQLError } from '../errors.ts';
import { simListFirstOutOfRange } from '../plugins/security.ts';
import { builder } from './builder.ts';

export interface SimParent {
  iccid: string;
  details: CacheRead<SimDetails>;
}

/** ICCIDs are digit strings: 18–22 digits in the official SDK's check, 17–19 in some doc examples. */
const ICCID = /^\d{17,22}$/;

export function parseIccid(raw: string, field = 'iccid'): string {
  const iccid = raw.trim();
  if (!ICCID.test(iccid)) throw badUserInput(`"${raw.slice(0, 40)}" is not an ICCID (17–22 digits).`, field);
  return iccid;
}

/**
/**
 * Loads a SIM's details (cached); unknown ICCID → SIM_NOT_FOUND (thrown, or the promise rejects). Synchronous when
 * the details are cached fresh: a warm SIM costs no promise. `mode`: 'deferred' when this SIM is sent after the first
 * payload (under @defer, or a @stream item past its initialCount).
 */
export function loadSim(
  ctx: GatewayContext,
  rawIccid: string,
  prefetch?: readonly SimResource[],
  mode: ReadMode = 'foreground',
): SimParent | Promise<SimParent> {
  const iccid = parseIccid(rawIccid);
  // Someone else's SIM is indistinguishable from a SIM that does not exist.
  if (!canAccess(ctx.principal, iccid)) throw simNotFound(iccid);
  // Cached details: the field resolvers run at once (this returns synchronously) and read, or start loading, what
  // they select themselves — nothing to prefetch.
  const cached = ctx.data.cached('details', iccid);
  if (cached) return { iccid, details: cached };
  // The resources the query selects start loading now, alongside the existence check, instead of one round trip
  // after it: a cold screen then costs one upstream latency per `UPSTREAM_CONNECTIONS` calls, not two. The field
  // resolvers later get the same promises from `ctx.data`. For an unknown ICCID their outcome is dropped.
  // The details call goes first; while the circuit breaker is not closed, nothing is prefetched (see `prefetch`).
  const details = loadResource(read(ctx, 'details', iccid, mode), iccid);
  if (prefetch) ctx.data.prefetch(iccid, prefetch, mode);
  return details.then((d) => ({ iccid, details: d }));
}

interface SimReads {
  details: SimDetails;
  usage: Usage;
  topups: TopupPackage[];
  history: HistoryEntry[];
}

const READS: {
  [R in keyof SimReads]: (data: DataAccess, iccid: string, mode: ReadMode) => Promise<CacheRead<SimReads[R]>>;
} = {
  details: (data, iccid, mode) => data.simDetails(iccid, mode),
  usage: (data, iccid, mode) => data.usage(iccid, mode),
  topups: (data, iccid, mode) => data.topups(iccid, mode),
  history: (data, iccid, mode) => data.history(iccid, mode),
};

/**
 * The one place a SIM read's mode (README "Using @defer and retryAfterSeconds from a frontend") meets `ctx.data`:
 * a read for a later payload (`deferred`) may wait longer for upstream budget (UPSTREAM_DEFER_WAIT_MS) than one the
 * first payload waits for (UPSTREAM_QUEUE_WAIT_MS).
 */
function read<R extends keyof SimReads>(
  ctx: GatewayContext,
  resource: R,
  iccid: string,
  mode: ReadMode,
): Promise<CacheRead<SimReads[R]>> {
  return READS[resource](ctx.data, iccid, mode);
}

/**
 * One of a SIM's resources for the field `info` resolves (`Sim.usage`, `Sim.topupPackages`, …): at once when the
 * cache holds it fresh (`ctx.data.cached`), else loaded in that field's read mode (batched per request; deferred reads
 * settle one by one); `view` turns the read into what the field returns. Failures become typed GraphQL errors on that
 * field only.
 */
export function readSimResource<R extends SimResource, T>(
  ctx: GatewayContext,
  info: GraphQLResolveInfo,
  resource: R,
  iccid: string,
  view: (read: CacheRead<SimReads[R]>) => T,
): T | Promise<T> {
  const cached = ctx.data.cached(resource, iccid) as CacheRead<SimReads[R]> | undefined;
  return cached ? view(cached) : loadResource(read(ctx, resource, iccid, readMode(info)), iccid).then(view);
}

/** Sim fields whose resolvers read one of the per-ICCID resources. */
const PREFETCHABLE: Record<string, SimResource> = {
  usage: 'usage',
  topupPackages: 'topups',
  packageHistory: 'history',
  packageHistoryInfo: 'history',
};

/**
 * The per-ICCID resources selected directly under the `Sim` this field returns (fragments included). A field under
 * @skip/@include is left to its resolver, so nothing the query does not ask for is ever fetched. So is a fragment
 * under an active @defer: its fields are read for a later payload (in 'deferred' mode), and reading them now would
 * spend budget and connections before the first payload is sent.
 */
export function selectedResources(info: GraphQLResolveInfo): SimResource[] {
  const found = new Set<SimResource>();
  const visit = (set: SelectionSetNode | undefined, depth: number): void => {
    if (!set || depth > 4) return;
    for (const selection of set.selections) {
      const directives = selection.directives;
      if (
        directives?.length &&
        (selection.kind === Kind.FIELD ||
          !directives.every((d) => d.name.value === 'defer') ||
          isDeferActive(directives, info.variableValues))
      )
        continue;
      if (selection.kind === Kind.FIELD) {
        const prefetch = PREFETCHABLE[selection.name.value];
        if (prefetch) found.add(prefetch);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, depth + 1);
      } else {
        visit(info.fragments[selection.name.value]?.selectionSet, depth + 1);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet, 0);
  return [...found];
}

/** Awaits one of a SIM's cached resources; failures become typed GraphQL errors on that field only. */
export async function loadResource<V>(read: Promise<CacheRead<V>>, iccid: string): Promise<CacheRead<V>> {
  try {
    return await read;
  } catch (error) {
    throw toGraphQLError(error, iccid);
  }
}

export const SimRef = builder.objectRef<SimParent>('Sim').implement({
  description: 'An eSIM, identified by its ICCID. Each nested resource is fetched only when selected.',
  fields: (t) => {
    const detail =
      <K extends keyof SimDetails>(key: K) =>
      (sim: SimParent) =>
        sim.details.value[key];
    return {
      iccid: t.exposeID('iccid'),
      createdAt: t.field({ type: 'DateTime', nullable: true, resolve: detail('createdAt') }),
      lpa: t.string({ nullable: true, resolve: detail('lpa') }),
      matchingId: t.string({ nullable: true, resolve: detail('matchingId') }),
      qrCode: t.string({
        nullable: true,
        description: 'LPA string to render as a QR code: LPA:1$<lpa>$<matchingId>.',
        resolve: detail('qrCode'),
      }),
      qrCodeUrl: t.string({ nullable: true, resolve: detail('qrCodeUrl') }),
      appleInstallUrl: t.string({
        nullable: true,
        description: 'Direct installation link for iOS 17.4+.',
        resolve: detail('appleInstallUrl'),
      }),
      apnType: t.string({ nullable: true, resolve: detail('apnType') }),
      apnValue: t.string({ nullable: true, resolve: detail('apnValue') }),
      isRoaming: t.boolean({ nullable: true, resolve: detail('isRoaming') }),
      recycled: t.boolean({ resolve: detail('recycled') }),
      recycledAt: t.field({ type: 'DateTime', nullable: true, resolve: detail('recycledAt') }),
      voucherCode: t.string({ nullable: true, resolve: detail('voucherCode') }),
      confirmationCode: t.string({ nullable: true, resolve: detail('confirmationCode') }),
      detailsFetchedAt: t.field({
        type: 'DateTime',
        description: 'When the gateway last read these details from the upstream.',
        resolve: (sim) => sim.details.fetchedAt,
      }),
    };
  },
});

builder.queryField('sim', (t) =>
  t.field({
    type: SimRef,
    nullable: true,
    description: 'One eSIM. Unknown ICCID → null and a SIM_NOT_FOUND error.',
    args: { iccid: t.arg.id({ required: true }) },
    resolve: (_root, { iccid }, ctx, info) => loadSim(ctx, iccid, selectedResources(info), readMode(info)),
  }),
);

builder.queryField('sims', (t) =>
  t.field({
    type: [SimRef],
    // The list is nullable too: refusing the argument must not blank the rest of the response.
    nullable: { list: true, items: true },
    description:
      'Several eSIMs, in the order asked (duplicates allowed). An unknown or malformed ICCID nulls only its own slot. Length is bounded by MAX_SIMS_PER_QUERY: more → null with BAD_USER_INPUT, the rest of the response unaffected.',
    args: { iccids: t.arg.idList({ required: true }) },
    resolve: (_root, { iccids }, ctx, info) => {
      if (iccids.length > ctx.config.maxSimsPerQuery) {
        throw badUserInput(`At most ${ctx.config.maxSimsPerQuery} ICCIDs per query (got ${iccids.length}).`, 'iccids');
      }
      // Each slot settles on its own; an Error in a slot nulls just that slot (also under graphql-jit, which
      // mishandles a rejected promise in the last slot of a list).
      // (An Error value in a list slot is GraphQL's convention for a per-item error; Pothos' types don't model it.)
      // Warm SIMs are plain values: the list is a promise only when some SIM is loading.
      const prefetch = selectedResources(info);
      const mode = readMode(info);
      const streamed = streamedFrom(info);
      let loading = false;
      const slots = iccids.map((iccid, i): unknown => {
        try {
          const sim = loadSim(ctx, iccid, prefetch, streamed !== undefined && i >= streamed ? 'deferred' : mode);
          if (!(sim instanceof Promise)) return sim;
          loading = true;
          return sim.catch((error: unknown) => error);
        } catch (error) {
          return error;
        }
      });
      // Under @stream each SIM past initialCount is sent as soon as it is loaded (Yoga's executor takes a list of
      // promises; never graphql-jit, see plugins/jit.ts); otherwise the list is answered once every slot settled.
      if (streamed !== undefined) return slots as unknown as SimParent[];
      return (loading ? Promise.all(slots) : slots) as SimParent[] | Promise<SimParent[]>;
    },
  }),
);

interface SimListPage {
  sims: SimParent[];
  offset: number;
  total: number;
}

const encodeCursor = (offset: number) => Buffer.from(`sim:${offset}`).toString('base64url');
function decodeCursor(cursor: string): number {
  const match = /^sim:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw badUserInput('Malformed cursor: pass an endCursor from a previous page.', 'after');
  return Number(match[1]) + 1;
}

const SimEdge = builder.objectRef<{ sim: SimParent; offset: number }>('SimEdge').implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (e) => encodeCursor(e.offset) }),
    node: t.field({ type: SimRef, resolve: (e) => e.sim }),
  }),
});

const PageInfo = builder.objectRef<SimListPage>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.boolean({ resolve: (p) => p.offset + p.sims.length < p.total }),
    hasPreviousPage: t.boolean({ resolve: (p) => p.offset > 0 }),
    startCursor: t.string({ nullable: true, resolve: (p) => (p.sims.length ? encodeCursor(p.offset) : null) }),
    endCursor: t.string({
      nullable: true,
      resolve: (p) => (p.sims.length ? encodeCursor(p.offset + p.sims.length - 1) : null),
    }),
  }),
});

const SimConnection = builder.objectRef<SimListPage>('SimConnection').implement({
  description: "A page of the partner's eSIMs, newest first, as the upstream lists them.",
  fields: (t) => ({
    edges: t.field({ type: [SimEdge], resolve: (p) => p.sims.map((sim, i) => ({ sim, offset: p.offset + i })) }),
    nodes: t.field({ type: [SimRef], resolve: (p) => p.sims }),
    pageInfo: t.field({ type: PageInfo, resolve: (p) => p }),
    totalCount: t.int({ resolve: (p) => p.total }),
  }),
});

builder.queryField('simList', (t) =>
  t.field({
    type: SimConnection,
    // Nullable on purpose: a failing list must not blank the balance or SIMs queried alongside it.
    nullable: true,
    description:
      "The upstream's eSIM list, cursor-paginated. Every SIM returned primes the details cache. Null, with an error at this path, when the list cannot be read (UPSTREAM_UNAVAILABLE, RATE_LIMITED) or an argument is refused (BAD_USER_INPUT); the rest of the response is unaffected.",
    args: {
      first: t.arg.int({ defaultValue: 20 }),
      after: t.arg.string(),
      iccidContains: t.arg.string({ description: 'Substring of the ICCID (digits only).' }),
    },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? 20;
      if (first < 1 || first > ctx.config.maxSimListPage) {
        throw badUserInput(simListFirstOutOfRange(ctx.config.maxSimListPage), 'first');
      }
      if (args.iccidContains != null && !/^\d{1,22}$/.test(args.iccidContains)) {
        throw badUserInput('iccidContains must be 1–22 digits.', 'iccidContains');
      }
      const offset = args.after ? decodeCursor(args.after) : 0;
      if (ctx.principal.kind === 'user')
        return readOwnedSims(ctx, ctx.principal.iccids, offset, first, args.iccidContains ?? undefined);
      return readSimListWindow(ctx, offset, first, args.iccidContains ?? undefined);
    },
  }),
);

/**
 * An end user's list is the SIMs their token names (the upstream's list is the partner's), in ICCID order;
 * ICCIDs the upstream does not know are left out.
 */
async function readOwnedSims(
  ctx: GatewayContext,
  owned: ReadonlySet<string>,
  offset: number,
  first: number,
  iccidContains?: string,
): Promise<SimListPage> {
  const iccids = [...owned].filter((i) => ICCID.test(i) && (!iccidContains || i.includes(iccidContains))).sort();
  const window = iccids.slice(offset, offset + first);
  const loaded = await ctx.data.ownedSims(window);
  const sims = loaded.flatMap((r, i) => (r.status === 'fulfilled' ? [{ iccid: window[i]!, details: r.value }] : []));
  return { sims, offset, total: iccids.length };
}

/** Reads [offset, offset+first) of the partner's list from the upstream (see `DataAccess.simListWindow`). */
async function readSimListWindow(
  ctx: GatewayContext,
  offset: number,
  first: number,
  iccidContains?: string,
): Promise<SimListPage> {
  try {
    const { sims, total } = await ctx.data.simListWindow(offset, first, iccidContains);
    return { sims, offset, total };
  } catch (error) {
    throw toGraphQLError(error);
  }
}
