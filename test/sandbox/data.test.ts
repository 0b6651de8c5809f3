import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.ts';
import { generateDataSet } from '../../src/sandbox/data.ts';
import { createSandbox } from '../../src/sandbox/index.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('seeded data set', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateDataSet(42, 50, NOW);
    const b = generateDataSet(42, 50, NOW);
    const c = generateDataSet(7, 50, NOW);
    expect(a.iccids).toEqual(b.iccids);
    const plain = (v: unknown) => JSON.stringify(v, (k, x) => (k === 'sim' || k === 'operator' ? undefined : x));
    expect(plain(a.sim(20))).toBe(plain(b.sim(20)));
    expect(a.iccids).not.toEqual(c.iccids);
  });

  it('has the realistic mix: every status, unlimited, voice+text, no top-ups, 19-20 digit ICCIDs', async () => {
    const sandbox = await createSandbox({ clock: createManualClock() });
    const { control } = sandbox;
    for (const status of ['ACTIVE', 'NOT_ACTIVE', 'FINISHED', 'EXPIRED', 'RECYCLED', 'UNKNOWN'] as const) {
      expect(control.iccids({ status }).length, status).toBeGreaterThan(0);
    }
    const all = control.iccids();
    expect(all).toHaveLength(50);
    expect(control.iccids({ status: 'ACTIVE' }).length).toBeGreaterThan(20);
    expect(control.iccids({ unlimited: true }).length).toBeGreaterThan(0);
    expect(control.iccids({ hasTopups: true }).length).toBeGreaterThan(0);
    expect(control.iccids({ hasTopups: false }).length).toBeGreaterThan(0);
    expect(all.every((i) => /^89\d{17,18}$/.test(i))).toBe(true);
    expect(new Set(all.map((i) => i.length))).toEqual(new Set([19, 20]));
    const operators = new Set(
      all.map((i) => control.topupPackageIds(i)[0]?.split('-').slice(0, 2).join('-') ?? 'none'),
    );
    expect(operators.size).toBeGreaterThanOrEqual(5);
    expect(all.some((i) => control.topupPackageIds(i).includes('sandbox-trigger-maintenance-mode'))).toBe(true);
    expect(control.balance()).toBe(5000);
    await sandbox.close();
  });

  it('generates 100k SIMs in under 2 s', () => {
    const started = performance.now();
    const data = generateDataSet(42, 100_000, NOW);
    expect(data.simCount).toBe(100_000);
    expect(data.sim(99_999).iccid).toBe(data.iccids[99_999]);
    expect(new Set(data.iccids).size).toBe(100_000);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('honours seed and simCount options', async () => {
    const a = await createSandbox({ seed: 1, simCount: 12, clock: createManualClock() });
    const b = await createSandbox({ seed: 1, simCount: 12, clock: createManualClock() });
    expect(a.control.iccids()).toEqual(b.control.iccids());
    expect(a.control.iccids()).toHaveLength(12);
    await Promise.all([a.close(), b.close()]);
  });
});
