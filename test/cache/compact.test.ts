import { describe, expect, it } from 'vitest';
import { compactSimDetails } from '../../src/domain/cache/compact.ts';
import type { SimDetails } from '../../src/upstream/index.ts';

const details = (over: Partial<SimDetails> = {}): SimDetails => ({
  id: '11005',
  iccid: '8944783547293530335',
  createdAt: '2025-09-19T12:03:49.000Z',
  lpa: 'lpa.sandbox.example',
  matchingId: 'P69YY-GF1N9-JN350-41IUT',
  qrCode: 'LPA:1$lpa.sandbox.example$P69YY-GF1N9-JN350-41IUT',
  qrCodeUrl: 'https://sandbox.example/qr?id=11005',
  appleInstallUrl:
    'https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA:1$lpa.sandbox.example$P69YY-GF1N9-JN350-41IUT',
  apnType: 'automatic',
  apnValue: null,
  isRoaming: true,
  recycled: false,
  recycledAt: null,
  voucherCode: null,
  confirmationCode: null,
  brandSettingsName: null,
  initialOrder: {
    id: '9021',
    code: '20250919-009021',
    packageId: 'kallur-7days-1gb',
    packageTitle: 'Kallur 1 GB',
    validityDays: 7,
    price: '9.50',
    currency: 'USD',
    dataLabel: '1 GB',
    status: null,
  },
  ...over,
});

describe('compactSimDetails', () => {
  it('is lossless: every field reads back as the upstream sent it, JSON included', () => {
    for (const original of [
      details(),
      details({ qrCode: 'LPA:1$other.example$X', appleInstallUrl: 'https://elsewhere.example/install' }), // not derivable: kept
      details({ qrCode: null, appleInstallUrl: null, lpa: null, matchingId: null, initialOrder: null }),
      details({ appleInstallUrl: null }),
    ]) {
      const compact = compactSimDetails(original);
      for (const key of Object.keys(original) as (keyof SimDetails)[]) expect(compact[key], key).toEqual(original[key]);
      expect(JSON.parse(JSON.stringify(compact))).toEqual(original);
    }
  });

  it('is idempotent (a primed or patched value is not wrapped twice)', () => {
    const a = compactSimDetails(details());
    expect(compactSimDetails(a)).toBe(a);
  });
});
