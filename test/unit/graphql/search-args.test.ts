import { describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { parseReference } from '../../../src/fhir/local-reference.js';
import { compileListFhirPath } from '../../../src/graphql/list-fhirpath.js';
import { filterListItems } from '../../../src/graphql/list-field-args.js';
import {
  searchArgumentsOf,
  toPageRequest,
  toParsedSearch,
} from '../../../src/graphql/search-args.js';
import { decodeCursor, encodeCursor } from '../../../src/repository/cursor.js';

const defs = loadDefinitions();
const LIMITS = { maxCount: 100, defaultCount: 20, maxOffset: 10_000 };
const patientArgs = searchArgumentsOf(defs, 'Patient');

function codeOf(err: unknown): unknown {
  return (err as { extensions?: Record<string, unknown> }).extensions?.['code'];
}

function thrown(fn: () => unknown): { code: unknown; message: string } {
  try {
    fn();
  } catch (err) {
    return { code: codeOf(err), message: (err as Error).message };
  }
  throw new Error('expected a throw');
}

describe('search arguments', () => {
  it('names parameters with _ for -, and modifiers as <param>_<modifier>', () => {
    const names = patientArgs.map((a) => a.name);
    expect(names).toContain('address_city');
    expect(names).toContain('family_exact');
    expect(names).toContain('family_contains');
    expect(names).toContain('family_missing');
    expect(names).toContain('general_practitioner');
    // :exact and :contains are string modifiers; tokens get :missing only; _id none.
    expect(names).not.toContain('gender_exact');
    expect(names).toContain('gender_missing');
    expect(names).not.toContain('_id_missing');
    expect(patientArgs.find((a) => a.name === 'address_city_exact')).toMatchObject({
      code: 'address-city',
      modifier: 'exact',
    });
  });

  it('turns arguments into a query, values ORed per entry, and a canonical key', () => {
    const one = toParsedSearch('Patient', patientArgs, {
      family: ['B', 'A'],
      family_exact: ['X'],
      birthdate_missing: false,
      gender: null,
      given: [],
      _sort: ['-birthdate', 'family'],
    });
    expect(one.query).toEqual([
      { code: 'birthdate', modifier: 'missing', values: ['false'] },
      { code: 'family', values: ['B', 'A'] },
      { code: 'family', modifier: 'exact', values: ['X'] },
    ]);
    expect(one.sort).toEqual([
      { code: 'birthdate', descending: true },
      { code: 'family', descending: false },
    ]);
    const same = toParsedSearch('Patient', patientArgs, {
      _sort: '-birthdate,family'.split(' '),
      family_exact: ['X'],
      birthdate_missing: false,
      family: ['A', 'B'],
    });
    expect(same.key).toBe(one.key);
    const otherType = toParsedSearch('Practitioner', searchArgumentsOf(defs, 'Practitioner'), {
      family: ['A', 'B'],
    });
    expect(otherType.key).not.toBe(one.key);
  });

  it('reads _sort by code or argument name, and refuses unknown or repeated codes', () => {
    expect(toParsedSearch('Patient', patientArgs, { _sort: ['address_city'] }).sort).toEqual([
      { code: 'address-city', descending: false },
    ]);
    expect(thrown(() => toParsedSearch('Patient', patientArgs, { _sort: ['nope'] }))).toEqual({
      code: 'BAD_USER_INPUT',
      message: '_sort names a parameter that Patient does not have.',
    });
    expect(
      thrown(() => toParsedSearch('Patient', patientArgs, { _sort: ['family', '-family'] })).code,
    ).toBe('BAD_USER_INPUT');
    expect(
      thrown(() => toParsedSearch('Patient', patientArgs, { _sort: ['family_exact'] })).code,
    ).toBe('BAD_USER_INPUT');
  });

  it('checks _count and _offset against the limits', () => {
    expect(toPageRequest({}, LIMITS)).toEqual({ count: 20, offset: 0 });
    expect(toPageRequest({ _count: 0, _offset: 10_000 }, LIMITS)).toEqual({
      count: 0,
      offset: 10_000,
    });
    expect(thrown(() => toPageRequest({ _count: 101 }, LIMITS)).message).toBe(
      '_count must be between 0 and 100.',
    );
    expect(thrown(() => toPageRequest({ _offset: -1 }, LIMITS)).code).toBe('BAD_USER_INPUT');
  });
});

describe('cursors', () => {
  const key = toParsedSearch('Patient', patientArgs, { family: ['A'] }).key;

  it('round-trip the page of the search they were made for', () => {
    const cursor = encodeCursor(key, { offset: 40, count: 20 });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, key, LIMITS)).toEqual({ offset: 40, count: 20 });
    const body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    expect(Object.keys(body)).toEqual(['o', 'c', 'h']);
  });

  it('refuse another search, edits, re-encodings, out-of-limit pages and garbage', () => {
    const cursor = encodeCursor(key, { offset: 40, count: 20 });
    const body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const other = toParsedSearch('Patient', patientArgs, { family: ['B'] }).key;
    const reencode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const bad = [
      [cursor, other],
      [reencode({ ...body, o: 0 }), key],
      [reencode({ c: body.c, o: body.o, h: body.h }), key],
      [`${cursor}A`, key],
      [`${cursor}=`, key],
      [encodeCursor(key, { offset: 20_000, count: 20 }), key],
      [encodeCursor(key, { offset: 0, count: 500 }), key],
      [reencode([1, 2]), key],
      [reencode({ o: '1', c: 2, h: 'x' }), key],
      ['', key],
      ['x'.repeat(300), key],
      ['%%%', key],
    ] as const;
    for (const [c, k] of bad) {
      const err = thrown(() => decodeCursor(c, k, LIMITS));
      expect(err, c).toEqual({
        code: 'BAD_USER_INPUT',
        message: 'The cursor does not belong to this search.',
      });
    }
  });
});

