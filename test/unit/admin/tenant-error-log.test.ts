import { describe, expect, it } from 'vitest';
import { createTenantErrorLog } from '../../../src/admin/tenant-error-log.js';

describe('tenant error log', () => {
  it('keeps the last failed statement code per tenant and ignores successes', () => {
    const log = createTenantErrorLog();
    const event = { sql: 'SELECT 1', durationMs: 1 };
    log.onStatement({ ...event, tenantHash: 'a', ok: false, errorCode: 'TENANT_UNAVAILABLE' });
    log.onStatement({ ...event, tenantHash: 'a', ok: true });
    expect(log.last('a')?.code).toBe('TENANT_UNAVAILABLE');
    log.onStatement({ ...event, tenantHash: 'a', ok: false, errorCode: 'UPSTREAM_TIMEOUT' });
    log.onStatement({ ...event, tenantHash: 'b', ok: false });
    expect(log.last('a')?.code).toBe('UPSTREAM_TIMEOUT');
    // A failure without a code is still a failure.
    expect(log.last('b')?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(log.last('c')).toBeUndefined();
  });

  it('records codes given directly, with their time', () => {
    const log = createTenantErrorLog();
    const before = Date.now();
    log.record('a', 'TENANT_CONFIG_INVALID');
    const entry = log.last('a');
    expect(entry?.code).toBe('TENANT_CONFIG_INVALID');
    expect(entry?.at).toBeGreaterThanOrEqual(before);
  });
});
