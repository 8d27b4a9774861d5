import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';

describe('observability settings', () => {
  it('has documented defaults', () => {
    expect(loadConfig({}).observability).toEqual({
      metrics: true,
      metricsPort: undefined,
      metricsToken: undefined,
      readyTimeoutMs: 1000,
      shutdownDelayMs: 0,
      shutdownTimeoutMs: 10_000,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      FHIRGATE_METRICS: 'false',
      FHIRGATE_METRICS_PORT: '9464',
      FHIRGATE_METRICS_TOKEN: 'a-long-enough-token',
      FHIRGATE_READY_TIMEOUT_MS: '250',
      FHIRGATE_SHUTDOWN_DELAY_MS: '5000',
      FHIRGATE_SHUTDOWN_TIMEOUT_MS: '20000',
    });
    expect(config.observability).toEqual({
      metrics: false,
      metricsPort: 9464,
      metricsToken: 'a-long-enough-token',
      readyTimeoutMs: 250,
      shutdownDelayMs: 5000,
      shutdownTimeoutMs: 20_000,
    });
  });

  it('refuses a short token and a metrics port equal to PORT, without echoing the token', () => {
    expect(() => loadConfig({ FHIRGATE_METRICS_TOKEN: 'short-secret' })).toThrow(ConfigError);
    try {
      loadConfig({ FHIRGATE_METRICS_TOKEN: 'short-secret' });
    } catch (err) {
      expect((err as Error).message).toContain('FHIRGATE_METRICS_TOKEN');
      expect((err as Error).message).not.toContain('short-secret');
    }
    expect(() => loadConfig({ PORT: '4000', FHIRGATE_METRICS_PORT: '4000' })).toThrow(
      /FHIRGATE_METRICS_PORT/,
    );
  });
});
