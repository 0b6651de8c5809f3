/**
 * The operators and packages of the sandbox. Fixed (not seeded): tests and the README name these ids.
 * Trigger top-ups (as in Airalo's sandbox mode, by a marker in the package id): `insufficient-balance` fails with
 * code 11, `maintenance-mode` with 13, `disabled-top-up` with 23, `out-of-stock` with 34. They are in kallur-digital's
 * list, named `sandbox-trigger-<marker>` and titled "[sandbox trigger] …" so nobody mistakes them for real packages.
 */

export interface PackageDef {
  id: string;
  type: 'sim' | 'topup';
  operator: OperatorDef;
  priceCents: number;
  netPriceCents: number;
  amountMb: number;
  days: number;
  isUnlimited: boolean;
  title: string;
  /** "3 GB", "Unlimited" */
  dataLabel: string;
  shortInfo: string | null;
  voice: number | null;
  text: number | null;
}

export interface OperatorDef {
  slug: string;
  title: string;
  country: string;
  apnType: 'automatic' | 'manual';
  apnValue: string | null;
  initial: PackageDef;
  topups: PackageDef[];
  manualInstallation: string;
  qrcodeInstallation: string;
}

interface PackageSpec {
  suffix: string;
  /** Instead of `<operator>-<suffix>[-topup]` and the generated title (trigger packages). */
  id?: string;
  title?: string;
  price: number;
  mb: number;
  days: number;
  voice?: number;
  text?: number;
}

const NO_NUMBER = "This eSIM doesn't come with a phone number.";

function dataLabel(mb: number, unlimited: boolean): string {
  if (unlimited) return 'Unlimited';
  return mb >= 1024 ? `${mb / 1024} GB` : `${mb} MB`;
}

function titleOf(spec: PackageSpec, unlimited: boolean): string {
  const parts = [dataLabel(spec.mb, unlimited)];
  if (spec.text) parts.push(`${spec.text} SMS`);
  if (spec.voice) parts.push(`${spec.voice} Mins`);
  parts.push(spec.days === 1 ? '1 Day' : `${spec.days} Days`);
  return parts.join(' - ');
}

function defineOperator(
  slug: string,
  title: string,
  country: string,
  apn: { type: 'automatic' | 'manual'; value: string | null },
  unlimited: boolean,
  initial: PackageSpec,
  topups: PackageSpec[],
): OperatorDef {
  const operator = {
    slug,
    title,
    country,
    apnType: apn.type,
    apnValue: apn.value,
    manualInstallation: `<p><b>eSIM name:</b> ${title}</p><p><b>Coverage:</b> ${country}</p><p><b>To manually activate the eSIM on your eSIM capable device:</b></p><p>1. Settings> Cellular/Mobile> Add Cellular/Mobile Plan.</p><p>2. Manually enter the SM-DP+ Address and activation code.</p>`,
    qrcodeInstallation: `<p><b>eSIM name:</b> ${title}</p><p><b>Coverage:</b> ${country}</p><p><b>To activate the eSIM by scanning the QR code on your eSIM capable device:</b></p><p>1. Settings> Cellular/Mobile> Add Cellular/Mobile Plan.</p><p>2. Scan QR code</p>`,
  } as OperatorDef;
  const make = (spec: PackageSpec, type: 'sim' | 'topup'): PackageDef => ({
    id: spec.id ?? `${slug}-${spec.suffix}${type === 'topup' ? '-topup' : ''}`,
    type,
    operator,
    priceCents: Math.round(spec.price * 100),
    netPriceCents: Math.round(spec.price * 80),
    amountMb: unlimited ? 0 : spec.mb,
    days: spec.days,
    isUnlimited: unlimited,
    title: spec.title ?? titleOf(spec, unlimited),
    dataLabel: dataLabel(spec.mb, unlimited),
    shortInfo: type === 'topup' ? NO_NUMBER : null,
    voice: spec.voice ?? null,
    text: spec.text ?? null,
  });
  operator.initial = make(initial, 'sim');
  operator.topups = topups.map((spec) => make(spec, 'topup'));
  return operator;
}

