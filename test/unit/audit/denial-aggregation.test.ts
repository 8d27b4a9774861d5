import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createDenialAggregation } from '../../../src/audit/denial-aggregation.js';
import { maskedOperation } from '../../../src/audit/masked-operation.js';

describe('createDenialAggregation', () => {
  it('admits the first denial of an address per interval and counts the rest', () => {
    const agg = createDenialAggregation({ intervalMs: 1000 });
    expect(agg.admit('10.0.0.1', 'UNAUTHENTICATED', 0)).toBe(true);
    expect(agg.admit('10.0.0.1', 'UNAUTHENTICATED', 10)).toBe(false);
    expect(agg.admit('10.0.0.1', 'RATE_LIMITED', 20)).toBe(false);
    expect(agg.admit('10.0.0.2', 'UNAUTHENTICATED', 30)).toBe(true);
    expect(agg.drain(500)).toEqual([]);
    const [due, ...rest] = agg.drain(1000);
    expect(rest).toEqual([]);
    expect(due).toMatchObject({ source: '10.0.0.1', count: 2, firstAt: 0, lastAt: 20 });
    expect([...(due?.codes ?? [])]).toEqual([
      ['UNAUTHENTICATED', 1],
      ['RATE_LIMITED', 1],
    ]);
    // A new interval starts with a row of its own again.
    expect(agg.admit('10.0.0.1', 'UNAUTHENTICATED', 1001)).toBe(true);
  });

  it('never loses a count: a new interval or an evicted address hands its count over', () => {
    const agg = createDenialAggregation({ intervalMs: 1000, maxSources: 1 });
    agg.admit('a', 'X', 0);
    agg.admit('a', 'X', 1);
    agg.admit('b', 'X', 2);
    expect(agg.drain(3).map((d) => [d.source, d.count])).toEqual([['a', 1]]);
    agg.admit('b', 'X', 4);
    agg.admit('b', 'X', 2000);
    expect(agg.drain(2001).map((d) => [d.source, d.count])).toEqual([['b', 1]]);
    agg.admit('b', 'X', 2002);
    expect(agg.drain(2003, true).map((d) => [d.source, d.count])).toEqual([['b', 1]]);
  });
});

describe('maskedOperation', () => {
  it('replaces every literal value and keeps the shape, enums and variables', () => {
    const text = maskedOperation(
      parse(
        'query Q($f: [String!]) { PatientList(family: $f, given: ["MARIA"], _count: 5, birthdate: "1970-01-01") { id } o: ObservationList(flag: true, value: 1.5, sort: DESC) { id } }',
      ),
    );
    expect(text).not.toMatch(/MARIA|1970|\b5\b|1\.5|true/);
    expect(text).toContain('family: $f');
    expect(text).toContain('given: [$_]');
    expect(text).toContain('sort: DESC');
  });
});
