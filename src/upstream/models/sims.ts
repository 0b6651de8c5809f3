/** `GET sims/{iccid}` and `GET sims` (paginated) → SimDetails, with the order that created the eSIM. */
import { z } from 'zod';
import { dataOf, idString, optBoolean, optDate, optDecimal, optNumber, optString, pageOf } from './conversions.ts';

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

const orderStatus = z
  .union([z.string(), z.object({ slug: optString, name: optString }), z.null()])
  .optional()
  .transform((v) => {
    if (v === undefined || v === null) return null;
    const text = typeof v === 'string' ? v : (v.slug ?? v.name);
    return text ? text.toUpperCase() : null;
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
  .transform(
    (o): InitialOrder => ({
      id: o.id,
      code: o.code,
      packageId: o.package_id,
      packageTitle: o.package,
      validityDays: o.validity,
      price: o.price,
      currency: o.currency,
      dataLabel: o.data,
      status: o.status,
    }),
  );

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
  .transform(
    (s): SimDetails => ({
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
    }),
  );

export const simResponseSchema = dataOf(simSchema);

export function simListResponseSchema(requested: { limit: number; page: number }) {
  return pageOf(simSchema, requested);
}
