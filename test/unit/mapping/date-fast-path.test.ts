import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileDateFormats,
  DEFAULT_DATE_FORMATS,
  DEFAULT_DATE_MATCHERS,
  DEFAULT_DATE_TIME_FORMATS,
  DEFAULT_DATE_TIME_MATCHERS,
  toFhirDate,
  toFhirDateTime,
} from '../../../src/mapping/transforms/date.js';

// Equal matchers in a different array: these always take the general (regex) path.
const GENERAL_DATE = compileDateFormats(DEFAULT_DATE_FORMATS);
const GENERAL_DATE_TIME = compileDateFormats(DEFAULT_DATE_TIME_FORMATS);

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Mostly well-formed `YYYY-MM-DD[ hh:mm:ss]` text, with impossible and zero parts mixed in. */
const cell = fc
  .record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 61 }),
    second: fc.integer({ min: 0, max: 61 }),
    separator: fc.constantFrom(' ', 'T', '_'),
    withTime: fc.boolean(),
  })
  .map((p) => {
    const date = `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}`;
    return p.withTime
      ? `${date}${p.separator}${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}`
      : date;
  });

describe('date fast paths (mysql2 DATE/DATETIME strings) agree with the general path', () => {
  it('toFhirDate, 5,000 generated cells plus edge cases', () => {
    const edges = [
      '2024-02-29',
      '2023-02-29',
      '1900-02-29',
      '2000-02-29',
      '0000-00-00',
      '2023-12-31 23:59:59',
      '2023-01-02T08:30:00',
      '2023-01-02 24:00:00',
    ];
    for (const text of edges) {
      expect(toFhirDate(text, DEFAULT_DATE_MATCHERS), text).toBe(toFhirDate(text, GENERAL_DATE));
    }
    fc.assert(
      fc.property(cell, (text) => {
        expect(toFhirDate(text, DEFAULT_DATE_MATCHERS)).toBe(toFhirDate(text, GENERAL_DATE));
      }),
      { numRuns: 5000 },
    );
    expect(toFhirDate('2024-02-29', DEFAULT_DATE_MATCHERS)).toBe('2024-02-29');
    expect(toFhirDate('2023-02-29', DEFAULT_DATE_MATCHERS)).toBeUndefined();
  });

  it('toFhirDateTime, 5,000 generated cells in two time zones', () => {
    for (const timezone of ['Z', '-03:00']) {
      fc.assert(
        fc.property(cell, (text) => {
          expect(toFhirDateTime(text, DEFAULT_DATE_TIME_MATCHERS, timezone)).toBe(
            toFhirDateTime(text, GENERAL_DATE_TIME, timezone),
          );
        }),
        { numRuns: 2500 },
      );
    }
    expect(toFhirDateTime('2023-01-02 08:30:00', DEFAULT_DATE_TIME_MATCHERS, '-03:00')).toBe(
      '2023-01-02T08:30:00-03:00',
    );
    expect(toFhirDateTime('0000-00-00 00:00:00', DEFAULT_DATE_TIME_MATCHERS, 'Z')).toBeUndefined();
  });
});