export const TRIGGER_CODES: ReadonlyArray<readonly [marker: string, code: number]> = [
  ['insufficient-balance', 11],
  ['maintenance-mode', 13],
  ['disabled-top-up', 23],
  ['out-of-stock', 34],
];

/** Every trigger package id starts with this. */
export const TRIGGER_PREFIX = 'sandbox-trigger-';

const triggerPackage = ([marker, code]: readonly [string, number]): PackageSpec => ({
  suffix: marker,
  id: `${TRIGGER_PREFIX}${marker}`,
  title: `[sandbox trigger] ${marker.replaceAll('-', ' ')}: the order fails with code ${code}`,
  price: 9.5,
  mb: 1024,
  days: 7,
});

/** Index order matters: the generator gives the first SIMs one operator each. */
export const OPERATORS: readonly OperatorDef[] = [
  defineOperator(
    'merhaba',
    'Merhaba',
    'Turkey',
    { type: 'automatic', value: null },
    false,
    { suffix: '7days-1gb', price: 9.5, mb: 1024, days: 7 },
    [
      { suffix: '7days-1gb', price: 9.5, mb: 1024, days: 7 },
      { suffix: '15days-3gb', price: 17, mb: 3072, days: 15 },
      { suffix: '30days-5gb', price: 26, mb: 5120, days: 30 },
      { suffix: '30days-10gb', price: 40, mb: 10240, days: 30 },
    ],
  ),
  defineOperator(
    'bonbon-mobile',
    'Bonbon Mobile',
    'France',
    { type: 'manual', value: 'rh' },
    false,
    { suffix: '30days-3gb', price: 10, mb: 3072, days: 30, voice: 100, text: 100 },
    [
      { suffix: '30days-3gb', price: 10, mb: 3072, days: 30, voice: 100, text: 100 },
      { suffix: '30days-5gb', price: 15, mb: 5120, days: 30, voice: 100, text: 100 },
      { suffix: '30days-10gb', price: 22.5, mb: 10240, days: 30, voice: 100, text: 100 },
    ],
  ),
  defineOperator(
    'uki-mobile',
    'Uki Mobile',
    'United Kingdom',
    { type: 'manual', value: 'globaldata' },
    true,
    { suffix: '7days-unlimited', price: 25, mb: 0, days: 7 },
    [
      { suffix: '1day-unlimited', price: 5, mb: 0, days: 1 },
      { suffix: '3days-unlimited', price: 12, mb: 0, days: 3 },
      { suffix: '7days-unlimited', price: 25, mb: 0, days: 7 },
    ],
  ),
  defineOperator(
    'change',
    'Change',
    'Global',
    { type: 'automatic', value: null },
    false,
    { suffix: '7days-1gb', price: 4.5, mb: 1024, days: 7 },
    [
      { suffix: '7days-1gb', price: 4.5, mb: 1024, days: 7 },
      { suffix: '15days-2gb', price: 8, mb: 2048, days: 15 },
      { suffix: '30days-5gb', price: 17, mb: 5120, days: 30 },
    ],
  ),
  defineOperator(
    'sakura-mobile',
    'Sakura Mobile',
    'Japan',
    { type: 'automatic', value: null },
    false,
    { suffix: '7days-1gb', price: 6, mb: 1024, days: 7 },
    [],
  ),
  defineOperator(
    'kallur-digital',
    'Kallur Digital',
    'Faroe Islands',
    { type: 'automatic', value: null },
    false,
    { suffix: '7days-1gb', price: 9.5, mb: 1024, days: 7 },
    [
      { suffix: '7days-1gb', price: 9.5, mb: 1024, days: 7 },
      { suffix: '30days-3gb', price: 20, mb: 3072, days: 30 },
      ...TRIGGER_CODES.map(triggerPackage),
    ],
  ),
];

/** The business error code a trigger package id asks for, if any. */
export function triggerCode(packageId: string): number | null {
  for (const [marker, code] of TRIGGER_CODES) if (packageId.includes(marker)) return code;
  return null;
}
