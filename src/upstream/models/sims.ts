/** `GET sims/{iccid}` and `GET sims` (paginated) → SimDetails, with the order that created the eSIM. */
import { z } from 'zod';
import {
  dataOf,
  idString,
  isRecord,
  MISMATCH,
  optBoolean,
  optDate,
  optDecimal,
  optNumber,
  optString,
  pageOf,
  type Read,
  readIdString,
  readOptBoolean,
  readOptDate,
  readOptDecimal,
  readOptNumber,
  readOptString,
  withFastPath,
} from './conversions.ts';

export interface InitialOrder {
  id: string;
  code: string | null;
  packageId: string | null;
  packageTitle: string | null;
  validityDays: number | null;
  price: string | null;
  currency: string | null;
  dataLabel: string | null;
  status: string | null;
}

export interface SimDetails {
  id: string;
  iccid: string;
  createdAt: string | null;
  lpa: string | null;
  matchingId: string | null;
  qrCode: string | null;
  qrCodeUrl: string | null;
  appleInstallUrl: string | null;
  apnType: string | null;
  apnValue: string | null;
  isRoaming: boolean | null;
  recycled: boolean;
  recycledAt: string | null;
  voucherCode: string | null;
  confirmationCode: string | null;
  brandSettingsName: string | null;
  /** The order that created the eSIM (`simable` upstream). */
  initialOrder: InitialOrder | null;
}

const orderStatusText = (text: string | null) => (text ? text.toUpperCase() : null);

const orderStatus = z
  .union([z.string(), z.object({ slug: optString, name: optString }), z.null()])
  .optional()
  .transform((v) => {
    if (v === undefined || v === null) return null;
    return orderStatusText(typeof v === 'string' ? v : (v.slug ?? v.name));
  });

interface SimableFields {
  id: string;
  code: string | null;
  package_id: string | null;
  package: string | null;
  validity: number | null;
  price: string | null;
  currency: string | null;
  data: string | null;
  status: string | null;
}

const toInitialOrder = (o: SimableFields): InitialOrder => ({
  id: o.id,
  code: o.code,
  packageId: o.package_id,
  packageTitle: o.package,
  validityDays: o.validity,
  price: o.price,
  currency: o.currency,
  dataLabel: o.data,
  status: o.status,
});

const simable = z
  .object({
    id: idString,
    code: optString,
    package_id: optString,
    package: optString,
    validity: optNumber,
    price: optDecimal,
    currency: optString,
    data: optString,
    status: orderStatus,
  })
  .transform(toInitialOrder);

interface SimFields {
  id: string;
  iccid: string;
  created_at: string | null;
  lpa: string | null;
  matching_id: string | null;
  qrcode: string | null;
  qrcode_url: string | null;
  direct_apple_installation_url: string | null;
  apn_type: string | null;
  apn_value: string | null;
  is_roaming: boolean | null;
  recycled: boolean | null;
  recycled_at: string | null;
  voucher_code: string | null;
  confirmation_code: string | null;
  brand_settings_name: string | null;
  simable?: InitialOrder | null | undefined;
}

const toSimDetails = (s: SimFields): SimDetails => ({
  id: s.id,
  iccid: s.iccid,
  createdAt: s.created_at,
  lpa: s.lpa,
  matchingId: s.matching_id,
  qrCode: s.qrcode,
  qrCodeUrl: s.qrcode_url,
  appleInstallUrl: s.direct_apple_installation_url,
  apnType: s.apn_type,
  apnValue: s.apn_value,
  isRoaming: s.is_roaming,
  recycled: s.recycled ?? false,
  recycledAt: s.recycled_at,
  voucherCode: s.voucher_code,
  confirmationCode: s.confirmation_code,
  brandSettingsName: s.brand_settings_name,
  initialOrder: s.simable ?? null,
});

export const simSchema = z
  .object({
    id: idString,
    iccid: idString,
    created_at: optDate,
    lpa: optString,
    matching_id: optString,
    qrcode: optString,
    qrcode_url: optString,
    direct_apple_installation_url: optString,
    apn_type: optString,
    apn_value: optString,
    is_roaming: optBoolean,
    recycled: optBoolean,
    recycled_at: optDate,
    voucher_code: optString,
    confirmation_code: optString,
    brand_settings_name: optString,
    simable: simable.nullish(),
  })
  .transform(toSimDetails);

// ---- the fast path (see `withFastPath`): the same readers and transforms, without zod's allocations ----

function readOrderStatus(v: unknown): Read<string | null> {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return orderStatusText(v);
  if (!isRecord(v)) return MISMATCH;
  const slug = readOptString(v.slug);
  const name = readOptString(v.name);
  if (slug === MISMATCH || name === MISMATCH) return MISMATCH;
  return orderStatusText(slug ?? name);
}

function readSimable(v: unknown): Read<InitialOrder | null | undefined> {
  if (v === undefined || v === null) return v;
  if (!isRecord(v)) return MISMATCH;
  const fields = {
    id: readIdString(v.id),
    code: readOptString(v.code),
    package_id: readOptString(v.package_id),
    package: readOptString(v.package),
    validity: readOptNumber(v.validity),
    price: readOptDecimal(v.price),
    currency: readOptString(v.currency),
    data: readOptString(v.data),
    status: readOrderStatus(v.status),
  };
  for (const key in fields) if (fields[key as keyof typeof fields] === MISMATCH) return MISMATCH;
  return toInitialOrder(fields as SimableFields);
}

function readSim(v: unknown): Read<SimDetails> {
  if (!isRecord(v)) return MISMATCH;
  const fields = {
    id: readIdString(v.id),
    iccid: readIdString(v.iccid),
    created_at: readOptDate(v.created_at),
    lpa: readOptString(v.lpa),
    matching_id: readOptString(v.matching_id),
    qrcode: readOptString(v.qrcode),
    qrcode_url: readOptString(v.qrcode_url),
    direct_apple_installation_url: readOptString(v.direct_apple_installation_url),
    apn_type: readOptString(v.apn_type),
    apn_value: readOptString(v.apn_value),
    is_roaming: readOptBoolean(v.is_roaming),
    recycled: readOptBoolean(v.recycled),
    recycled_at: readOptDate(v.recycled_at),
    voucher_code: readOptString(v.voucher_code),
    confirmation_code: readOptString(v.confirmation_code),
    brand_settings_name: readOptString(v.brand_settings_name),
    simable: readSimable(v.simable),
  };
  for (const key in fields) if (fields[key as keyof typeof fields] === MISMATCH) return MISMATCH;
  return toSimDetails(fields as SimFields);
}

export const simResponseSchema = withFastPath(dataOf(simSchema), (json) =>
  isRecord(json) ? readSim(json.data) : MISMATCH,
);

export function simListResponseSchema(requested: { limit: number; page: number }) {
  return pageOf(simSchema, requested);
}
