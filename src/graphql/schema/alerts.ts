/**
 * Live alerts as GraphQL subscriptions (served over GraphQL-over-SSE by Yoga): `simAlerts` and `balanceAlerts` from
 * the upstream's webhooks, `usageUpdates` from the shared usage refresh. Streams come from `ctx.data` (never stored
 * in the response cache). End users may watch only their own SIMs — anyone else's behaves exactly as an unknown
 * ICCID (SIM_NOT_FOUND); partners may watch any SIM, or every SIM's alerts by omitting `iccids`.
 * See README.md, "Live alerts".
 */

import {
  type BalanceAlertEvent,
  type SIM_ALERT_KINDS,
  type SimAlertEvent,
  SubscriptionLimitError,
  type UsageUpdate,
} from '../../domain/alerts/index.ts';
import { canAccess } from '../../domain/auth.ts';
import type { GatewayContext } from '../context.ts';
import { badUserInput, GatewayError, simNotFound, toGraphQLError } from '../errors.ts';
import { builder } from './builder.ts';
import { loadSim, parseIccid, SimRef } from './sim.ts';
import { UsageRef, usageView } from './usage.ts';

/** At most this many ICCIDs per subscription: more is several subscriptions (each counted against the limits). */
const MAX_ICCIDS = 100;

export const SimAlertKindRef = builder.enumType('SimAlertKind', {
  description: 'What a SIM alert announces.',
  values: {
    LOW_DATA: { description: 'The data left crossed a threshold (`level` 75% or 90% used).' },
    EXPIRING: { description: 'The package expires soon (`level` 3days or 1days).' },
  } satisfies Record<(typeof SIM_ALERT_KINDS)[number], unknown>,
});

const SimAlertRef = builder.objectRef<SimAlertEvent>('SimAlert').implement({
  description: "An upstream notification about one SIM (Airalo's low-data and expiry webhooks).",
  fields: (t) => ({
    iccid: t.exposeID('iccid'),
    kind: t.field({ type: SimAlertKindRef, resolve: (e) => e.kind }),
    level: t.exposeString('level', { description: 'As the upstream sent it: "75%", "90%", "3days", "1days".' }),
    remainingPercentage: t.int({
      nullable: true,
      description: 'Data left in percent, as the upstream reported it with the alert.',
      resolve: (e) => (e.remainingPercentage === null ? null : Math.round(e.remainingPercentage)),
    }),
    packageName: t.exposeString('packageName', { nullable: true }),
    receivedAt: t.field({
      type: 'DateTime',
      description: 'When the gateway received it.',
      resolve: (e) => e.receivedAt,
    }),
    sim: t.field({
      type: SimRef,
      nullable: true,
      description: 'The SIM, read like `sim(iccid)` (its `usage` was invalidated by this alert, so it is re-read).',
      resolve: (e, _args, ctx) => loadSim(ctx, e.iccid),
    }),
  }),
});

const BalanceAlertRef = builder.objectRef<BalanceAlertEvent>('BalanceAlert').implement({
  description: "An upstream credit-limit notification about the partner's balance.",
  fields: (t) => ({
    message: t.exposeString('message', { description: 'As the upstream wrote it.' }),
    thresholdPercent: t.int({ nullable: true, resolve: (e) => e.thresholdPercent }),
    remaining: t.field({
      type: 'Decimal',
      nullable: true,
      description: 'Balance left, in the account currency.',
      resolve: (e) => e.remaining,
    }),
    receivedAt: t.field({ type: 'DateTime', resolve: (e) => e.receivedAt }),
  }),
});

const UsageUpdateRef = builder.objectRef<UsageUpdate>('UsageUpdate').implement({
  description: "A SIM's usage: its current value when the subscription starts, then each change.",
  fields: (t) => ({
    iccid: t.exposeID('iccid'),
    usage: t.field({ type: UsageRef, resolve: (u) => usageView(u.usage) }),
  }),
});

builder.subscriptionType({});

/** The ICCIDs a subscription may watch: well-formed, visible to the caller, known to the upstream. */
async function authorisedIccids(ctx: GatewayContext, raw: readonly string[]): Promise<string[]> {
  if (raw.length === 0) throw badUserInput('Give at least one ICCID.', 'iccids');
  if (raw.length > MAX_ICCIDS) throw badUserInput(`At most ${MAX_ICCIDS} ICCIDs per subscription.`, 'iccids');
  const iccids = [...new Set(raw.map((i) => parseIccid(i, 'iccids')))];
  for (const iccid of iccids) if (!canAccess(ctx.principal, iccid)) throw simNotFound(iccid);
  await Promise.all(iccids.map((iccid) => loadSim(ctx, iccid)));
  return iccids;
}

function opened<T>(open: () => AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  try {
    return open();
  } catch (error) {
    if (error instanceof SubscriptionLimitError)
      throw new GatewayError('TOO_MANY_SUBSCRIPTIONS', error.message, { limit: error.limit, scope: error.scope });
    throw toGraphQLError(error);
  }
}

builder.subscriptionField('simAlerts', (t) =>
  t.field({
    type: SimAlertRef,
    description:
      'Low-data and expiry alerts of `iccids` as the upstream pushes them (webhooks). Partners may omit `iccids` for every SIM; end users get their own SIMs when they omit it.',
    args: { iccids: t.arg.idList({ required: false }) },
    subscribe: async (_root, { iccids }, ctx) => {
      const { principal } = ctx;
      const watched = iccids
        ? await authorisedIccids(ctx, iccids)
        : principal.kind === 'partner'
          ? undefined
          : await authorisedIccids(ctx, [...principal.iccids]);
      return opened(() => ctx.data.simAlerts(principal.id, watched));
    },
    resolve: (event) => event,
  }),
);

builder.subscriptionField('balanceAlerts', (t) =>
  t.field({
    type: BalanceAlertRef,
    description: "Credit-limit alerts on the partner's balance (partners only; FORBIDDEN for end users).",
    subscribe: (_root, _args, ctx) => {
      if (ctx.principal.kind !== 'partner')
        throw new GatewayError('FORBIDDEN', "End users cannot watch the partner's balance.");
      return opened(() => ctx.data.balanceAlerts(ctx.principal.id));
    },
    resolve: (event) => event,
  }),
);

builder.subscriptionField('usageUpdates', (t) =>
  t.field({
    type: UsageUpdateRef,
    description:
      "Each SIM's usage now, then whenever it changes: refreshed once per CACHE_USAGE_TTL_SECONDS per SIM for all subscribers, and at once after a webhook alert or a purchase.",
    args: { iccids: t.arg.idList({ required: true }) },
    subscribe: async (_root, { iccids }, ctx) => {
      const watched = await authorisedIccids(ctx, iccids);
      return opened(() => ctx.data.usageUpdates(ctx.principal.id, watched));
    },
    resolve: (update) => update,
  }),
);
