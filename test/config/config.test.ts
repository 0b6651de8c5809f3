import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, pathOverrideVariable } from '../../src/platform/config.ts';

describe('loadConfig', () => {
  it('defaults to the built-in sandbox on port 4000 with the documented cache settings', () => {
    const config = loadConfig({});
    expect(config.upstream).toBeUndefined();
    expect(config.port).toBe(4000);
    expect(config.cache).toMatchObject({ usageTtlSeconds: 300, historyTtlSeconds: 900, topupsTtlSeconds: 60 });
    expect(config.upstreamLimits.endpoints.usage).toEqual([{ limit: 100, windowMs: 60_000, scope: 'per-iccid' }]);
  });

  it('reports every problem at once', () => {
    try {
      loadConfig({ PORT: 'eighty', UPSTREAM_URL: 'ftp://x', UPSTREAM_FLAVOR: 'other', CACHE_USAGE_TTL_SECONDS: '-1' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      for (const name of ['PORT', 'UPSTREAM_URL', 'UPSTREAM_FLAVOR', 'CACHE_USAGE_TTL_SECONDS'])
        expect(problems).toContain(name);
    }
  });

  it('reports field errors and cross-field rules together: a bad PORT never hides missing credentials', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        UPSTREAM_URL: 'https://partners.example/v2',
        AUTH_JWT_SECRET: 'short',
        AUTH_JWKS_URL: 'https://idp.example/jwks',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const variables = (error as ConfigError).problems.map((p) => p.split(':')[0]);
      expect(variables).toEqual([
        'PORT',
        'AUTH_JWT_SECRET',
        'UPSTREAM_CLIENT_ID',
        'UPSTREAM_CLIENT_SECRET',
        'AUTH_JWT_ISSUER',
        'AUTH_JWT_AUDIENCE',
        'AUTH_JWKS_URL',
      ]);
      expect((error as ConfigError).message).toMatch(/UPSTREAM_CLIENT_ID: is required when UPSTREAM_URL is set/);
    }
    // An invalid UPSTREAM_URL is still "set": its credentials are still asked for, and so is authentication.
    expect(() => loadConfig({ UPSTREAM_URL: 'ftp://x' })).toThrow(
      /UPSTREAM_URL: [^\n]*\n(.*\n)*.*UPSTREAM_CLIENT_ID(.*\n)*.*AUTH_API_KEYS: a real upstream/,
    );
  });

  it('takes LOG_FORMAT pretty or json, and leaves it to the terminal when unset', () => {
    expect(loadConfig({}).logFormat).toBeUndefined();
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'yaml' })).toThrow(/LOG_FORMAT/);
  });

  it('requires credentials with an upstream URL and never prints the secret', () => {
    expect(() => loadConfig({ UPSTREAM_URL: 'https://partners.example/v2' })).toThrow(
      /UPSTREAM_CLIENT_ID.*\n.*UPSTREAM_CLIENT_SECRET/,
    );
    const real = {
      UPSTREAM_URL: 'https://partners.example/v2',
      UPSTREAM_FLAVOR: 'airalo',
      UPSTREAM_CLIENT_ID: 'id',
      UPSTREAM_CLIENT_SECRET: 's3cret',
    };
    expect(() => loadConfig(real)).toThrow(/AUTH_API_KEYS: a real upstream needs authentication/);
    try {
      loadConfig({ ...real, PORT: 'x' });
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cret');
    }
    const config = loadConfig({ ...real, AUTH_API_KEYS: 'backend:0123456789abcdef0123456789' });
    expect(config.upstream).toEqual({
      url: 'https://partners.example/v2',
      flavour: 'airalo',
      clientId: 'id',
      clientSecret: 's3cret',
    });
    expect(config.auth.apiKeys).toEqual([{ name: 'backend', key: '0123456789abcdef0123456789' }]);
    expect(config.graphiql).toBe(false);
    expect(config.introspection).toBe(false);
    expect(() => loadConfig({ AUTH_API_KEYS: 'backend:short' })).toThrow(/AUTH_API_KEYS/);
  });

  it('takes per-endpoint path overrides, e.g. the documented /cusomter/ typo', () => {
    expect(pathOverrideVariable('submitTopup')).toBe('UPSTREAM_PATH_SUBMIT_TOPUP');
    const config = loadConfig({
      UPSTREAM_PATH_USAGE: '/sims/{iccid}/usage',
      UPSTREAM_PATH_SUBMIT_TOPUP: '/orders/topups',
    });
    expect(config.upstreamPaths).toEqual({ usage: '/sims/{iccid}/usage', submitTopup: '/orders/topups' });
    expect(() => loadConfig({ UPSTREAM_PATH_USAGE: 'no-slash' })).toThrow(ConfigError);
  });

  it('takes the retry and circuit-breaker knobs, bounded to at most 3 GET attempts', () => {
    expect(loadConfig({}).breaker).toEqual({
      consecutiveFailures: 5,
      failureRateThreshold: 0.5,
      minimumCalls: 10,
      windowMs: 60_000,
      coolDownMs: 30_000,
    });
    expect(loadConfig({}).retries).toEqual({ getRetries: 2, budgetRatio: 0.2 });
    const config = loadConfig({
      UPSTREAM_BREAKER_COOL_DOWN_SECONDS: '5',
      UPSTREAM_BREAKER_FAILURE_RATE: '0.25',
      UPSTREAM_GET_RETRIES: '0',
    });
    expect(config.breaker).toMatchObject({ coolDownMs: 5_000, failureRateThreshold: 0.25 });
    expect(config.retries.getRetries).toBe(0);
    expect(() => loadConfig({ UPSTREAM_GET_RETRIES: '3', UPSTREAM_BREAKER_FAILURE_RATE: '0' })).toThrow(
      /UPSTREAM_GET_RETRIES[\s\S]*UPSTREAM_BREAKER_FAILURE_RATE/,
    );
  });

  it('takes the upstream input bounds: response size, call deadline, calls per request', () => {
    const defaults = loadConfig({});
    expect(defaults.upstreamResponse).toEqual({ maxBytes: 4 * 1024 * 1024, callDeadlineMs: undefined });
    expect(defaults.maxUpstreamCallsPerRequest).toBe(500);
    const config = loadConfig({
      UPSTREAM_MAX_RESPONSE_BYTES: '65536',
      UPSTREAM_CALL_DEADLINE_MS: '2000',
      MAX_UPSTREAM_CALLS_PER_REQUEST: '50',
    });
    expect(config.upstreamResponse).toEqual({ maxBytes: 65_536, callDeadlineMs: 2_000 });
    expect(config.maxUpstreamCallsPerRequest).toBe(50);
    expect(() =>
      loadConfig({
        UPSTREAM_MAX_RESPONSE_BYTES: '100',
        UPSTREAM_CALL_DEADLINE_MS: '0',
        MAX_UPSTREAM_CALLS_PER_REQUEST: '0',
      }),
    ).toThrow(/UPSTREAM_MAX_RESPONSE_BYTES[\s\S]*UPSTREAM_CALL_DEADLINE_MS[\s\S]*MAX_UPSTREAM_CALLS_PER_REQUEST/);
  });

  it('accepts only https:// upstream and JWKS URLs, plain http:// only for loopback addresses', () => {
    const real = {
      UPSTREAM_CLIENT_ID: 'id',
      UPSTREAM_CLIENT_SECRET: 's3cret',
      AUTH_API_KEYS: 'backend:0123456789abcdef0123456789',
    };
    for (const url of [
      'http://partners.example/v2',
      'http://10.0.0.5/v2',
      'http://127.example/v2',
      'http://[::2]/v2',
      'http://localhost.evil.example/v2',
    ]) {
      expect(() => loadConfig({ ...real, UPSTREAM_URL: url }), url).toThrow(/UPSTREAM_URL: must be an https:\/\/ URL/);
    }
    for (const url of [
      'https://partners.example/v2',
      'http://127.0.0.1:8080/v2',
      'http://127.1.2.3/v2',
      'http://[::1]:9000/v2',
      'http://localhost:4010/v2',
    ]) {
      expect(loadConfig({ ...real, UPSTREAM_URL: url }).upstream?.url, url).toBe(url);
    }
    const jwks = { AUTH_JWT_ISSUER: 'https://id.example', AUTH_JWT_AUDIENCE: 'esim' };
    expect(() => loadConfig({ ...jwks, AUTH_JWKS_URL: 'http://id.example/.well-known/jwks.json' })).toThrow(
      /AUTH_JWKS_URL: must be an https/,
    );
    expect(loadConfig({ ...jwks, AUTH_JWKS_URL: 'http://localhost:8081/jwks' }).auth.jwt?.jwksUrl).toBe(
      'http://localhost:8081/jwks',
    );
  });

  it('requires issuer and audience with a JWKS URL, and bounds token age (default 24 h)', () => {
    expect(() => loadConfig({ AUTH_JWKS_URL: 'https://id.example/jwks' })).toThrow(
      /AUTH_JWT_ISSUER: is required[\s\S]*AUTH_JWT_AUDIENCE: is required/,
    );
    expect(() =>
      loadConfig({ AUTH_JWKS_URL: 'https://id.example/jwks', AUTH_JWT_ISSUER: 'https://id.example' }),
    ).toThrow(/AUTH_JWT_AUDIENCE/);
    const jwt = loadConfig({
      AUTH_JWKS_URL: 'https://id.example/jwks',
      AUTH_JWT_ISSUER: 'https://id.example',
      AUTH_JWT_AUDIENCE: 'esim',
    }).auth.jwt;
    expect(jwt).toMatchObject({ issuer: 'https://id.example', audience: 'esim', maxAgeSeconds: 86_400 });
    // A shared secret is this gateway's own: issuer and audience stay optional (checked when set).
    expect(loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32), AUTH_JWT_MAX_AGE_SECONDS: '3600' }).auth.jwt).toMatchObject({
      maxAgeSeconds: 3600,
    });
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32), AUTH_JWT_MAX_AGE_SECONDS: '0' })).toThrow(
      /AUTH_JWT_MAX_AGE_SECONDS/,
    );
  });

  it('takes CORS origins (default: any on the sandbox, none with a real upstream), the metrics listener and the readiness interval', () => {
    expect(loadConfig({}).corsOrigins).toBe('*');
    const real = {
      UPSTREAM_URL: 'https://partners.example/v2',
      UPSTREAM_CLIENT_ID: 'id',
      UPSTREAM_CLIENT_SECRET: 's',
      AUTH_API_KEYS: 'backend:0123456789abcdef0123456789',
    };
    expect(loadConfig(real).corsOrigins).toEqual([]);
    expect(loadConfig({ ...real, CORS_ORIGINS: 'https://app.example, http://localhost:5173' }).corsOrigins).toEqual([
      'https://app.example',
      'http://localhost:5173',
    ]);
    expect(loadConfig({ ...real, CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    for (const bad of ['https://app.example/', 'app.example', 'https://app.example/path', 'ftp://app.example']) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
    }
    expect(loadConfig({}).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(loadConfig({ HOST: '0.0.0.0', METRICS_HOST: '10.0.0.2', METRICS_PORT: '9100' }).metrics).toEqual({
      port: 9100,
      host: '10.0.0.2',
    });
    expect(loadConfig({ METRICS: 'false' }).metrics).toBeUndefined();
    expect(loadConfig({}).readyCheckIntervalSeconds).toBe(10);
  });

  describe('AUTH_API_KEYS', () => {
    const KEY_A = 'aaaaaaaaaaaaaaaaaaaaaaaa-secret-1';
    const KEY_B = 'bbbbbbbbbbbbbbbbbbbbbbbb-secret-2';
    const problemsOf = (value: string): string[] => {
      try {
        loadConfig({ AUTH_API_KEYS: value });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
      return [];
    };

    it('parses name:key entries (whitespace trimmed), the name being the identity', () => {
      expect(loadConfig({ AUTH_API_KEYS: ` backend:${KEY_A} , ops.team_2-x:${KEY_B}` }).auth.apiKeys).toEqual([
        { name: 'backend', key: KEY_A },
        { name: 'ops.team_2-x', key: KEY_B },
      ]);
    });

    it('refuses an entry without "name:" (it used to be accepted and named after the key minus its last character), never echoing the key', () => {
      const problems = problemsOf(`backend:${KEY_A},${KEY_B}`);
      expect(problems).toEqual([
        'AUTH_API_KEYS: entry 2 has no "name:" prefix (expected name:key; the name identifies the caller)',
      ]);
      expect(problems.join('\n')).not.toContain(KEY_B.slice(0, 12));
    });

    it('reports every bad entry at once, by position and name: empty or invalid name, short key, duplicate name, duplicate key', () => {
      const problems = problemsOf(
        `:${KEY_A},bad name:${KEY_B},short:abc,dup:${KEY_A},dup:ccccccccccccccccccccccccc-3,again:${KEY_B},,`,
      );
      expect(problems).toEqual([
        'AUTH_API_KEYS: entry 1: its name must be 1–64 characters of A–Z a–z 0–9 . _ -',
        'AUTH_API_KEYS: entry 2: its name must be 1–64 characters of A–Z a–z 0–9 . _ -',
        'AUTH_API_KEYS: entry 3 ("short"): its key must be at least 24 characters',
        'AUTH_API_KEYS: entry 4 ("dup"): its key is used by an earlier entry',
        'AUTH_API_KEYS: entry 5 ("dup"): its name "dup" is used by an earlier entry',
        'AUTH_API_KEYS: entry 6 ("again"): its key is used by an earlier entry',
        'AUTH_API_KEYS: entry 7 is empty (expected name:key,name:key)',
        'AUTH_API_KEYS: entry 8 is empty (expected name:key,name:key)',
      ]);
      for (const secret of [KEY_A, KEY_B, 'abc']) expect(problems.join('\n')).not.toContain(secret);
    });
  });

  it('derives the purchase deadlines and the shutdown drain from the upstream timeouts: 2 × search + submit (2 exchanges each) + 5 s', () => {
    // one exchange = connect + headers + body = 25 s by default
    expect(loadConfig({}).purchase).toEqual({ searchDeadlineMs: 50_000, submitDeadlineMs: 50_000 });
    expect(loadConfig({}).shutdown).toEqual({ drainMs: 155_000 });
    const short = loadConfig({
      UPSTREAM_CONNECT_TIMEOUT_MS: '1000',
      UPSTREAM_HEADERS_TIMEOUT_MS: '2000',
      UPSTREAM_BODY_TIMEOUT_MS: '3000',
    });
    expect(short.purchase).toEqual({ searchDeadlineMs: 12_000, submitDeadlineMs: 12_000 });
    expect(short.shutdown.drainMs).toBe(41_000);
  });
});
