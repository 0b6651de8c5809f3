/** `Usage`: data, voice and texts left on a SIM, and `Sim.usage`. */
import type { CacheRead } from '../../domain/cache/index.ts';
import { SIM_STATUSES, type Usage } from '../../upstream/index.ts';
import { builder } from './builder.ts';
import { readSimResource, SimRef } from './sim.ts';

export const SimStatus = builder.enumType('SimStatus', {
  description: "The SIM's state as the upstream reports it in usage.",
  values: SIM_STATUSES,
});

/**
 * What a `Usage` field reads: one cached read, its fields as properties. graphql-jit reads a field without a resolver
 * as a property, inline; a resolver would cost a call and a resolve-info object per field and SIM.
 */
export class UsageView {
  readonly #read: CacheRead<Usage>;
  constructor(read: CacheRead<Usage>) {
    this.#read = read;
  }
  get status() {
    return this.#read.value.status;
  }
  get remainingMb() {
    return this.#read.value.remainingMb;
  }
  get totalMb() {
    return this.#read.value.totalMb;
  }
  get usedMb() {
    const { totalMb, remainingMb } = this.#read.value;
    return totalMb === null || remainingMb === null ? null : Math.max(0, totalMb - remainingMb);
  }
  get isUnlimited() {
    return this.#read.value.isUnlimited;
  }
  get expiresAt() {
    return this.#read.value.expiresAt;
  }
  get remainingVoiceMinutes() {
    return this.#read.value.remainingVoiceMinutes;
  }
  get totalVoiceMinutes() {
    return this.#read.value.totalVoiceMinutes;
  }
  get remainingTexts() {
    return this.#read.value.remainingTexts;
  }
  get totalTexts() {
    return this.#read.value.totalTexts;
  }
  get fetchedAt() {
    return this.#read.fetchedAt;
  }
  get stale() {
    return this.#read.stale;
  }
}

export const usageView = (read: CacheRead<Usage>) => new UsageView(read);

export const UsageRef = builder.objectRef<UsageView>('Usage').implement({
  description:
    'Usage as the upstream last reported it. The upstream itself refreshes usage every ~20 minutes; for unlimited plans the MB figures are null.',
  fields: (t) => ({
    status: t.expose('status', { type: SimStatus }),
    remainingMb: t.exposeInt('remainingMb', { nullable: true }),
    totalMb: t.exposeInt('totalMb', { nullable: true }),
    usedMb: t.exposeInt('usedMb', { nullable: true }),
    isUnlimited: t.exposeBoolean('isUnlimited', { nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    remainingVoiceMinutes: t.exposeInt('remainingVoiceMinutes', { nullable: true }),
    totalVoiceMinutes: t.exposeInt('totalVoiceMinutes', { nullable: true }),
    remainingTexts: t.exposeInt('remainingTexts', { nullable: true }),
    totalTexts: t.exposeInt('totalTexts', { nullable: true }),
    fetchedAt: t.expose('fetchedAt', {
      type: 'DateTime',
      description: 'When the gateway read this from the upstream.',
    }),
    stale: t.exposeBoolean('stale', {
      description: 'True when served past its freshness because the upstream was rate-limited or failing.',
    }),
  }),
});

builder.objectField(SimRef, 'usage', (t) =>
  t.field({
    type: UsageRef,
    nullable: true,
    description: 'Data, voice and texts left. One upstream call per SIM per CACHE_USAGE_TTL_SECONDS.',
    resolve: (sim, _args, ctx, info) => readSimResource(ctx, info, 'usage', sim.iccid, usageView),
  }),
);
