/** GET sims, sims/{iccid}, sims/{iccid}/usage, sims/{iccid}/topups, sims/{iccid}/packages. */

import type { SimRecord } from '../data.ts';
import { businessError, JSON_TYPE, json, notFound } from '../http-io.ts';
import { renderHistory, renderSim, renderTopupPackage, renderUsage } from '../render.ts';
import type { SandboxResponse } from '../types.ts';
import type { RequestContext } from './context.ts';
import { createdAtRange, includes, paginate } from './pagination.ts';

function simOf(ctx: RequestContext): SimRecord | undefined {
  return ctx.iccid === null ? undefined : ctx.state.data.simByIccid(ctx.iccid);
}

export function recycledError(iccid: string): SandboxResponse {
  return businessError(73, `The eSIM with iccid ${iccid} has been recycled. It can no longer be used or topped up.`);
}

export function listSims(ctx: RequestContext): SandboxResponse {
  const needle = ctx.query.get('filter[iccid]');
  const range = createdAtRange(ctx);
  const data = ctx.state.data;
  const matching: SimRecord[] = [];
  for (let i = data.simCount - 1; i >= 0; i--) {
    if (needle && !data.iccids[i]!.includes(needle)) continue;
    const sim = data.sim(i);
    if (range && (sim.createdAt < range[0] || sim.createdAt > range[1])) continue;
    matching.push(sim);
  }
  const page = paginate(ctx, matching);
  if ('status' in page) return page;
  const include = includes(ctx);
  return json(200, {
    data: page.items.map((sim) => renderSim(sim, ctx.origin, include)),
    links: page.links,
    meta: page.meta,
  });
}

export function getSim(ctx: RequestContext): SandboxResponse {
  const sim = simOf(ctx);
  if (sim === undefined) return notFound();
  return json(200, { data: renderSim(sim, ctx.origin, includes(ctx)), meta: { message: 'succes' } });
}

export function usage(ctx: RequestContext): SandboxResponse {
  const sim = simOf(ctx);
  if (sim === undefined) return notFound();
  const body = ctx.state.usageCache.get(sim.iccid, () =>
    JSON.stringify({ data: renderUsage(sim), meta: { message: 'api.succes' } }),
  );
  return { status: 200, headers: { 'Content-Type': JSON_TYPE }, body };
}

export function topups(ctx: RequestContext): SandboxResponse {
  const sim = simOf(ctx);
  if (sim === undefined) return notFound(ctx.state.options.notFoundStatus);
  if (sim.status === 'RECYCLED') return recycledError(sim.iccid);
  return json(200, { data: sim.operator.topups.map(renderTopupPackage) });
}

export function history(ctx: RequestContext): SandboxResponse {
  const sim = simOf(ctx);
  if (sim === undefined) return notFound();
  return json(200, renderHistory(sim, ctx.flavour, ctx.state.clock.now()));
}
