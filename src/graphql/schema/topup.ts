/**
 * Top-ups: `TopupPackage` and `Sim.topupPackages` (what can be bought), and the `purchaseTopup`
 * mutation with its result union: one member per purchase failure code of the vocabulary
 * (src/domain/errors.ts), each implementing `Error`.
 */
import { canAccess } from '../../domain/auth.ts';
import type { CacheRead } from '../../domain/cache/index.ts';
import { PURCHASE_FAILURE_CODES, type PurchaseFailureCode, RETRY_AFTER_FAILURES } from '../../domain/errors.ts';
import {
  containsReferenceSyntax,
  MAX_DESCRIPTION_LENGTH,
  type PurchaseOutcome,
  SIM_NOT_FOUND,
} from '../../domain/purchase/index.ts';
import type { TopupOrder, TopupPackage } from '../../upstream/index.ts';
import { badUserInput } from '../errors.ts';
import { builder } from './builder.ts';
import { MoneyRef, type MoneyValue } from './money.ts';
import { PackageView } from './package-view.ts';
import { loadResource, parseIccid, readSimResource, type SimParent, SimRef } from './sim.ts';

/** What a `TopupPackage` field reads: the shared package fields (its price is never null), voice, texts, short info. */
class TopupPackageView extends PackageView<TopupPackage> {
  override get price(): MoneyValue {
    return { amount: this.p.price, currency: this.p.currency };
  }
  get voiceMinutes() {
    return this.p.voiceMinutes;
  }
  get texts() {
    return this.p.texts;
  }
  get shortInfo() {
    return this.p.shortInfo;
  }
}

const topupViews = (read: CacheRead<TopupPackage[]>) => read.value.map((p) => new TopupPackageView(p));

const TopupPackageRef = builder.objectRef<TopupPackageView>('TopupPackage').implement({
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Pass this as `packageId` to `purchaseTopup`.' }),
    title: t.exposeString('title'),
    price: t.expose('price', { type: MoneyRef }),
    netPrice: t.expose('netPrice', { type: MoneyRef, nullable: true }),
    amountMb: t.exposeInt('amountMb', { nullable: true }),
    validityDays: t.exposeInt('validityDays', { nullable: true }),
    isUnlimited: t.exposeBoolean('isUnlimited'),
    dataLabel: t.exposeString('dataLabel', { nullable: true }),
    voiceMinutes: t.exposeInt('voiceMinutes', { nullable: true }),
    texts: t.exposeInt('texts', { nullable: true }),
    shortInfo: t.exposeString('shortInfo', { nullable: true }),
  }),
});

builder.objectField(SimRef, 'topupPackages', (t) =>
  t.field({
    type: [TopupPackageRef],
    nullable: true,
    description:
      'Top-ups this SIM can buy now (empty when none). Kept briefly: the upstream asks for a fresh list before each order.',
    resolve: (sim, _args, ctx, info) => readSimResource(ctx, info, 'topups', sim.iccid, topupViews),
  }),
);

const TopupOrderRef = builder.objectRef<TopupOrder>('TopupOrder').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    code: t.exposeString('code'),
    packageId: t.exposeID('packageId'),
    title: t.string({ nullable: true, resolve: (o) => o.title }),
    price: t.field({ type: MoneyRef, resolve: (o) => ({ amount: o.price, currency: o.currency }) }),
    createdAt: t.field({ type: 'DateTime', resolve: (o) => o.createdAt }),
    description: t.string({ nullable: true, resolve: (o) => o.description }),
  }),
});

type Success = Extract<PurchaseOutcome, { kind: 'success' }>;
type Failure = Extract<PurchaseOutcome, { kind: 'failure' }>;

