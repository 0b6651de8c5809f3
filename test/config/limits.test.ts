/**
 * The upstream's limits as configuration (README "Limits"): the setting's syntax, the per-flavour defaults with their
 * sources, and how loadConfig builds `upstreamLimits` / `scheduler` from the defaults, the overrides and the legacy
 * variables. The sandbox's enforcement of the same defaults is tested in test/sandbox/limits.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, LEGACY_LIMIT_VARIABLES, limitVariable, loadConfig } from '../../src/platform/config.ts';
import {
  DEFAULT_LIMITS,
  DOCUMENTED_LIMITS,
  describeLimits,
  formatLimitSpec,
  LIMIT_SOURCES,
  LimitSpecError,
  parseLimitSpec,
} from '../../src/platform/upstream-limits.ts';
import { FLAVOURS, UPSTREAM_ENDPOINTS } from '../../src/platform/upstream-vocabulary.ts';

const S = 1_000;
const MIN = 60 * S;

/** The problems of a configuration that must not load. */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return expect.unreachable('the configuration loaded');
}

describe('parseLimitSpec', () => {
  it('reads a comma list of <calls>/<duration> <scope>, in order', () => {
    expect(parseLimitSpec('10/60s per-iccid, 5/1s per-partner')).toEqual([
      { limit: 10, windowMs: MIN, scope: 'per-iccid' },
      { limit: 5, windowMs: S, scope: 'per-partner' },
    ]);
    expect(parseLimitSpec('1/15m per-iccid')).toEqual([{ limit: 1, windowMs: 15 * MIN, scope: 'per-iccid' }]);
    expect(parseLimitSpec('  3 / 500ms   per-partner ,96/24h per-iccid ')).toEqual([
      { limit: 3, windowMs: 500, scope: 'per-partner' },
      { limit: 96, windowMs: 24 * 60 * MIN, scope: 'per-iccid' },
    ]);
    expect(parseLimitSpec('100/1h per-partner')).toEqual([{ limit: 100, windowMs: 60 * MIN, scope: 'per-partner' }]);
    // Two windows of one scope are two limits (Airalo's FAQ: up to 96 usage reads a day, besides 10 a minute).
    expect(parseLimitSpec('10/60s per-iccid, 96/24h per-iccid')).toHaveLength(2);
  });

  it('reads "none" as no limit', () => {
    expect(parseLimitSpec('none')).toEqual([]);
    expect(parseLimitSpec(' NONE ')).toEqual([]);
  });

  it.each([
    ['', /^is empty: expected "10\/60s per-iccid, 5\/1s per-partner" or "none"$/],
    ['   ', /^is empty/],
    ['10/60s', /^"10\/60s" has no scope: add per-iccid or per-partner, e.g. "10\/60s per-iccid"$/],
    ['10/60s per-sim', /^"10\/60s per-sim": unknown scope "per-sim" \(one of per-iccid, per-partner/],
    ['10/60s per-iccid per-partner', /one scope per limit, found "per-iccid per-partner"/],
    ['10 per-iccid', /^"10 per-iccid" is not <calls>\/<duration> <scope>: write e.g. "10\/60s per-iccid"/],
    ['ten/60s per-iccid', /^"ten\/60s per-iccid": the number of calls "ten" must be a whole number from 1/],
    ['0/60s per-iccid', /the number of calls "0" must be a whole number from 1 .*"none" for no limit/],
    ['1.5/60s per-iccid', /the number of calls "1.5" must be a whole number/],
    ['-1/60s per-iccid', /the number of calls "-1"/],
    ['10/60 per-iccid', /^"10\/60 per-iccid": the duration "60" has no unit: write e.g. "60s" \(ms, s, m or h\)$/],
    ['10/1min per-iccid', /unknown unit "min" in "1min" \(use ms, s, m or h/],
    ['10/1d per-iccid', /unknown unit "d"/],
    ['10/s per-iccid', /the duration "s" must be a whole number with a unit, e.g. "500ms", "1s"/],
    ['10/1.5s per-iccid', /the duration "1.5s" must be a whole number with a unit/],
    ['10/0s per-iccid', /the duration "0s" must be longer than 0/],
    ['10/25h per-iccid', /the duration "25h" is longer than 24h/],
    ['10/60s per-iccid,', /^item 2 of "10\/60s per-iccid," is empty \(a stray comma\?\)$/],
    ['none, 10/60s per-iccid', /^"none" must stand alone \(it means no limit\)/],
    [
      '10/60s per-iccid, 20/1m per-iccid',
      /^"20\/1m per-iccid" repeats the 60s per-iccid window of "10\/60s per-iccid"/,
    ],
  ])('refuses %j with a precise message', (text, message) => {
    expect(() => parseLimitSpec(text)).toThrow(LimitSpecError);
    expect(() => parseLimitSpec(text)).toThrow(message);
  });

  it('formatLimitSpec writes what parseLimitSpec reads back', () => {
    for (const spec of ['10/60s per-iccid, 5/1s per-partner', '1/15m per-iccid', '3/500ms per-partner', 'none']) {
      expect(formatLimitSpec(parseLimitSpec(spec))).toBe(spec);
    }
    expect(formatLimitSpec([{ limit: 1, windowMs: 90 * S, scope: 'per-iccid' }])).toBe('1/90s per-iccid');
    expect(formatLimitSpec([{ limit: 1, windowMs: 2 * 60 * MIN, scope: 'per-iccid' }])).toBe('1/2h per-iccid');
    for (const flavour of FLAVOURS) {
      for (const limits of Object.values(DEFAULT_LIMITS[flavour].endpoints))
        expect(parseLimitSpec(formatLimitSpec(limits))).toEqual(limits);
    }
  });
});

describe('DEFAULT_LIMITS', () => {
  it('pressone follows its seed pages; the token limit is the older Airalo page (PressOne documents none)', () => {
    expect(DEFAULT_LIMITS.pressone).toEqual({
      endpoints: {
        token: [{ limit: 5, windowMs: MIN, scope: 'per-partner' }],
        usage: [{ limit: 100, windowMs: MIN, scope: 'per-iccid' }],
        packages: [{ limit: 1, windowMs: 15 * MIN, scope: 'per-iccid' }],
        sim: [{ limit: 10, windowMs: MIN, scope: 'per-iccid' }],
      },
      all: [],
    });
  });

  it("airalo follows the newest 'Rate limits' page (2026-05-07)", () => {
    expect(DEFAULT_LIMITS.airalo).toEqual({
      endpoints: {
        token: [{ limit: 3, windowMs: MIN, scope: 'per-partner' }],
        usage: [
          { limit: 10, windowMs: MIN, scope: 'per-iccid' },
          { limit: 5, windowMs: S, scope: 'per-partner' },
        ],
        packages: [{ limit: 10, windowMs: MIN, scope: 'per-iccid' }],
        sim: [{ limit: 10, windowMs: MIN, scope: 'per-iccid' }],
      },
      all: [],
    });
  });

  it("the details limit is the gateway's own, not the upstream's: the sandbox does not enforce it", () => {
    for (const flavour of FLAVOURS) {
      expect(DOCUMENTED_LIMITS[flavour].endpoints.sim).toBeUndefined();
      expect(LIMIT_SOURCES[flavour].find((s) => s.endpoint === 'sim')?.source).toMatch(/^the gateway's own/);
    }
  });

  it('names a source for every default, and every source describes a default', () => {
    for (const flavour of FLAVOURS) {
      const sourced = Object.fromEntries(LIMIT_SOURCES[flavour].map((s) => [s.endpoint, s.limits]));
      expect(sourced).toEqual(DEFAULT_LIMITS[flavour].endpoints);
    }
    expect(LIMIT_SOURCES.pressone.find((s) => s.endpoint === 'usage')?.source).toMatch(
      /^PressOne seed page 'Get usage/,
    );
    expect(LIMIT_SOURCES.airalo.find((s) => s.endpoint === 'usage')?.source).toMatch(
      /^Airalo 'Rate limits' page, modified 2026-05-07/,
    );
  });

  it('README "Limits" shows each default and variable as the code has them', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(
      readme.indexOf('\n## Limits'),
      readme.indexOf('\n## ', readme.indexOf('\n## Limits') + 1),
    );
    for (const endpoint of ['token', 'usage', 'packages', 'sim'] as const) {
      const row = section.split('\n').find((line) => line.includes(`\`${limitVariable(endpoint)}\``));
      expect(row, `a row for ${endpoint}`).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      for (const [index, flavour] of [
        [2, 'pressone'],
        [3, 'airalo'],
      ] as const) {
        expect(cells[index]).toBe(`\`${formatLimitSpec(DEFAULT_LIMITS[flavour].endpoints[endpoint] ?? [])}\``);
      }
    }
  });
});

describe('loadConfig: upstreamLimits', () => {
  it("defaults to the flavour's limits (UPSTREAM_FLAVOR, pressone unless set)", () => {
    expect(loadConfig({}).upstreamLimits).toEqual(DEFAULT_LIMITS.pressone);
    expect(loadConfig({}).upstreamFlavour).toBe('pressone');
    const airalo = loadConfig({ UPSTREAM_FLAVOR: 'airalo' });
    expect(airalo.upstreamLimits).toEqual(DEFAULT_LIMITS.airalo);
    expect(airalo.upstreamFlavour).toBe('airalo');
  });

  it('UPSTREAM_LIMIT_<ENDPOINT> replaces every limit of its endpoint; none removes them; others keep theirs', () => {
    const config = loadConfig({
      UPSTREAM_FLAVOR: 'airalo',
      UPSTREAM_LIMIT_USAGE: '20/60s per-iccid',
      UPSTREAM_LIMIT_PACKAGES: 'none',
      UPSTREAM_LIMIT_SUBMIT_TOPUP: '1/1s per-iccid, 10/1s per-partner',
      UPSTREAM_LIMIT_BALANCE: '30/60s per-partner',
    });
    expect(config.upstreamLimits.endpoints).toEqual({
      token: DEFAULT_LIMITS.airalo.endpoints.token,
      usage: [{ limit: 20, windowMs: MIN, scope: 'per-iccid' }],
      sim: DEFAULT_LIMITS.airalo.endpoints.sim,
      submitTopup: [
        { limit: 1, windowMs: S, scope: 'per-iccid' },
        { limit: 10, windowMs: S, scope: 'per-partner' },
      ],
      balance: [{ limit: 30, windowMs: MIN, scope: 'per-partner' }],
    });
    expect(config.upstreamLimits.all).toEqual([]);
  });

  it('has one variable per endpoint, named like the path overrides', () => {
    expect(UPSTREAM_ENDPOINTS.map(limitVariable)).toEqual([
      'UPSTREAM_LIMIT_TOKEN',
      'UPSTREAM_LIMIT_BALANCE',
      'UPSTREAM_LIMIT_SIMS',
      'UPSTREAM_LIMIT_SIM',
      'UPSTREAM_LIMIT_USAGE',
      'UPSTREAM_LIMIT_TOPUPS',
      'UPSTREAM_LIMIT_PACKAGES',
      'UPSTREAM_LIMIT_SUBMIT_TOPUP',
      'UPSTREAM_LIMIT_ORDERS',
      'UPSTREAM_LIMIT_ORDER',
      'UPSTREAM_LIMIT_NOTIFICATION_OPT_IN',
      'UPSTREAM_LIMIT_NOTIFICATION_OPT_OUT',
      'UPSTREAM_LIMIT_NOTIFICATION_SETTINGS',
    ]);
    for (const endpoint of UPSTREAM_ENDPOINTS) {
      const config = loadConfig({ [limitVariable(endpoint)]: '7/60s per-partner' });
      expect(config.upstreamLimits.endpoints[endpoint]).toEqual([{ limit: 7, windowMs: MIN, scope: 'per-partner' }]);
    }
  });

  it("UPSTREAM_LIMIT_ALL limits every endpoint together (Airalo's sandbox mode); default none", () => {
    expect(loadConfig({ UPSTREAM_FLAVOR: 'airalo' }).upstreamLimits.all).toEqual([]);
    const config = loadConfig({ UPSTREAM_FLAVOR: 'airalo', UPSTREAM_LIMIT_ALL: '50/60s per-partner' });
    expect(config.upstreamLimits.all).toEqual([{ limit: 50, windowMs: MIN, scope: 'per-partner' }]);
    expect(config.upstreamLimits.endpoints).toEqual(DEFAULT_LIMITS.airalo.endpoints);
    expect(loadConfig({ UPSTREAM_LIMIT_ALL: 'none' }).upstreamLimits.all).toEqual([]);
  });

  it('per-iccid only where a call names one ICCID', () => {
    expect(problems({ UPSTREAM_LIMIT_ALL: '50/60s per-iccid' })).toEqual([
      'UPSTREAM_LIMIT_ALL: "50/60s per-iccid": every endpoint together name no single ICCID, so per-iccid means nothing here: use per-partner, e.g. "50/60s per-partner"',
    ]);
    expect(problems({ UPSTREAM_LIMIT_TOKEN: '3/60s per-iccid' })).toEqual([
      'UPSTREAM_LIMIT_TOKEN: "3/60s per-iccid": token calls name no single ICCID, so per-iccid means nothing here: use per-partner, e.g. "3/60s per-partner"',
    ]);
    for (const endpoint of ['sim', 'usage', 'topups', 'packages', 'submitTopup'] as const)
      expect(loadConfig({ [limitVariable(endpoint)]: '1/1s per-iccid' }).upstreamLimits.endpoints[endpoint]).toEqual([
        { limit: 1, windowMs: S, scope: 'per-iccid' },
      ]);
  });

  it('reports every malformed setting at once, each with what is wrong and the right form', () => {
    const list = problems({
      UPSTREAM_LIMIT_USAGE: '10/60',
      UPSTREAM_LIMIT_PACKAGES: '1/15m per-sim',
      UPSTREAM_LIMIT_ALL: 'lots',
      PORT: 'eighty',
    });
    expect(list).toHaveLength(4);
    expect(list).toContain(
      'UPSTREAM_LIMIT_USAGE: "10/60": the duration "60" has no unit: write e.g. "60s" (ms, s, m or h)',
    );
    expect(list.find((p) => p.startsWith('UPSTREAM_LIMIT_PACKAGES:'))).toMatch(/unknown scope "per-sim"/);
    expect(list.find((p) => p.startsWith('UPSTREAM_LIMIT_ALL:'))).toMatch(/"lots" is not <calls>\/<duration> <scope>/);
    expect(list.find((p) => p.startsWith('PORT:'))).toBeDefined();
  });
});

describe('loadConfig: the legacy limit variables', () => {
  it('map onto the per-ICCID limit of their endpoint and keep the others (Airalo: the partner-wide usage limit)', () => {
    const config = loadConfig({
      UPSTREAM_FLAVOR: 'airalo',
      UPSTREAM_USAGE_LIMIT_PER_MINUTE: '50',
      UPSTREAM_HISTORY_INTERVAL_SECONDS: '300',
      UPSTREAM_DETAILS_LIMIT_PER_MINUTE: '3',
    });
    expect(config.upstreamLimits.endpoints).toEqual({
      token: DEFAULT_LIMITS.airalo.endpoints.token,
      usage: [
        { limit: 50, windowMs: MIN, scope: 'per-iccid' },
        { limit: 5, windowMs: S, scope: 'per-partner' },
      ],
      packages: [{ limit: 1, windowMs: 5 * MIN, scope: 'per-iccid' }],
      sim: [{ limit: 3, windowMs: MIN, scope: 'per-iccid' }],
    });
  });

  it('UPSTREAM_HISTORY_INTERVAL_SECONDS=0 means no per-ICCID history limit, as before', () => {
    expect(loadConfig({ UPSTREAM_HISTORY_INTERVAL_SECONDS: '0' }).upstreamLimits.endpoints.packages).toBeUndefined();
  });

  it('are still validated', () => {
    expect(problems({ UPSTREAM_USAGE_LIMIT_PER_MINUTE: '0' })[0]).toMatch(/^UPSTREAM_USAGE_LIMIT_PER_MINUTE: /);
  });

  it('set together with the new variable of the same endpoint: a configuration error naming both', () => {
    const list = problems({
      UPSTREAM_USAGE_LIMIT_PER_MINUTE: '100',
      UPSTREAM_LIMIT_USAGE: '100/60s per-iccid',
      UPSTREAM_HISTORY_INTERVAL_SECONDS: '900',
      UPSTREAM_LIMIT_PACKAGES: '1/15m per-iccid',
      UPSTREAM_DETAILS_LIMIT_PER_MINUTE: '10',
      UPSTREAM_LIMIT_SIM: 'none',
    });
    expect(list).toEqual(
      Object.entries(LEGACY_LIMIT_VARIABLES).map(([legacy, endpoint]) => {
        const variable = limitVariable(endpoint);
        return `${variable}: set either ${variable} or ${legacy} (its older form), not both: ${variable} alone says every limit of ${endpoint}`;
      }),
    );
    // A legacy variable and another endpoint's new one go together.
    expect(
      loadConfig({ UPSTREAM_USAGE_LIMIT_PER_MINUTE: '60', UPSTREAM_LIMIT_PACKAGES: '2/15m per-iccid' }).upstreamLimits
        .endpoints,
    ).toMatchObject({
      usage: [{ limit: 60, windowMs: MIN, scope: 'per-iccid' }],
      packages: [{ limit: 2, windowMs: 15 * MIN, scope: 'per-iccid' }],
    });
  });
});

describe('loadConfig: scheduler', () => {
  it('waits 1.5 s in the foreground and 20 s for deferred fields by default, with a 100 ms arrival margin', () => {
    expect(loadConfig({}).scheduler).toEqual({ foregroundWaitMs: 1_500, deferredWaitMs: 20_000, marginMs: 100 });
    expect(
      loadConfig({ UPSTREAM_QUEUE_WAIT_MS: '0', UPSTREAM_DEFER_WAIT_MS: '5000', UPSTREAM_LIMIT_MARGIN_MS: '0' })
        .scheduler,
    ).toEqual({ foregroundWaitMs: 0, deferredWaitMs: 5_000, marginMs: 0 });
    expect(problems({ UPSTREAM_LIMIT_MARGIN_MS: '-5' })[0]).toMatch(/^UPSTREAM_LIMIT_MARGIN_MS: /);
  });

  it('refuses a deferred wait shorter than the foreground one, and values out of range', () => {
    expect(problems({ UPSTREAM_QUEUE_WAIT_MS: '3000', UPSTREAM_DEFER_WAIT_MS: '2000' })).toEqual([
      "UPSTREAM_DEFER_WAIT_MS: (2000) must be at least UPSTREAM_QUEUE_WAIT_MS (3000): a deferred field's client already has the rest of its answer, so it can wait at least as long",
    ]);
    expect(problems({ UPSTREAM_QUEUE_WAIT_MS: '-1' })[0]).toMatch(/^UPSTREAM_QUEUE_WAIT_MS: /);
    expect(problems({ UPSTREAM_DEFER_WAIT_MS: '1h' })[0]).toMatch(/^UPSTREAM_DEFER_WAIT_MS: /);
  });
});

describe('describeLimits (the start log)', () => {
  it("names the flavour's defaults and its usage limits in one phrase", () => {
    expect(describeLimits('pressone', loadConfig({}).upstreamLimits)).toBe(
      'pressone defaults, usage 100/60s per-iccid',
    );
    expect(describeLimits('airalo', loadConfig({ UPSTREAM_FLAVOR: 'airalo' }).upstreamLimits)).toBe(
      'airalo defaults, usage 10/60s per-iccid + 5/1s per-partner',
    );
  });

  it('says what was overridden', () => {
    const config = loadConfig({
      UPSTREAM_FLAVOR: 'airalo',
      UPSTREAM_LIMIT_USAGE: '20/60s per-iccid',
      UPSTREAM_LIMIT_TOPUPS: '60/60s per-partner',
      UPSTREAM_LIMIT_ALL: '50/60s per-partner',
    });
    expect(describeLimits('airalo', config.upstreamLimits)).toBe(
      'airalo defaults (overridden: topups, usage, all), usage 20/60s per-iccid, all endpoints 50/60s per-partner',
    );
    expect(describeLimits('pressone', loadConfig({ UPSTREAM_LIMIT_USAGE: 'none' }).upstreamLimits)).toBe(
      'pressone defaults (overridden: usage), usage none',
    );
  });
});
