/** `Balance`: the partner account's available balance, and `Query.balance`. */
import { BALANCE_KEY, type CacheRead } from '../../domain/cache/index.ts';
import { GatewayError, toGraphQLError } from '../errors.ts';
import type { Balance } from '../../upstream/index.ts';
import { builder } from './builder.ts';
import { MoneyRef } from './money.ts';

const BalanceRef = builder.objectRef<CacheRead<Balance>>('Balance').implement({
  fields: (t) => ({
    available: t.field({ type: MoneyRef, resolve: (b) => b.value }),
    fetchedAt: t.field({ type: 'DateTime', resolve: (b) => b.fetchedAt }),
    stale: t.boolean({ resolve: (b) => b.stale }),
  }),
});

builder.queryField('balance', (t) =>
  t.field({
    type: BalanceRef,
    // Nullable on purpose: a failing balance read must not blank the SIMs queried alongside it.
    nullable: true,
    description:
      "The partner account's balance; refreshed after every purchase made through this gateway. Null, with an error at this path, when it cannot be read (UPSTREAM_UNAVAILABLE, RATE_LIMITED, FORBIDDEN for end users); the rest of the response is unaffected.",
    resolve: async (_root, _args, ctx) => {
      if (ctx.principal.kind !== 'partner') throw new GatewayError('FORBIDDEN', "End users cannot read the partner's balance.");
      try {
        const read = await ctx.caches.balance.get(BALANCE_KEY, ctx.signal, ctx.upstreamCalls);
        ctx.dependencies.note(ctx.caches.balance.name, BALANCE_KEY, ctx.caches.balance.freshUntil(read), read.stale);
        return read;
      } catch (error) {
        ctx.dependencies.refuse();
        throw toGraphQLError(error);
      }
    },
  }),
);
