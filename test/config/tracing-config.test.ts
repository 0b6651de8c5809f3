/** The OTEL_* variables: tracing on only with an OTLP endpoint, the standard switches, typed errors for bad values. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.ts';

describe('tracing configuration', () => {
  it('is off by default', () => {
    expect(loadConfig({}).tracing).toMatchObject({
      enabled: false,
      endpoint: undefined,
      serviceName: 'esim-gateway',
      sampler: 'parentbased_always_on',
    });
  });

  it('is on with an OTLP endpoint: base + /v1/traces, or the traces endpoint as is', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toMatchObject({
      enabled: true,
      endpoint: 'http://collector:4318/v1/traces',
    });
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp',
      }).tracing.endpoint,
    ).toBe('https://traces.example/otlp');
  });

  it('OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none switch it off', () => {
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).tracing.enabled,
    ).toBe(false);
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing.enabled,
    ).toBe(false);
  });

  it('reads service name, sampler and its ratio, and exporter headers (percent-decoded)', () => {
    const tracing = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_SERVICE_NAME: 'gw-eu',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%3Db, x-team=esim',
    }).tracing;
    expect(tracing).toMatchObject({
      serviceName: 'gw-eu',
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      headers: { 'api-key': 'a=b', 'x-team': 'esim' },
    });
  });

  it('reports bad values as one ConfigError', () => {
    let error: unknown;
    try {
      loadConfig({
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '2',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'OTEL_TRACES_SAMPLER',
      'OTEL_TRACES_SAMPLER_ARG',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    ])
      expect(problems).toContain(name);
  });
});
