/** `GET sims/{iccid}/topups` → the top-up packages a SIM can buy (unlimited packages carry no MB figure). */
import { z } from 'zod';
import { dataOf, decimal, idString, optNumber, optString, packageFields } from './conversions.ts';

export interface TopupPackage {
  id: string;
  type: string;
  title: string;
  price: string;
  netPrice: string | null;
  currency: string;
  amountMb: number | null;
  validityDays: number | null;
  isUnlimited: boolean;
  dataLabel: string | null;
  shortInfo: string | null;
  voiceMinutes: number | null;
  texts: number | null;
}

const topupPackage = z
  .object({
    id: idString,
    type: optString,
    title: z.string(),
    price: decimal,
    ...packageFields,
    short_info: optString,
    voice: optNumber,
    text: optNumber,
  })
  .transform((p): TopupPackage => {
    const isUnlimited = p.is_unlimited ?? false;
    return {
      id: p.id,
      type: p.type ?? 'topup',
      title: p.title,
      price: p.price,
      netPrice: p.net_price,
      currency: p.currency ?? 'USD',
      amountMb: isUnlimited ? null : p.amount,
      validityDays: p.day,
      isUnlimited,
      dataLabel: p.data,
      shortInfo: p.short_info,
      voiceMinutes: p.voice,
      texts: p.text,
    };
  });

export const topupsResponseSchema = dataOf(z.array(topupPackage));
