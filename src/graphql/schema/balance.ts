/** `Balance`: the partner account's available balance, and `Query.balance` (partners only; read through `ctx.data`). */
import type { CacheRead } from '../../domain/cache/index.ts';
import type { Balance } from '../../upstream/index.ts';
import { GatewayError, toGraphQLError } from '../errors.ts';
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
      if (ctx.principal.kind !== 'partner')
        throw new GatewayError('FORBIDDEN', "End users cannot read the partner's balance.");
      try {
        return await ctx.data.balance();
      } catch (error) {
        throw toGraphQLError(error);
      }
    },
  }),
);
