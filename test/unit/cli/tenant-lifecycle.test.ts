import { describe, expect, it } from 'vitest';
import { diffDocuments } from '../../../src/cli/mapping-versions.js';
import { mergeTls } from '../../../src/cli/tenant-command.js';

describe('tenant update: TLS settings', () => {
  const stored = { mode: 'verify-full' as const, ca: 'CA1', cert: 'C', key: 'K' };

  it('keeps the stored settings when no TLS option is given', () => {
    expect(mergeTls(stored, undefined)).toBe(stored);
  });

  it('given fields replace stored ones, the rest stays', () => {
    expect(mergeTls(stored, { ca: 'CA2' })).toEqual({ ...stored, ca: 'CA2' });
    expect(mergeTls(undefined, { mode: 'require' })).toEqual({ mode: 'require' });
  });

  it('mode disable drops everything else (it takes no CA or certificate)', () => {
    expect(mergeTls(stored, { mode: 'disable' })).toEqual({ mode: 'disable' });
  });
});

describe('mapping diff', () => {
  it('lists changed, added and removed leaves by JSON path', () => {
    const from = { formatVersion: 1, resources: { Patient: { table: 'p', 'a.b': [1, 2] } } };
    const to = { formatVersion: 1, resources: { Patient: { table: 'q', 'a.b': [1] }, Extra: {} } };
    expect(diffDocuments(from, to)).toEqual([
      '+ $.resources.Extra: {}',
      '- $.resources.Patient.table: "p"',
      '+ $.resources.Patient.table: "q"',
      '- $.resources.Patient["a.b"][1]: 2',
    ]);
    expect(diffDocuments(from, structuredClone(from))).toEqual([]);
  });
});
