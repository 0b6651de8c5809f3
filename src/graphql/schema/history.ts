/** `PackageHistory`: the packages a SIM has had (initial and top-ups), and `Sim.packageHistory`. */
import type { CacheRead } from '../../domain/cache/index.ts';
import type { HistoryEntry } from '../../upstream/index.ts';
import { builder } from './builder.ts';
import { MoneyRef } from './money.ts';
import { PackageView } from './package-view.ts';
import { readSimResource, SimRef } from './sim.ts';

const PACKAGE_STATUSES = ['NOT_ACTIVE', 'ACTIVE', 'FINISHED', 'EXPIRED', 'UNKNOWN'] as const;
type PackageStatusValue = (typeof PACKAGE_STATUSES)[number];

const PackageStatus = builder.enumType('PackageStatus', { values: PACKAGE_STATUSES });
const PackageType = builder.enumType('PackageType', { values: ['INITIAL', 'TOPUP', 'SIM'] as const });

const toPackageStatus = (status: string): PackageStatusValue =>
  (PACKAGE_STATUSES as readonly string[]).includes(status) ? (status as PackageStatusValue) : 'UNKNOWN';

type HistoryPackage = HistoryEntry['package'];

/** A history package: the shared package fields, plus its type. */
class PackageInfoView extends PackageView<HistoryPackage> {
  get type() {
    return this.p.type;
  }
}

/** What a `PackageHistory` field reads: the entry's fields as properties, the status as the enum knows it. */
class HistoryEntryView {
  readonly #h: HistoryEntry;
  constructor(h: HistoryEntry) {
    this.#h = h;
  }
  get id() {
    return this.#h.id;
  }
  get status() {
    return toPackageStatus(this.#h.status);
  }
  get remainingMb() {
    return this.#h.remainingMb;
  }
  get activatedAt() {
    return this.#h.activatedAt;
  }
  get expiresAt() {
    return this.#h.expiresAt;
  }
  get finishedAt() {
    return this.#h.finishedAt;
  }
  get package() {
    return new PackageInfoView(this.#h.package);
  }
}

const historyViews = (read: CacheRead<HistoryEntry[]>) => read.value.map((h) => new HistoryEntryView(h));

const PackageInfo = builder.objectRef<PackageInfoView>('PackageInfo').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    type: t.expose('type', { type: PackageType }),
    title: t.exposeString('title'),
    price: t.expose('price', { type: MoneyRef, nullable: true }),
    netPrice: t.expose('netPrice', { type: MoneyRef, nullable: true }),
    amountMb: t.exposeInt('amountMb', { nullable: true }),
    validityDays: t.exposeInt('validityDays', { nullable: true }),
    isUnlimited: t.exposeBoolean('isUnlimited', { nullable: true }),
    dataLabel: t.exposeString('dataLabel', { nullable: true }),
  }),
});

const PackageHistoryRef = builder.objectRef<HistoryEntryView>('PackageHistory').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.expose('status', { type: PackageStatus }),
    remainingMb: t.exposeInt('remainingMb', { nullable: true }),
    activatedAt: t.expose('activatedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    package: t.expose('package', { type: PackageInfo }),
  }),
});

const PackageHistoryList = builder.objectRef<CacheRead<HistoryEntry[]>>('PackageHistoryList').implement({
  description: 'The history with its freshness: the upstream allows one read per SIM per 15 minutes.',
  fields: (t) => ({
    entries: t.field({ type: [PackageHistoryRef], resolve: historyViews }),
    fetchedAt: t.field({ type: 'DateTime', resolve: (h) => h.fetchedAt }),
    stale: t.boolean({ resolve: (h) => h.stale }),
  }),
});

builder.objectField(SimRef, 'packageHistory', (t) =>
  t.field({
    type: [PackageHistoryRef],
    nullable: true,
    description: 'Initial package and top-ups, oldest first. Purchases made through this gateway appear at once.',
    resolve: (sim, _args, ctx, info) => readSimResource(ctx, info, 'history', sim.iccid, historyViews),
  }),
);

builder.objectField(SimRef, 'packageHistoryInfo', (t) =>
  t.field({
    type: PackageHistoryList,
    nullable: true,
    description: '`packageHistory` with `fetchedAt` and `stale` (shares the same upstream read).',
    resolve: (sim, _args, ctx, info) => readSimResource(ctx, info, 'history', sim.iccid, (r) => r),
  }),
);
