import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../../src/mapping/template.js';
import { createBoolean, toBooleanDefault } from '../../../src/mapping/transforms/boolean.js';
import {
  createTransformChain,
  TransformSpecSchema,
  toTransformObject,
} from '../../../src/mapping/transforms/catalogue.js';
import { createDate, createDateTime } from '../../../src/mapping/transforms/date.js';
import { createLowercase, createUppercase } from '../../../src/mapping/transforms/letter-case.js';
import { createNumber } from '../../../src/mapping/transforms/number.js';
import { createSplitName } from '../../../src/mapping/transforms/split-name.js';
import { createTrim } from '../../../src/mapping/transforms/trim.js';
import { createValueMap } from '../../../src/mapping/transforms/value-map.js';

describe('trim, uppercase, lowercase', () => {
  it('trims CHAR padding and turns non-text cells into text', () => {
    const trim = createTrim({ fn: 'trim' });
    expect(trim('  12345678-9 ')).toBe('12345678-9');
    expect(trim(42)).toBe('42');
    expect(trim(Buffer.from(' abc '))).toBe('abc');
    expect(trim({})).toBeUndefined();
  });

  it('changes case without depending on the locale', () => {
    expect(createUppercase({ fn: 'uppercase' })('12.345.678-k')).toBe('12.345.678-K');
    expect(createLowercase({ fn: 'lowercase' })('MALE')).toBe('male');
  });
});

describe('valueMap', () => {
  const gender = createValueMap({
    fn: 'valueMap',
    map: { H: 'male', M: 'female' },
    default: 'unknown',
  });

  it('maps, trims and falls back to the default for unknown codes', () => {
    expect(gender('H')).toBe('male');
    expect(gender('M ')).toBe('female');
    expect(gender('X')).toBe('unknown');
  });

  it('is case-sensitive unless asked', () => {
    expect(gender('h')).toBe('unknown');
    const folded = createValueMap({ fn: 'valueMap', map: { H: 'male' }, caseInsensitive: true });
    expect(folded('h')).toBe('male');
    expect(folded('x')).toBeUndefined();
  });

  it('keeps an empty cell absent even with a default, and looks up numbers as text', () => {
    expect(gender('   ')).toBeUndefined();
    const numeric = createValueMap({ fn: 'valueMap', map: { '1': 'male', '2': 'female' } });
    expect(numeric(1)).toBe('male');
  });

  it('does not answer for inherited object keys', () => {
    const map = createValueMap({ fn: 'valueMap', map: { a: 'b' } });
    expect(map('constructor')).toBeUndefined();
    expect(map('__proto__')).toBeUndefined();
  });
});

describe('boolean', () => {
  it('reads TINYINT, Y/N, Spanish S/N and true/false by default', () => {
    for (const yes of [1, '1', 'Y', 'y', 'S', 's', 'T', 'true', 'TRUE', true, 1n, ' S ']) {
      expect(toBooleanDefault(yes), String(yes)).toBe(true);
    }
    for (const no of [0, '0', 'N', 'n', 'F', 'false', 'FALSE', false, 0n]) {
      expect(toBooleanDefault(no), String(no)).toBe(false);
    }
  });

  it('leaves anything else absent', () => {
    for (const other of [2, 'SI', 'yes', '', 'maybe', null, {}]) {
      expect(toBooleanDefault(other), String(other)).toBeUndefined();
    }
  });

  it('reads a MySQL BIT(1) buffer', () => {
    expect(toBooleanDefault(Buffer.from([1]))).toBe(true);
    expect(toBooleanDefault(Buffer.from([0]))).toBe(false);
  });

  it('replaces the defaults of the side that is listed', () => {
    const activo = createBoolean({ fn: 'boolean', true: ['SI', 'ACTIVO'], false: ['NO'] });
    expect(activo('SI')).toBe(true);
    expect(activo('ACTIVO')).toBe(true);
    expect(activo('NO')).toBe(false);
    expect(activo('1')).toBeUndefined();
    const onlyTrue = createBoolean({ fn: 'boolean', true: [-1] });
    expect(onlyTrue(-1)).toBe(true);
    expect(onlyTrue(0)).toBe(false);
  });
});

