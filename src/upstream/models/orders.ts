/** `POST orders/topups`, `GET orders/{id}` and `GET orders` (paginated) → TopupOrder. */
import { z } from 'zod';
import { dataOf, date, decimal, idString, optDecimal, optNumber, optString, pageOf } from './conversions.ts';

export interface TopupOrder {
  id: string;
  code: string;
  packageId: string;
  title: string | null;
  price: string;
  netPrice: string | null;
  currency: string;
  createdAt: string;
  description: string | null;
  iccid: string | null;
  validityDays: number | null;
  dataLabel: string | null;
}

const topupOrder = z
  .object({
    id: idString,
    code: idString,
    package_id: idString,
    package: optString,
    price: decimal,
    net_price: optDecimal,
    currency: optString,
    created_at: date,
    description: optString,
    iccid: optString,
    sims: z.array(z.object({ iccid: idString })).nullish(),
    validity: optNumber,
    data: optString,
  })
  .transform(
    (o): TopupOrder => ({
      id: o.id,
      code: o.code,
      packageId: o.package_id,
      title: o.package,
      price: o.price,
      netPrice: o.net_price,
      currency: o.currency ?? 'USD',
      createdAt: o.created_at,
      description: o.description,
      iccid: o.iccid ?? o.sims?.[0]?.iccid ?? null,
      validityDays: o.validity,
      dataLabel: o.data,
    }),
  );

export const orderResponseSchema = dataOf(topupOrder);

export function orderListResponseSchema(requested: { limit: number; page: number }) {
  return pageOf(topupOrder, requested);
}
