/** Upstream JSON shapes, built from the data set. Field order follows the documented examples. */
import type { PackageDef } from './catalog.ts';
import type { Purchase, SimRecord } from './data.ts';
import { formatDateTime, formatIso, orderCode, usd, usdString } from './format.ts';
import type { SandboxFlavour } from './types.ts';

const USER = {
  id: 120,
  created_at: '2023-02-20 08:41:57',
  name: 'Sandbox Partner',
  email: 'partner@sandbox.example',
  mobile: null,
  address: null,
  state: null,
  city: null,
  postal_code: null,
  country_id: null,
  company: 'Sandbox Partner Ltd',
};
const STATUS_COMPLETED = { name: 'Completed', slug: 'completed' };
const LPA = 'lpa.sandbox.example';

export function brandOf(flavour: SandboxFlavour): string {
  return flavour === 'pressone' ? 'PressOne' : 'Airalo';
}

function installationGuides(origin: string): { en: string } {
  return { en: `${origin}/installation-guide` };
}

function date(ms: number | null): string | null {
  return ms === null ? null : formatDateTime(ms);
}

export function renderSimCore(sim: SimRecord, origin: string): Record<string, unknown> {
  const qrcode = `LPA:1$${LPA}$${sim.matchingId}`;
  return {
    id: sim.id,
    created_at: formatDateTime(sim.createdAt),
    iccid: sim.iccid,
    lpa: LPA,
    imsis: null,
    matching_id: sim.matchingId,
    qrcode,
    qrcode_url: `${origin}/qr?id=${sim.id}`,
    direct_apple_installation_url: `https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=${qrcode}`,
    voucher_code: null,
    airalo_code: null,
    apn_type: sim.operator.apnType,
    apn_value: sim.operator.apnValue,
    is_roaming: true,
    confirmation_code: sim.confirmationCode,
  };
}

/** Fields shared by order list items, one order and a SIM's `simable`. */
export function renderOrderCore(order: Purchase, origin: string): Record<string, unknown> {
  const op = order.pkg.operator;
  return {
    id: order.id,
    created_at: formatDateTime(order.createdAt),
    code: orderCode(order.createdAt, order.id),
    description: order.description,
    type: order.pkg.type,
    package_id: order.pkg.id,
    quantity: 1,
    package: `${op.title}-${order.pkg.title}`,
    esim_type: 'Prepaid',
    validity: String(order.pkg.days),
    price: usdString(order.pkg.priceCents),
    data: order.pkg.dataLabel,
    currency: 'USD',
    manual_installation: op.manualInstallation,
    qrcode_installation: op.qrcodeInstallation,
    installation_guides: installationGuides(origin),
  };
}

export function renderSim(sim: SimRecord, origin: string, include: Set<string>): Record<string, unknown> {
  const simable = renderOrderCore(sim.purchases[0]!, origin);
  if (include.has('order.status')) simable.status = STATUS_COMPLETED;
  if (include.has('order.user')) simable.user = USER;
  if (include.has('share')) {
    simable.sharing = {
      link: `${origin}/share/${sim.matchingId.toLowerCase()}`,
      access_code: String(1000 + (sim.id % 9000)),
    };
  }
  return {
    ...renderSimCore(sim, origin),
    order: null,
    brand_settings_name: null,
    recycled: sim.recycledAt !== null,
    recycled_at: date(sim.recycledAt),
    simable,
  };
}

export function renderOrder(order: Purchase, origin: string, include: Set<string>): Record<string, unknown> {
  const out = renderOrderCore(order, origin);
  if (include.has('sims')) out.sims = [renderSimCore(order.sim, origin)];
  if (include.has('user')) out.user = USER;
  if (include.has('status')) out.status = STATUS_COMPLETED;
  return out;
}

/** The 200 body of a top-up submission (numbers as numbers here, unlike the order list). */
export function renderSubmittedTopup(order: Purchase, origin: string): Record<string, unknown> {
  const pkg = order.pkg;
  return {
    package_id: pkg.id,
    quantity: '1',
    type: 'topup',
    description: order.description,
    esim_type: 'Prepaid',
    validity: pkg.days,
    package: `${pkg.operator.title}-${pkg.title}`,
    data: pkg.dataLabel,
    price: usd(pkg.priceCents),
    net_price: usd(pkg.netPriceCents),
    text: pkg.text,
    voice: pkg.voice,
    created_at: formatDateTime(order.createdAt),
    id: order.id,
    code: orderCode(order.createdAt, order.id),
    currency: 'USD',
    manual_installation: '',
    qrcode_installation: '',
    installation_guides: installationGuides(origin),
  };
}

export function renderTopupPackage(pkg: PackageDef): Record<string, unknown> {
  return {
    id: pkg.id,
    type: 'topup',
    price: usd(pkg.priceCents),
    amount: pkg.amountMb,
    day: pkg.days,
    is_unlimited: pkg.isUnlimited,
    title: pkg.title,
    data: pkg.dataLabel,
    short_info: pkg.shortInfo,
    voice: pkg.voice,
    text: pkg.text,
    net_price: usd(pkg.netPriceCents),
  };
}

/** Live usage of a SIM (the sandbox caches this per ICCID, see state.ts). */
export function renderUsage(sim: SimRecord): Record<string, unknown> {
  const recycled = sim.status === 'RECYCLED';
  return {
    remaining: sim.isUnlimited ? 0 : sim.remainingMb,
    total: sim.isUnlimited ? 0 : sim.totalMb,
    expired_at: recycled ? null : date(sim.usageExpiredAt),
    is_unlimited: recycled ? null : sim.isUnlimited,
    status: sim.status,
    remaining_voice: sim.remainingVoice,
    remaining_text: sim.remainingText,
    total_voice: sim.totalVoice,
    total_text: sim.totalText,
  };
}

export function renderHistoryItem(p: Purchase, flavour: SandboxFlavour): Record<string, unknown> {
  const style = flavour === 'pressone' ? 'z' : 'offset';
  const iso = (ms: number | null): string | null => (ms === null ? null : formatIso(ms, style));
  return {
    id: p.id,
    status: flavour === 'pressone' ? p.status.toLowerCase() : p.status,
    remaining: p.pkg.isUnlimited ? 0 : p.remainingMb,
    activated_at: iso(p.activatedAt),
    expired_at: iso(p.expiredAt),
    finished_at: iso(p.finishedAt),
    package: {
      id: p.pkg.id,
      type: p.pkg.type === 'sim' ? 'initial' : 'topup',
      price: usd(p.pkg.priceCents),
      net_price: usd(p.pkg.netPriceCents),
      amount: p.pkg.amountMb,
      day: p.pkg.days,
      is_unlimited: p.pkg.isUnlimited,
      title: `${p.pkg.operator.title} - ${p.pkg.title}`,
      data: p.pkg.dataLabel,
      short_info: p.pkg.shortInfo,
    },
  };
}

/** Newest first, in the flavour's envelope. */
export function renderHistory(sim: SimRecord, flavour: SandboxFlavour, now: number): Record<string, unknown> {
  const items = sim.purchases.map((p) => renderHistoryItem(p, flavour)).reverse();
  if (flavour === 'airalo') return { data: items };
  return {
    success: true,
    code: 'PACKAGE_HISTORY_RETRIEVED',
    message: 'Package history retrieved successfully',
    data: { data: items },
    timestamp: new Date(now).toISOString(),
  };
}
