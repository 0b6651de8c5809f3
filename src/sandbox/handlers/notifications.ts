/**
 * POST/GET notifications/opt-in, POST notifications/opt-out, POST simulator/webhook (Airalo "Notifications").
 * Served under both base paths (PressOne documents no webhooks; the sandbox does not tell them apart here).
 */
import { invalid, json } from '../http-io.ts';
import { tooManyAttempts } from '../limits.ts';
import { NOTIFICATION_TYPES, type SandboxNotificationType, SIMULATOR_LEVELS } from '../notifications.ts';
import type { SandboxResponse } from '../types.ts';
import type { RequestContext } from './context.ts';

const isType = (value: string | undefined): value is SandboxNotificationType =>
  (NOTIFICATION_TYPES as readonly string[]).includes(value ?? '');

function settingBody(setting: { type: string; contactPoint: string; levels: number[] | null }) {
  return {
    data: {
      notification: {
        type: setting.type,
        contact_point: setting.contactPoint,
        ...(setting.levels ? { levels: setting.levels } : {}),
      },
    },
    meta: { message: 'success' },
  };
}

function parseLevels(raw: string | undefined): number[] | null | 'invalid' {
  if (raw === undefined) return null;
  try {
    const levels = JSON.parse(raw) as unknown;
    if (!Array.isArray(levels) || levels.length === 0) return 'invalid';
    if (!levels.every((l) => Number.isInteger(l) && l >= 1 && l <= 100)) return 'invalid';
    return levels as number[];
  } catch {
    return 'invalid';
  }
}

/** Opt-in: the URL must answer a HEAD with 200 OK (the docs' note), checked before the setting is stored. */
export async function optIn(ctx: RequestContext): Promise<SandboxResponse> {
  const { type, webhook_url: url, email } = ctx.body;
  if (!isType(type)) return invalid({ type: `The type must be one of ${NOTIFICATION_TYPES.join(', ')}.` });
  const levels = parseLevels(ctx.body.levels);
  if (levels === 'invalid') return invalid({ levels: 'The levels must be a list of percentages (1–100).' });
  if (type.endsWith('credit_limit') && !levels) return invalid({ levels: 'The levels field is required.' });
  const isWebhook = !type.startsWith('email_');
  const contactPoint = isWebhook ? url : email;
  if (!contactPoint)
    return invalid(
      isWebhook ? { webhook_url: 'The webhook url field is required.' } : { email: 'The email field is required.' },
    );
  if (isWebhook) {
    let ok = false;
    try {
      const parsed = new URL(contactPoint);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
        const response = await fetch(parsed, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
        ok = response.status === 200;
      }
    } catch {
      ok = false;
    }
    if (!ok) return invalid({ webhook_url: 'The webhook url did not answer a HEAD request with 200 OK.' });
  }
  const setting = { type, contactPoint, levels: type.endsWith('credit_limit') ? levels : null };
  ctx.state.notifications.optIn(setting);
  return json(200, settingBody(setting));
}

/** The current setting of `?type=` (default `webhook_low_data`, the one the docs show); `data: []` when none. */
export function getSetting(ctx: RequestContext): SandboxResponse {
  const type = ctx.query.get('type') ?? 'webhook_low_data';
  if (!isType(type)) return invalid({ type: `The type must be one of ${NOTIFICATION_TYPES.join(', ')}.` });
  const setting = ctx.state.notifications.settings.get(type);
  return json(200, setting ? settingBody(setting) : { data: [], meta: { message: 'success' } });
}

export function optOut(ctx: RequestContext): SandboxResponse {
  const { type } = ctx.body;
  if (!isType(type)) return invalid({ type: `The type must be one of ${NOTIFICATION_TYPES.join(', ')}.` });
  ctx.state.notifications.optOut(type);
  return { status: 204, headers: {}, body: '' };
}

/** The simulator: one mock low-data delivery to the opted-in URL; 1 request per 15 minutes per IP. */
export function simulateWebhook(ctx: RequestContext): SandboxResponse {
  const decision = ctx.state.simulatorLimiter.hit(ctx.clientIp);
  if (!decision.allowed) return tooManyAttempts(decision);
  const { event, type, iccid } = ctx.body;
  if (event !== 'low_data_notification') return invalid({ event: 'The selected event is invalid.' });
  const level = SIMULATOR_LEVELS[type ?? ''];
  if (!level) return invalid({ type: 'The selected type is invalid.' });
  const setting = ctx.state.notifications.settings.get('webhook_low_data');
  if (!setting) return json(422, { message: 'You are not opted in to low data notifications.' });
  const sim = iccid ? ctx.state.data.simByIccid(iccid) : undefined;
  const packageName = sim?.purchases[sim.purchases.length - 1]?.pkg.id ?? 'bonbon-7gb-10days';
  ctx.state.notifications.deliver(setting, {
    level,
    package_name: packageName,
    remaining_percentage: level === '90%' ? 10 : level === '75%' ? 25 : 43,
    iccid: iccid ?? ctx.state.data.iccids[0]!,
  });
  return json(200, { success: 'Notification sent' });
}
