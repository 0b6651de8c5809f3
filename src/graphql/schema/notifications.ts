/**
 * Partner-only management of the upstream's webhook notifications: `alertNotifications` reads each type's current
 * setting, `setAlertNotification` opts in (to this gateway's WEBHOOK_PUBLIC_URL + WEBHOOK_PATH; the upstream checks
 * it with a HEAD first) or out. End users get FORBIDDEN. See README.md, "Live alerts".
 */
import type { NotificationSetting, NotificationType } from '../../upstream/index.ts';
import type { GatewayContext } from '../context.ts';
import { badUserInput, GatewayError, toGraphQLError } from '../errors.ts';
import { builder } from './builder.ts';

const TYPE_NAMES = {
  LOW_DATA: 'webhook_low_data',
  CREDIT_LIMIT: 'webhook_credit_limit',
  ASYNC_ORDERS: 'async_orders',
} as const;
type TypeName = keyof typeof TYPE_NAMES;
const NAME_OF = Object.fromEntries(Object.entries(TYPE_NAMES).map(([k, v]) => [v, k])) as Record<
  NotificationType,
  TypeName
>;

const NotificationTypeRef = builder.enumType('AlertNotificationType', {
  values: {
    LOW_DATA: { description: 'Low data (75 %, 90 % used) and expiry (3 days, 1 day) of each SIM: `simAlerts`.' },
    CREDIT_LIMIT: { description: 'The partner balance crossing the chosen `levels`: `balanceAlerts`.' },
    ASYNC_ORDERS: { description: 'Results of asynchronous orders (acknowledged and logged, not published).' },
  },
});

interface SettingRow {
  type: NotificationType;
  setting: NotificationSetting | null;
}

const NotificationSettingRef = builder.objectRef<SettingRow>('AlertNotificationSetting').implement({
  fields: (t) => ({
    type: t.field({ type: NotificationTypeRef, resolve: (r) => NAME_OF[r.type] }),
    enabled: t.boolean({ resolve: (r) => r.setting !== null }),
    webhookUrl: t.string({ nullable: true, resolve: (r) => r.setting?.contactPoint ?? null }),
    levels: t.intList({ nullable: true, resolve: (r) => r.setting?.levels ?? null }),
  }),
});

function partnerOnly(ctx: GatewayContext): void {
  if (ctx.principal.kind !== 'partner')
    throw new GatewayError('FORBIDDEN', 'Only partner API keys may manage notifications.');
}

builder.queryField('alertNotifications', (t) =>
  t.field({
    type: [NotificationSettingRef],
    description: "The upstream's current webhook notification settings, one per type (partners only).",
    resolve: async (_root, _args, ctx) => {
      partnerOnly(ctx);
      try {
        return await ctx.data.notificationSettings();
      } catch (error) {
        throw toGraphQLError(error);
      }
    },
  }),
);

builder.mutationField('setAlertNotification', (t) =>
  t.field({
    type: NotificationSettingRef,
    description:
      "Opts in to (`enabled: true`, at this gateway's WEBHOOK_PUBLIC_URL + WEBHOOK_PATH) or out of one notification type at the upstream (partners only). `levels`: credit-limit thresholds in percent (1–100).",
    args: {
      type: t.arg({ type: NotificationTypeRef, required: true }),
      enabled: t.arg.boolean({ required: true }),
      levels: t.arg.intList({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      partnerOnly(ctx);
      const type = TYPE_NAMES[args.type as TypeName];
      const { webhookPublicUrl, webhookPath } = ctx.config.alerts;
      if (args.enabled && !webhookPublicUrl)
        throw new GatewayError(
          'NOT_CONFIGURED',
          'Set WEBHOOK_PUBLIC_URL to the URL the upstream can reach this gateway at.',
        );
      const levels = args.levels ?? undefined;
      if (levels && (levels.length > 20 || levels.some((l) => l < 1 || l > 100)))
        throw badUserInput('levels are 1 to 20 percentages between 1 and 100.', 'levels');
      if (type === 'webhook_credit_limit' && args.enabled && !levels?.length)
        throw badUserInput('CREDIT_LIMIT needs levels, e.g. [50, 80, 90].', 'levels');
      const webhookUrl = webhookPublicUrl ? new URL(webhookPath, webhookPublicUrl).href : '';
      try {
        const setting = await ctx.data.setNotification({
          type,
          enabled: args.enabled,
          webhookUrl,
          ...(levels ? { levels } : {}),
        });
        return { type, setting };
      } catch (error) {
        throw toGraphQLError(error);
      }
    },
  }),
);
