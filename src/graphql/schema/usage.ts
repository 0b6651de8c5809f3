/** `Usage`: data, voice and texts left on a SIM, and `Sim.usage`. */
import type { CacheRead } from '../../domain/cache/index.ts';
import { SIM_STATUSES, type Usage } from '../../upstream/index.ts';
import { builder } from './builder.ts';
import { readSimResource, SimRef } from './sim.ts';

export const SimStatus = builder.enumType('SimStatus', {
  description: "The SIM's state as the upstream reports it in usage.",
  values: SIM_STATUSES,
});

export const UsageRef = builder.objectRef<CacheRead<Usage>>('Usage').implement({
  description:
    'Usage as the upstream last reported it. The upstream itself refreshes usage every ~20 minutes; for unlimited plans the MB figures are null.',
  fields: (t) => ({
    status: t.field({ type: SimStatus, resolve: (u) => u.value.status }),
    remainingMb: t.int({ nullable: true, resolve: (u) => u.value.remainingMb }),
    totalMb: t.int({ nullable: true, resolve: (u) => u.value.totalMb }),
    usedMb: t.int({
      nullable: true,
      resolve: ({ value: { totalMb, remainingMb } }) =>
        totalMb === null || remainingMb === null ? null : Math.max(0, totalMb - remainingMb),
    }),
    isUnlimited: t.boolean({ nullable: true, resolve: (u) => u.value.isUnlimited }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (u) => u.value.expiresAt }),
    remainingVoiceMinutes: t.int({ nullable: true, resolve: (u) => u.value.remainingVoiceMinutes }),
    totalVoiceMinutes: t.int({ nullable: true, resolve: (u) => u.value.totalVoiceMinutes }),
    remainingTexts: t.int({ nullable: true, resolve: (u) => u.value.remainingTexts }),
    totalTexts: t.int({ nullable: true, resolve: (u) => u.value.totalTexts }),
    fetchedAt: t.field({
      type: 'DateTime',
      description: 'When the gateway read this from the upstream.',
      resolve: (u) => u.fetchedAt,
    }),
    stale: t.boolean({
      description: 'True when served past its freshness because the upstream was rate-limited or failing.',
      resolve: (u) => u.stale,
    }),
  }),
});

builder.objectField(SimRef, 'usage', (t) =>
  t.field({
    type: UsageRef,
    nullable: true,
    description: 'Data, voice and texts left. One upstream call per SIM per CACHE_USAGE_TTL_SECONDS.',
    resolve: (sim, _args, ctx, info) => readSimResource(ctx, info, 'usage', sim.iccid),
  }),
);
