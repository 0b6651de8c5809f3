/** GET balance. PressOne documents it as text/plain although the body is JSON; Airalo as `*​/*` (we send JSON). */
import type { SandboxResponse } from '../types.ts';
import type { RequestContext } from './context.ts';

export function balance(ctx: RequestContext): SandboxResponse {
  const body = JSON.stringify({
    data: {
      balances: { name: 'balance', availableBalance: { amount: ctx.state.balanceCents / 100, currency: 'USD' } },
    },
    meta: { message: 'success' },
  });
  const contentType = ctx.flavour === 'pressone' ? 'text/plain; charset=UTF-8' : 'application/json';
  return { status: 200, headers: { 'Content-Type': contentType }, body };
}
