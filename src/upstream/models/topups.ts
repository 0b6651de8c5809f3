/** `GET sims/{iccid}/topups` → the top-up packages a SIM can buy (unlimited packages carry no MB figure). */
import { z } from 'zod';
import {
  dataOf,
  decimal,
  idString,
  isRecord,
  MISMATCH,
  optNumber,
  optString,
  packageFields,
  type Read,
  readDecimal,
  readIdString,
  readOptBoolean,
  readOptDecimal,
  readOptNumber,
  readOptString,
  readString,
  withFastPath,
} from './conversions.ts';

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

interface TopupFields {
  id: string;
  type: string | null;
  title: string;
  price: string;
  net_price: string | null;
  currency: string | null;
  amount: number | null;
  day: number | null;
  is_unlimited: boolean | null;
  data: string | null;
  short_info: string | null;
  voice: number | null;
  text: number | null;
}

function toTopupPackage(p: TopupFields): TopupPackage {
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
  .transform(toTopupPackage);

/** The fast path of one package (see `withFastPath`): the same readers and transform as the schema above. */
function readTopupPackage(v: unknown): Read<TopupPackage> {
  if (!isRecord(v)) return MISMATCH;
  const fields = {
    id: readIdString(v.id),
    type: readOptString(v.type),
    title: readString(v.title),
    price: readDecimal(v.price),
    net_price: readOptDecimal(v.net_price),
    currency: readOptString(v.currency),
    amount: readOptNumber(v.amount),
    day: readOptNumber(v.day),
    is_unlimited: readOptBoolean(v.is_unlimited),
    data: readOptString(v.data),
    short_info: readOptString(v.short_info),
    voice: readOptNumber(v.voice),
    text: readOptNumber(v.text),
  };
  for (const key in fields) if (fields[key as keyof typeof fields] === MISMATCH) return MISMATCH;
  return toTopupPackage(fields as TopupFields);
}

function readTopups(json: unknown): Read<TopupPackage[]> {
  if (!isRecord(json) || !Array.isArray(json.data)) return MISMATCH;
  const packages: TopupPackage[] = [];
  for (const item of json.data) {
    const p = readTopupPackage(item);
    if (p === MISMATCH) return MISMATCH;
    packages.push(p);
  }
  return packages;
}

export const topupsResponseSchema = withFastPath(dataOf(z.array(topupPackage)), readTopups);