describe('date', () => {
  const date = createDate({ fn: 'date' });

  it('reads the default legacy formats', () => {
    expect(date('1980-05-17')).toBe('1980-05-17');
    expect(date('19800517')).toBe('1980-05-17');
    expect(date('17/05/1980')).toBe('1980-05-17');
    expect(date('17-05-1980')).toBe('1980-05-17');
    expect(date(19800517)).toBe('1980-05-17');
    expect(date(' 7/5/1980 ')).toBe('1980-05-07');
  });

  it('takes the date part of a DATETIME string and of a JS Date', () => {
    expect(date('1980-05-17 13:45:00')).toBe('1980-05-17');
    expect(date('1980-05-17T13:45:00.000Z')).toBe('1980-05-17');
    expect(date(new Date(1980, 4, 17))).toBe('1980-05-17');
  });

  it('makes zero dates absent, never an error', () => {
    for (const zero of [
      '0000-00-00',
      '00/00/0000',
      '0000-00-00 00:00:00',
      '00000000',
      '1980-00-10',
      '1980-05-00',
    ]) {
      expect(date(zero), zero).toBeUndefined();
    }
  });

  it('makes impossible dates absent', () => {
    for (const impossible of [
      '2023-02-30',
      '31/02/1999',
      '2023-13-01',
      '2023-04-31',
      '1900-02-29',
    ]) {
      expect(date(impossible), impossible).toBeUndefined();
    }
    expect(date('2000-02-29')).toBe('2000-02-29');
    expect(date(new Date(Number.NaN))).toBeUndefined();
  });

  it('makes unreadable text absent', () => {
    for (const junk of ['yesterday', '1980', '17.05.1980', '', '1980-05-17; DROP TABLE x']) {
      expect(date(junk), junk).toBeUndefined();
    }
  });

  it('uses only the given formats, in order, and supports partial dates', () => {
    const ddmm = createDate({ fn: 'date', formats: ['DD.MM.YYYY', 'YYYY-MM', 'YYYY'] });
    expect(ddmm('17.05.1980')).toBe('1980-05-17');
    expect(ddmm('1980-05')).toBe('1980-05');
    expect(ddmm('1980')).toBe('1980');
    expect(ddmm('1980-05-17')).toBeUndefined();
    expect(ddmm('17/05/1980')).toBeUndefined();
    // An impossible reading under one format falls through to the next.
    const ambiguous = createDate({ fn: 'date', formats: ['YYYYMMDD', 'DDMMYYYY'] });
    expect(ambiguous('01021980')).toBe('1980-02-01');
  });
});

describe('dateTime', () => {
  it('adds the configured offset to naive values', () => {
    const utc = createDateTime({ fn: 'dateTime' });
    expect(utc('2023-04-05 06:07:08')).toBe('2023-04-05T06:07:08Z');
    expect(utc('2023-04-05 06:07')).toBe('2023-04-05T06:07:00Z');
    expect(utc('05/04/2023 06:07:08')).toBe('2023-04-05T06:07:08Z');
    expect(utc('2023-04-05 06:07:08.123')).toBe('2023-04-05T06:07:08Z');
    const santiago = createDateTime({ fn: 'dateTime', timezone: '-03:00' });
    expect(santiago('2023-04-05 06:07:08')).toBe('2023-04-05T06:07:08-03:00');
  });

  it('keeps a date-only value as a date and an explicit offset as is', () => {
    const dt = createDateTime({ fn: 'dateTime', timezone: '-04:00' });
    expect(dt('2023-04-05')).toBe('2023-04-05');
    expect(dt('2023-04-05T06:07:08+02:00')).toBe('2023-04-05T06:07:08+02:00');
    expect(dt('2023-04-05T06:07Z')).toBe('2023-04-05T06:07:00Z');
  });

  it('writes a JS Date instant in the configured offset', () => {
    const instant = new Date(Date.UTC(2023, 3, 5, 6, 7, 8));
    expect(createDateTime({ fn: 'dateTime' })(instant)).toBe('2023-04-05T06:07:08Z');
    expect(createDateTime({ fn: 'dateTime', timezone: '-03:00' })(instant)).toBe(
      '2023-04-05T03:07:08-03:00',
    );
  });

  it('makes zero and impossible datetimes absent', () => {
    const dt = createDateTime({ fn: 'dateTime' });
    for (const bad of [
      '0000-00-00 00:00:00',
      '2023-02-30 10:00:00',
      '2023-04-05 24:00:00',
      '2023-04-05 10:60:00',
      'now',
    ]) {
      expect(dt(bad), bad).toBeUndefined();
    }
  });
});

describe('number', () => {
  const number = createNumber({ fn: 'number' });

  it('reads DECIMAL strings and numbers', () => {
    expect(number('12.50')).toBe(12.5);
    expect(number(' -3 ')).toBe(-3);
    expect(number(7)).toBe(7);
    expect(number(7n)).toBe(7);
    expect(number('1e3')).toBe(1000);
  });

  it('makes ambiguous or non-numeric text absent', () => {
    for (const bad of ['1,5', '1.000,00', 'abc', '', '0x10', 'Infinity', Number.NaN]) {
      expect(number(bad), String(bad)).toBeUndefined();
    }
  });
});