const PurchaseTopupSuccess = builder.objectRef<Success>('PurchaseTopupSuccess').implement({
  fields: (t) => ({
    order: t.field({ type: TopupOrderRef, resolve: (s) => s.order }),
    sim: t.field({
      type: SimRef,
      resolve: async (s, _args, ctx): Promise<SimParent> => ({
        iccid: s.iccid,
        details: await loadResource(ctx.data.simDetails(s.iccid), s.iccid),
      }),
    }),
    replayed: t.exposeBoolean('replayed', {
      description: 'True when this result is the replay of an earlier call with the same idempotencyKey.',
    }),
  }),
});

const ErrorInterface = builder.interfaceRef<Failure>('Error').implement({
  description: 'An expected failure. `code` is stable; `message` is for humans.',
  fields: (t) => ({
    code: t.exposeString('code'),
    message: t.exposeString('message'),
  }),
});

/** The GraphQL type of a purchase failure, named after its code: `SIM_NOT_FOUND` → `SimNotFoundError`. */
const failureTypeName = (code: PurchaseFailureCode) =>
  `${code
    .toLowerCase()
    .split('_')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('')}Error`;

const failureRefs = PURCHASE_FAILURE_CODES.map((code) => {
  const ref = builder.objectRef<Failure>(failureTypeName(code)).implement({
    interfaces: [ErrorInterface],
    isTypeOf: (value) => (value as Failure).kind === 'failure' && (value as Failure).code === code,
    fields: () => ({}),
  });
  if (RETRY_AFTER_FAILURES.has(code)) {
    builder.objectField(ref, 'retryAfterSeconds', (t) =>
      t.int({
        nullable: true,
        description: 'Seconds to wait before retrying.',
        resolve: (f) => f.retryAfterSeconds ?? null,
      }),
    );
  }
  return ref;
});

const PurchaseTopupResult = builder.unionType('PurchaseTopupResult', {
  types: [PurchaseTopupSuccess, ...failureRefs],
  resolveType: (value) => (value.kind === 'success' ? 'PurchaseTopupSuccess' : failureTypeName(value.code)),
});

const PurchaseTopupInput = builder.inputType('PurchaseTopupInput', {
  fields: (t) => ({
    iccid: t.id({ required: true }),
    packageId: t.id({ required: true, description: 'An id from `Sim.topupPackages`.' }),
    description: t.string({
      description: `Free text stored with the order (≤ ${MAX_DESCRIPTION_LENGTH} characters, without the gateway's reference syntax "[gw-…"; the gateway appends its reference).`,
    }),
    idempotencyKey: t.string({
      required: true,
      description:
        'Client-chosen key (e.g. a UUID) identifying this purchase. Retrying with the same key never buys twice.',
    }),
  }),
});

builder.mutationField('purchaseTopup', (t) =>
  t.field({
    type: PurchaseTopupResult,
    description:
      'Buys a top-up package for a SIM, spending the partner balance. Idempotent by `idempotencyKey` for at least 24 hours; expected failures are union members, never GraphQL errors.',
    args: { input: t.arg({ type: PurchaseTopupInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const iccid = parseIccid(input.iccid, 'input.iccid');
      const packageId = input.packageId.trim();
      if (!packageId || packageId.length > 128)
        throw badUserInput('packageId must be 1–128 characters.', 'input.packageId');
      const description = input.description ?? null;
      if (description !== null && description.length > MAX_DESCRIPTION_LENGTH) {
        throw badUserInput(`description must be at most ${MAX_DESCRIPTION_LENGTH} characters.`, 'input.description');
      }
      if (description !== null && containsReferenceSyntax(description)) {
        throw badUserInput(
          'description must not contain the gateway\'s order reference syntax ("[gw-…" or "gw-" + 20 hex digits).',
          'input.description',
        );
      }
      const key = input.idempotencyKey;
      if (key.length < 1 || key.length > 255)
        throw badUserInput('idempotencyKey must be 1–255 characters.', 'input.idempotencyKey');
      // Someone else's SIM is answered exactly like an unknown one, without an upstream call.
      if (!canAccess(ctx.principal, iccid)) return SIM_NOT_FOUND;
      return ctx.data.purchase(ctx.principal.id, { iccid, packageId, description, idempotencyKey: key });
    },
  }),
);