describe('list-field arguments', () => {
  const names = [
    { use: 'official', family: 'A', given: ['X', 'Y'] },
    { use: 'maiden', family: 'B', given: ['Y'] },
    { use: 'official', family: 'C', given: ['Z'] },
  ];
  const filters = ['use', 'family', 'given'];
  const fhirpath = (expression: string) => compileListFhirPath(defs, 'HumanName', expression);

  it('filter by child values, a repeating child matching any of its values, then page', () => {
    expect(filterListItems(names, { use: 'official' }, filters, fhirpath)).toEqual([
      names[0],
      names[2],
    ]);
    expect(filterListItems(names, { given: 'Y' }, filters, fhirpath)).toEqual([names[0], names[1]]);
    expect(filterListItems(names, { use: 'official', given: 'Y' }, filters, fhirpath)).toEqual([
      names[0],
    ]);
    expect(filterListItems(names, { use: 'official', _offset: 1 }, filters, fhirpath)).toEqual([
      names[2],
    ]);
    expect(filterListItems(names, { _count: 1 }, filters, fhirpath)).toEqual([names[0]]);
    expect(filterListItems(names, { use: 'usual' }, filters, fhirpath)).toEqual([]);
    expect(filterListItems(null, { use: 'official' }, filters, fhirpath)).toBeNull();
    expect(filterListItems([{ rank: 1 }, { rank: 2 }], { rank: '2' }, ['rank'], fhirpath)).toEqual([
      { rank: 2 },
    ]);
  });

  it('filter by a simple fhirpath expression, with the other filters and before paging', () => {
    const names2 = [...names, { use: 'usual', given: ['W'] }];
    const kept = (expression: string, more: Record<string, unknown> = {}) =>
      filterListItems(names2, { fhirpath: expression, ...more }, filters, fhirpath);
    expect(kept('family.exists()')).toEqual(names);
    expect(kept('family.empty()')).toEqual([names2[3]]);
    expect(kept('family')).toEqual(names);
    expect(kept("use = 'official'")).toEqual([names[0], names[2]]);
    expect(kept("use != 'official'")).toEqual([names[1], names2[3]]);
    // FHIRPath compares whole collections: two givens never equal one literal.
    expect(kept("given = 'Y'")).toEqual([names[1]]);
    expect(kept("use = 'official' and given = 'Z'")).toEqual([names[2]]);
    expect(kept("family = 'it\\'s'")).toEqual([]);
    expect(kept("use = 'official'", { _offset: 1 })).toEqual([names[2]]);
    expect(kept('period.start.exists()')).toEqual([]);
    expect(kept('family.exists()', { use: 'maiden' })).toEqual([names[1]]);
  });

  it('refuse fhirpath beyond the simple subset, without echoing it', () => {
    for (const expression of [
      "where(use = 'official')",
      "family = 'A' or family = 'B'",
      'famly.exists()',
      'given.first()',
      "use = 'official' and",
      'x'.repeat(300),
    ]) {
      const error = thrown(() =>
        filterListItems(names, { fhirpath: expression }, filters, fhirpath),
      );
      expect(error.code, expression).toBe('FHIRPATH_NOT_SUPPORTED');
      expect(error.message.startsWith('fhirpath: '), expression).toBe(true);
      expect(error.message.includes('famly')).toBe(false);
    }
  });

  it('refuse negative paging', () => {
    expect(thrown(() => filterListItems(names, { _count: -1 }, filters, fhirpath)).code).toBe(
      'BAD_USER_INPUT',
    );
  });
});

describe('parseReference', () => {
  it('follows relative Type/id references only', () => {
    expect(parseReference('Patient/123')).toEqual({ resourceType: 'Patient', id: '123' });
    expect(parseReference('Observation/a-b.c')).toEqual({
      resourceType: 'Observation',
      id: 'a-b.c',
    });
    for (const value of [
      'https://other.example.org/fhir/Patient/1',
      '#contained-1',
      'Patient/1/_history/2',
      'patient/1',
      'Patient/',
      'Patient/1 OR 1=1',
      `Patient/${'1'.repeat(65)}`,
      undefined,
      42,
    ]) {
      expect(parseReference(value), String(value)).toBeUndefined();
    }
  });
});
