/** `PackageHistory`: the packages a SIM has had (initial and top-ups), and `Sim.packageHistory`. */
import type { CacheRead } from '../../domain/cache/index.ts';
import type { HistoryEntry } from '../../upstream/index.ts';
import { builder } from './builder.ts';
import { MoneyRef, money } from './money.ts';
import { readSimResource, SimRef } from './sim.ts';

const PACKAGE_STATUSES = ['NOT_ACTIVE', 'ACTIVE', 'FINISHED', 'EXPIRED', 'UNKNOWN'] as const;
type PackageStatusValue = (typeof PACKAGE_STATUSES)[number];

const PackageStatus = builder.enumType('PackageStatus', { values: PACKAGE_STATUSES });
const PackageType = builder.enumType('PackageType', { values: ['INITIAL', 'TOPUP', 'SIM'] as const });

const toPackageStatus = (status: string): PackageStatusValue =>
  (PACKAGE_STATUSES as readonly string[]).includes(status) ? (status as PackageStatusValue) : 'UNKNOWN';

type HistoryPackage = HistoryEntry['package'];

const PackageInfo = builder.objectRef<HistoryPackage>('PackageInfo').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    type: t.field({ type: PackageType, resolve: (p) => p.type }),
    title: t.exposeString('title'),
    price: t.field({ type: MoneyRef, nullable: true, resolve: (p) => money(p.price, p.currency) }),
    netPrice: t.field({ type: MoneyRef, nullable: true, resolve: (p) => money(p.netPrice, p.currency) }),
    amountMb: t.int({ nullable: true, resolve: (p) => p.amountMb }),
    validityDays: t.int({ nullable: true, resolve: (p) => p.validityDays }),
    isUnlimited: t.boolean({ nullable: true, resolve: (p) => p.isUnlimited }),
    dataLabel: t.string({ nullable: true, resolve: (p) => p.dataLabel }),
  }),
});

const PackageHistoryRef = builder.objectRef<HistoryEntry>('PackageHistory').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.field({ type: PackageStatus, resolve: (h) => toPackageStatus(h.status) }),
    remainingMb: t.int({ nullable: true, resolve: (h) => h.remainingMb }),
    activatedAt: t.field({ type: 'DateTime', nullable: true, resolve: (h) => h.activatedAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (h) => h.expiresAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (h) => h.finishedAt }),
    package: t.field({ type: PackageInfo, resolve: (h) => h.package }),
  }),
});

const PackageHistoryList = builder.objectRef<CacheRead<HistoryEntry[]>>('PackageHistoryList').implement({
  description: 'The history with its freshness: the upstream allows one read per SIM per 15 minutes.',
  fields: (t) => ({
    entries: t.field({ type: [PackageHistoryRef], resolve: (h) => h.value }),
    fetchedAt: t.field({ type: 'DateTime', resolve: (h) => h.fetchedAt }),
    stale: t.boolean({ resolve: (h) => h.stale }),
  }),
});

builder.objectField(SimRef, 'packageHistory', (t) =>
  t.field({
    type: [PackageHistoryRef],
    nullable: true,
    description: 'Initial package and top-ups, oldest first. Purchases made through this gateway appear at once.',
    resolve: async (sim, _args, ctx, info) => (await readSimResource(ctx, info, 'history', sim.iccid)).value,
  }),
);

builder.objectField(SimRef, 'packageHistoryInfo', (t) =>
  t.field({
    type: PackageHistoryList,
    nullable: true,
    description: '`packageHistory` with `fetchedAt` and `stale` (shares the same upstream read).',
    resolve: (sim, _args, ctx, info) => readSimResource(ctx, info, 'history', sim.iccid),
  }),
);
