/**
 * Memory layout of cached values. With 100k SIMs cached, the SIM details dominate the gateway's memory; these
 * functions store them losslessly in less space:
 * - strings drawn from a small set (LPA server, APN type, package id and title, currency, price …) are interned, so
 *   100k SIMs on one operator share one copy instead of holding 100k;
 * - `qrCode` and `appleInstallUrl` are not stored when they are what the upstream always derives them to be
 *   (`LPA:1$<lpa>$<matchingId>`, Apple's install URL around it) and are rebuilt on read; any other value is kept as is.
 * Reads see the same `SimDetails` as before (`JSON.stringify` included). See README.md, "Caching and upstream budgets".
 */
import type { InitialOrder, SimDetails } from '../../upstream/index.ts';

/** Interned strings, bounded: past the bound new strings are simply not shared (nothing is lost). */
const INTERN_MAX = 10_000;
const interned = new Map<string, string>();

function intern(value: string | null): string | null {
  if (value === null || value.length > 200) return value;
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size < INTERN_MAX) interned.set(value, value);
  return value;
}

const APPLE_INSTALL_PREFIX = 'https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=';
const derivedQrCode = (lpa: string | null, matchingId: string | null) =>
  lpa !== null && matchingId !== null ? `LPA:1$${lpa}$${matchingId}` : null;

/** Marks a field as "derived on read": not a string the upstream can send. */
const DERIVED = Symbol('derived');
type Stored = string | null | typeof DERIVED;

class CompactSimDetails implements SimDetails {
  readonly id: string;
  readonly iccid: string;
  readonly createdAt: string | null;
  readonly lpa: string | null;
  readonly matchingId: string | null;
  readonly qrCodeUrl: string | null;
  readonly apnType: string | null;
  readonly apnValue: string | null;
  readonly isRoaming: boolean | null;
  readonly recycled: boolean;
  readonly recycledAt: string | null;
  readonly voucherCode: string | null;
  readonly confirmationCode: string | null;
  readonly brandSettingsName: string | null;
  readonly initialOrder: InitialOrder | null;
  readonly #qrCode: Stored;
  readonly #appleInstallUrl: Stored;

  constructor(d: SimDetails) {
    this.id = d.id;
    this.iccid = d.iccid;
    this.createdAt = d.createdAt;
    this.lpa = intern(d.lpa);
    this.matchingId = d.matchingId;
    this.qrCodeUrl = d.qrCodeUrl;
    this.apnType = intern(d.apnType);
    this.apnValue = intern(d.apnValue);
    this.isRoaming = d.isRoaming;
    this.recycled = d.recycled;
    this.recycledAt = d.recycledAt;
    this.voucherCode = d.voucherCode;
    this.confirmationCode = d.confirmationCode;
    this.brandSettingsName = intern(d.brandSettingsName);
    this.initialOrder = d.initialOrder && {
      id: d.initialOrder.id,
      code: d.initialOrder.code,
      packageId: intern(d.initialOrder.packageId),
      packageTitle: intern(d.initialOrder.packageTitle),
      validityDays: d.initialOrder.validityDays,
      price: intern(d.initialOrder.price),
      currency: intern(d.initialOrder.currency),
      dataLabel: intern(d.initialOrder.dataLabel),
      status: intern(d.initialOrder.status),
    };
    const qr = derivedQrCode(d.lpa, d.matchingId);
    this.#qrCode = d.qrCode !== null && d.qrCode === qr ? DERIVED : d.qrCode;
    this.#appleInstallUrl =
      d.appleInstallUrl !== null && d.qrCode !== null && d.appleInstallUrl === APPLE_INSTALL_PREFIX + d.qrCode
        ? DERIVED
        : d.appleInstallUrl;
  }

  get qrCode(): string | null {
    return this.#qrCode === DERIVED ? derivedQrCode(this.lpa, this.matchingId) : this.#qrCode;
  }

  get appleInstallUrl(): string | null {
    return this.#appleInstallUrl === DERIVED ? APPLE_INSTALL_PREFIX + this.qrCode : this.#appleInstallUrl;
  }

  toJSON(): SimDetails {
    return { ...this, qrCode: this.qrCode, appleInstallUrl: this.appleInstallUrl };
  }
}

export function compactSimDetails(details: SimDetails): SimDetails {
  return details instanceof CompactSimDetails ? details : new CompactSimDetails(details);
}
