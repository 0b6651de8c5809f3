/** The control surface: in-process (`sandbox.control`) and over HTTP under `/__sandbox/`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ManualClock } from '../platform/clock.ts';
import { orderCode } from './format.ts';
import { json, readRawBody } from './http-io.ts';
import type { SandboxState } from './state.ts';
import type {
  CallFilter,
  FaultRule,
  IccidFilter,
  SandboxControl,
  SandboxEndpoint,
  SandboxOrder,
  SandboxResponse,
  SimStatus,
} from './types.ts';

export function createControl(state: SandboxState): SandboxControl {
  return {
    calls: (filter) => state.calls(filter),
    countCalls: (filter) => state.calls(filter).length,
    resetCalls() {
      state.callLog = [];
    },
    orders: (): SandboxOrder[] =>
      state.submitted.map(({ order, flavour }) => ({
        id: order.id,
        code: orderCode(order.createdAt, order.id),
        iccid: order.sim.iccid,
        packageId: order.pkg.id,
        description: order.description,
        price: order.pkg.priceCents / 100,
        createdAt: order.createdAt,
        flavour,
      })),
    addFault: (rule) => state.faults.add(rule),
    removeFault: (id) => state.faults.remove(id),
    clearFaults: () => state.faults.clear(),
    reset: () => state.reset(),
    iccids(filter: IccidFilter = {}) {
      const out: string[] = [];
      for (let i = 0; i < state.data.simCount; i++) {
        const sim = state.data.sim(i);
        if (filter.status !== undefined && sim.status !== filter.status) continue;
        if (filter.hasTopups !== undefined && sim.purchases.length > 1 !== filter.hasTopups) continue;
        if (filter.unlimited !== undefined && sim.isUnlimited !== filter.unlimited) continue;
        out.push(sim.iccid);
      }
      return out;
    },
    topupPackageIds: (iccid) => state.data.simByIccid(iccid)?.operator.topups.map((p) => p.id) ?? [],
    balance: () => state.balanceCents / 100,
    issuedTokens() {
      return [...state.tokens.keys()];
    },
    expireTokens() {
      const now = state.clock.now();
      for (const token of state.tokens.keys()) state.tokens.set(token, now);
    },
    setBalance(amount) {
      state.balanceCents = Math.round(amount * 100);
      state.notifications.checkBalance();
    },
    consumeData(iccid, mb) {
      const sim = state.data.simByIccid(iccid);
      if (!sim) throw new RangeError(`no SIM ${iccid}`);
      state.notifications.baseline(sim);
      sim.remainingMb = Math.max(0, sim.remainingMb - Math.round(mb));
      state.usageCache.delete(iccid);
      state.notifications.checkSim(sim);
    },
    checkNotifications: () => state.notifications.check(),
    notificationSettings: () => [...state.notifications.settings.values()],
    deliveries: () => state.notifications.deliveries,
    deliveriesSettled: () => state.notifications.settled(),
    limits: () => structuredClone(state.options.limits),
    limitRefusals: () => state.limits.refusals(),
  };
}

function isManualClock(clock: unknown): clock is ManualClock {
  return typeof (clock as ManualClock).advance === 'function';
}

function callFilterFrom(params: URLSearchParams): CallFilter {
  const filter: CallFilter = {};
  const endpoint = params.get('endpoint');
  if (endpoint) filter.endpoint = endpoint as SandboxEndpoint;
  if (params.has('iccid')) filter.iccid = params.get('iccid') || null;
  const status = params.get('status');
  if (status) filter.status = Number(status);
  const flavour = params.get('flavour');
  if (flavour === 'pressone' || flavour === 'airalo') filter.flavour = flavour;
  const method = params.get('method');
  if (method) filter.method = method.toUpperCase();
  return filter;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const raw = await readRawBody(req);
  return raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
}

function send(res: ServerResponse, response: SandboxResponse): void {
  res.writeHead(response.status, { ...response.headers, 'Content-Length': Buffer.byteLength(response.body) });
  res.end(response.body);
}

/** `path` is relative to `/__sandbox/`. */
export async function handleControlRequest(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  search: string,
  state: SandboxState,
  origin: string,
): Promise<void> {
  const control = createControl(state);
  const params = new URLSearchParams(search);
  const route = `${req.method} ${path.replace(/\/$/, '')}`;
  const ok = (value: unknown): void => send(res, json(200, value));
  const fail = (status: number, message: string): void => send(res, json(status, { error: message }));
  try {
    if (route === 'GET info') {
      const { clientId, clientSecret } = state.options.credentials;
      return ok({
        url: origin,
        pressoneBaseUrl: `${origin}/customer/v2`,
        airaloBaseUrl: `${origin}/v2`,
        clientId,
        clientSecret,
        simCount: state.data.simCount,
        seed: state.options.seed,
      });
    }
    if (route === 'GET calls') {
      const calls = control.calls(callFilterFrom(params));
      return ok({ count: calls.length, calls });
    }
    if (route === 'DELETE calls') {
      control.resetCalls();
      return ok({ ok: true });
    }
    if (route === 'GET orders') return ok({ orders: control.orders() });
    if (route === 'GET limits') return ok({ limits: control.limits(), refusals: control.limitRefusals() });
    if (route === 'GET faults') return ok({ faults: state.faults.list() });
    if (route === 'POST faults') return ok({ id: control.addFault((await readJson(req)) as FaultRule) });
    if (route === 'DELETE faults') {
      control.clearFaults();
      return ok({ ok: true });
    }
    if (req.method === 'DELETE' && path.startsWith('faults/')) {
      control.removeFault(decodeURIComponent(path.slice(7)));
      return ok({ ok: true });
    }
    if (route === 'POST reset') {
      control.reset();
      return ok({ ok: true });
    }
    if (route === 'GET iccids') {
      const filter: IccidFilter = {};
      const status = params.get('status');
      if (status) filter.status = status as SimStatus;
      if (params.has('hasTopups')) filter.hasTopups = params.get('hasTopups') === 'true';
      if (params.has('unlimited')) filter.unlimited = params.get('unlimited') === 'true';
      return ok({ iccids: control.iccids(filter) });
    }
    if (req.method === 'GET' && path.startsWith('topup-package-ids/')) {
      return ok({ packageIds: control.topupPackageIds(decodeURIComponent(path.slice('topup-package-ids/'.length))) });
    }
    if (route === 'POST tokens/expire') {
      control.expireTokens();
      return ok({ ok: true });
    }
    if (route === 'GET balance') return ok({ amount: control.balance(), currency: 'USD' });
    if (route === 'PUT balance' || route === 'POST balance') {
      const body = (await readJson(req)) as { usd?: unknown; amount?: unknown };
      const amount = Number(body.usd ?? body.amount);
      if (!Number.isFinite(amount)) return fail(400, 'send {"usd": number}');
      control.setBalance(amount);
      return ok({ amount: control.balance(), currency: 'USD' });
    }
    if (route === 'GET clock') return ok({ now: state.clock.now(), manual: isManualClock(state.clock) });
    if (route === 'POST clock/advance') {
      if (!isManualClock(state.clock))
        return fail(409, 'the sandbox runs on a real clock; pass a ManualClock to advance it');
      const { ms } = (await readJson(req)) as { ms?: unknown };
      if (typeof ms !== 'number' || !(ms >= 0)) return fail(400, 'send {"ms": number ≥ 0}');
      state.clock.advance(ms);
      return ok({ now: state.clock.now() });
    }
    return fail(404, `no control route ${route}`);
  } catch (err) {
    return fail(400, err instanceof Error ? err.message : 'bad request');
  }
}