describe('splitName', () => {
  const one = createSplitName({ fn: 'splitName' });
  const chilean = createSplitName({ fn: 'splitName', familyCount: 2 });
  const familyFirst = createSplitName({ fn: 'splitName', order: 'familyFirst', familyCount: 2 });

  it('splits given names first with one family name by default', () => {
    expect(one('JUAN PEREZ')).toEqual({ family: 'PEREZ', given: ['JUAN'], text: 'JUAN PEREZ' });
    expect(one('  JUAN   CARLOS  PEREZ ')).toEqual({
      family: 'PEREZ',
      given: ['JUAN', 'CARLOS'],
      text: 'JUAN CARLOS PEREZ',
    });
  });

  it('takes two family names for Chilean and Spanish names', () => {
    expect(chilean('JUAN CARLOS PEREZ GONZALEZ')).toEqual({
      family: 'PEREZ GONZALEZ',
      given: ['JUAN', 'CARLOS'],
      text: 'JUAN CARLOS PEREZ GONZALEZ',
    });
    expect(familyFirst('PEREZ GONZALEZ JUAN CARLOS')).toEqual({
      family: 'PEREZ GONZALEZ',
      given: ['JUAN', 'CARLOS'],
      text: 'PEREZ GONZALEZ JUAN CARLOS',
    });
  });

  it('keeps particles with the next word', () => {
    expect(chilean('MARIA DEL CARMEN DE LA FUENTE SOTO')).toEqual({
      family: 'DE LA FUENTE SOTO',
      given: ['MARIA', 'DEL CARMEN'],
      text: 'MARIA DEL CARMEN DE LA FUENTE SOTO',
    });
  });

  it('reads "Family, Given" whatever the order', () => {
    expect(chilean('PEREZ GONZALEZ, JUAN CARLOS')).toEqual({
      family: 'PEREZ GONZALEZ',
      given: ['JUAN', 'CARLOS'],
      text: 'JUAN CARLOS PEREZ GONZALEZ',
    });
    expect(one('Smith, ')).toEqual({ family: 'Smith', text: 'Smith' });
    expect(one(', Ana')).toEqual({ given: ['Ana'], text: 'Ana' });
  });

  it('leaves at least one given name, and a single word as the family', () => {
    expect(chilean('JUAN PEREZ')).toEqual({ family: 'PEREZ', given: ['JUAN'], text: 'JUAN PEREZ' });
    expect(chilean('MADONNA')).toEqual({ family: 'MADONNA', text: 'MADONNA' });
  });

  it('makes blank cells absent', () => {
    expect(one('   ')).toBeUndefined();
    expect(one(null)).toBeUndefined();
  });
});

describe('templates', () => {
  it('joins columns, skipping blank ones and collapsing whitespace', () => {
    const template = parseTemplate('{nom_pac} {ap_pat_pac} {ap_mat_pac}');
    if ('problem' in template) {
      throw new Error(template.problem);
    }
    expect(template.columns).toEqual(['nom_pac', 'ap_pat_pac', 'ap_mat_pac']);
    expect(template.render({ nom_pac: 'ANA', ap_pat_pac: null, ap_mat_pac: '  LOPEZ ' })).toBe(
      'ANA LOPEZ',
    );
    expect(template.render({ nom_pac: ' ', ap_pat_pac: null })).toBeUndefined();
    expect(template.render({ nom_pac: 1, ap_pat_pac: 2n, ap_mat_pac: Buffer.from('x') })).toBe(
      '1 2 x',
    );
  });

  it('is absent when every placeholder is blank, even with literal text', () => {
    const reference = parseTemplate('Organization/{org_id}');
    if ('problem' in reference) {
      throw new Error(reference.problem);
    }
    expect(reference.render({ org_id: 12 })).toBe('Organization/12');
    expect(reference.render({ org_id: null })).toBeUndefined();
  });

  it('rejects bad placeholders without quoting the template', () => {
    for (const bad of ['{a', 'a}', '{}', '{a.b}', "{x' OR '1'='1}", 'no placeholder']) {
      const result = parseTemplate(bad);
      expect('problem' in result, bad).toBe(true);
      if ('problem' in result) {
        expect(result.problem).not.toContain(bad);
      }
    }
  });
});

describe('transform chains', () => {
  it('runs left to right and stops at the first absent value', () => {
    const chain = createTransformChain(
      [
        'trim',
        'uppercase',
        { fn: 'valueMap', map: { H: 'male', M: 'female' }, default: 'unknown' },
      ].map((spec) => toTransformObject(TransformSpecSchema.parse(spec))),
    );
    expect(chain(' h ')).toBe('male');
    expect(chain('z')).toBe('unknown');
    expect(chain('   ')).toBeUndefined();
    expect(chain(null)).toBeUndefined();
  });

  it('passes values through with no transforms', () => {
    expect(createTransformChain([])('x')).toBe('x');
  });
});
