/** POST orders/topups, GET orders, GET orders/{id}. */
import { triggerCode } from '../catalog.ts';
import type { Purchase, SimRecord } from '../data.ts';
import { orderCode, usdString } from '../format.ts';
import { businessError, invalid, json, notFound } from '../http-io.ts';
import { brandOf, renderOrder, renderSubmittedTopup } from '../render.ts';
import type { SandboxResponse } from '../types.ts';
import type { RequestContext } from './context.ts';
import { createdAtRange, includes, paginate } from './pagination.ts';
import { recycledError } from './sims.ts';

const DAY = 86_400_000;

const TRIGGER_REASONS: Record<number, string> = {
  13: 'The operator is currently under maintenance. Please try again later.',
  23: 'Top-up is disabled by the operator for this eSIM.',
  34: 'The package is invalid or out of stock.',
};

function insufficient(ctx: RequestContext, priceCents: number): SandboxResponse {
  return businessError(
    11,
    `Insufficient ${brandOf(ctx.flavour)} Credit: your balance is ${usdString(ctx.state.balanceCents)} USD, the order costs ${usdString(priceCents)} USD.`,
  );
}

export function submitTopup(ctx: RequestContext): SandboxResponse {
  const { state, body } = ctx;
  const errors: Record<string, string> = {};
  const iccid = body.iccid?.trim() ?? '';
  const packageId = body.package_id?.trim() ?? '';
  const description = body.description ?? null;
  if (!iccid) errors.iccid = 'The iccid field is required.';
  if (!packageId) errors.package_id = 'The package id field is required.';
  if (description !== null && description.length > 255)
    errors.description = 'The description may not be greater than 255 characters.';
  let sim: SimRecord | undefined;
  if (iccid) {
    sim = state.data.simByIccid(iccid);
    if (sim === undefined) errors.iccid = 'The selected iccid is invalid.';
  }
  if (Object.keys(errors).length > 0 || sim === undefined) return invalid(errors);
  if (sim.status === 'RECYCLED') return recycledError(sim.iccid);
  const pkg = sim.operator.topups.find((p) => p.id === packageId);
  if (pkg === undefined) return invalid({ package_id: 'invalid topup package' });
  const trigger = triggerCode(pkg.id);
  if (trigger === 11) return insufficient(ctx, pkg.priceCents);
  if (trigger !== null) return businessError(trigger, TRIGGER_REASONS[trigger] ?? 'An unexpected error occurred.');
  if (state.balanceCents < pkg.priceCents) return insufficient(ctx, pkg.priceCents);

  state.balanceCents -= pkg.priceCents;
  const now = state.clock.now();
  const activates = sim.status !== 'NOT_ACTIVE' && sim.status !== 'UNKNOWN';
  const order: Purchase = {
    id: state.data.nextOrderId++,
    sim,
    pkg,
    description: description === '' ? null : description,
    createdAt: now,
    status: activates ? 'ACTIVE' : 'NOT_ACTIVE',
    remainingMb: pkg.amountMb,
    activatedAt: activates ? now : null,
    expiredAt: activates ? now + pkg.days * DAY : null,
    finishedAt: null,
  };
  sim.purchases.push(order);
  state.data.submitted.push(order);
  state.submitted.push({ order, flavour: ctx.flavour });
  // the live usage grows now; usage reads see it once their snapshot is older than the cache window
  sim.totalMb += pkg.amountMb;
  sim.remainingMb += pkg.amountMb;
  sim.totalVoice += pkg.voice ?? 0;
  sim.remainingVoice += pkg.voice ?? 0;
  sim.totalText += pkg.text ?? 0;
  sim.remainingText += pkg.text ?? 0;
  if (pkg.isUnlimited) sim.isUnlimited = true;
  if (activates) {
    if (sim.status === 'FINISHED' || sim.status === 'EXPIRED') sim.status = 'ACTIVE';
    sim.usageExpiredAt = Math.max(sim.usageExpiredAt ?? 0, order.expiredAt!);
  }
  return json(200, { data: renderSubmittedTopup(order, ctx.origin), meta: { message: 'success' } });
}

export function listOrders(ctx: RequestContext): SandboxResponse {
  const q = ctx.query;
  const iccid = q.get('filter[iccid]');
  const description = q.get('filter[description]')?.toLowerCase();
  const code = q.get('filter[code]');
  const status = q.get('filter[order_status]');
  const range = createdAtRange(ctx);
  const matching: Purchase[] = [];
  if (!status || status === 'completed') {
    for (const order of ctx.state.data.ordersNewestFirst()) {
      if (iccid && !order.sim.iccid.includes(iccid)) continue;
      if (description && !(order.description ?? '').toLowerCase().includes(description)) continue;
      if (code && !orderCode(order.createdAt, order.id).includes(code)) continue;
      if (range && (order.createdAt < range[0] || order.createdAt > range[1])) continue;
      matching.push(order);
    }
  }
  const page = paginate(ctx, matching);
  if ('status' in page) return page;
  const include = includes(ctx);
  return json(200, {
    data: page.items.map((o) => renderOrder(o, ctx.origin, include)),
    links: page.links,
    meta: page.meta,
  });
}

export function getOrder(ctx: RequestContext): SandboxResponse {
  const id = ctx.orderId !== null && /^\d+$/.test(ctx.orderId) ? Number(ctx.orderId) : NaN;
  const order = ctx.state.data.orderById(id);
  if (order === undefined) return notFound();
  return json(200, { data: renderOrder(order, ctx.origin, includes(ctx)), meta: { message: 'success' } });
}
