import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../../src/mapping/template.js';
import { createBoolean, toBooleanDefault } from '../../../src/mapping/transforms/boolean.js';
import {
  createTransformChain,
  TransformSpecSchema,
  toTransformObject,
} from '../../../src/mapping/transforms/catalogue.js';
import { CodesOptionsSchema, createCodes } from '../../../src/mapping/transforms/codes.js';
import { createDate, createDateTime } from '../../../src/mapping/transforms/date.js';
import { createLowercase, createUppercase } from '../../../src/mapping/transforms/letter-case.js';
import { createNumber, roundNumber } from '../../../src/mapping/transforms/number.js';
import { createScale, ScaleOptionsSchema } from '../../../src/mapping/transforms/scale.js';
import { createSplit } from '../../../src/mapping/transforms/split.js';
import { createSplitName } from '../../../src/mapping/transforms/split-name.js';
import { createTrim } from '../../../src/mapping/transforms/trim.js';
import { createUnit, UnitOptionsSchema } from '../../../src/mapping/transforms/unit.js';
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

  it('cuts to the given precision, keeping less precise values as they are', () => {
    const year = createDate({ fn: 'date', precision: 'year' });
    expect(year('1987-06-15')).toBe('1987');
    expect(year('15/06/1987')).toBe('1987');
    expect(year(new Date(1987, 5, 15))).toBe('1987');
    expect(year('0000-00-00')).toBeUndefined();
    const month = createDate({ fn: 'date', precision: 'month' });
    expect(month('1987-06-15 10:11:12')).toBe('1987-06');
    const partial = createDate({ fn: 'date', formats: ['YYYY-MM-DD', 'YYYY'], precision: 'month' });
    expect(partial('1987')).toBe('1987');
    expect(createDate({ fn: 'date', precision: 'day' })('1987-06-15')).toBe('1987-06-15');
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

  it('cuts to the given precision, dropping the time and offset', () => {
    const day = createDateTime({ fn: 'dateTime', timezone: '-03:00', precision: 'day' });
    expect(day('2023-04-05 06:07:08')).toBe('2023-04-05');
    expect(createDateTime({ fn: 'dateTime', precision: 'year' })('2023-04-05 06:07:08')).toBe(
      '2023',
    );
    expect(createDateTime({ fn: 'dateTime', precision: 'month' })('2023-04-05')).toBe('2023-04');
    expect(day('0000-00-00 00:00:00')).toBeUndefined();
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

describe('codes', () => {
  const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
  const SNOMED = 'http://snomed.info/sct';
  const codes = createCodes({ fn: 'codes', systems: { ICD10, SNOMED } });

  it('splits prefixed codes into codings, in cell order', () => {
    expect(codes('ICD10:E11.9;SNOMED:44054006')).toEqual({
      coding: [
        { system: ICD10, code: 'E11.9' },
        { system: SNOMED, code: '44054006' },
      ],
    });
  });

  it('trims, ignores prefix case, drops duplicates, empty parts and unknown prefixes', () => {
    expect(codes(' icd10 : E11.9 ;; CIE9:250.00; ICD10:E11.9 ;SNOMED:;X')).toEqual({
      coding: [{ system: ICD10, code: 'E11.9' }],
    });
    expect(codes('CIE9:250.00')).toBeUndefined();
    expect(codes('   ')).toBeUndefined();
    expect(codes('ICD10:E11  9')).toBeUndefined();
  });

  it('gives unprefixed codes the default system, if any', () => {
    expect(codes('E11.9')).toBeUndefined();
    const withDefault = createCodes({
      fn: 'codes',
      systems: { SNOMED },
      default: ICD10,
      separator: '|',
    });
    expect(withDefault('E11.9|SNOMED:44054006|I10')).toEqual({
      coding: [
        { system: ICD10, code: 'E11.9' },
        { system: SNOMED, code: '44054006' },
        { system: ICD10, code: 'I10' },
      ],
    });
    expect(createCodes({ fn: 'codes', default: ICD10 })(Buffer.from('I10'))).toEqual({
      coding: [{ system: ICD10, code: 'I10' }],
    });
  });

  it('reads at most 50 codes from a cell', () => {
    const many = Array.from({ length: 80 }, (_, i) => `ICD10:C${i}`).join(';');
    expect((codes(many) as { coding: unknown[] }).coding).toHaveLength(50);
  });

  it('needs systems or a default, and checks their shape', () => {
    expect(CodesOptionsSchema.safeParse({ fn: 'codes' }).success).toBe(false);
    expect(CodesOptionsSchema.safeParse({ fn: 'codes', systems: {} }).success).toBe(false);
    expect(CodesOptionsSchema.safeParse({ fn: 'codes', systems: { 'a b': 'x' } }).success).toBe(
      false,
    );
    expect(CodesOptionsSchema.safeParse({ fn: 'codes', default: 'not a url' }).success).toBe(false);
  });
});

describe('unit and scale', () => {
  it('converts pounds, inches and Fahrenheit', () => {
    expect(createUnit({ fn: 'unit', from: '[lb_av]', to: 'kg' })(154)).toBe(69.85322498);
    expect(createUnit({ fn: 'unit', from: '[lb_av]', to: 'kg', decimals: 1 })('154.0')).toBe(69.9);
    expect(createUnit({ fn: 'unit', from: 'kg', to: '[lb_av]', decimals: 2 })(70)).toBe(154.32);
    expect(createUnit({ fn: 'unit', from: '[in_i]', to: 'cm' })(70)).toBe(177.8);
    expect(createUnit({ fn: 'unit', from: 'cm', to: '[in_i]', decimals: 1 })(180)).toBe(70.9);
    expect(createUnit({ fn: 'unit', from: '[degF]', to: 'Cel', decimals: 1 })(98.6)).toBe(37);
    expect(createUnit({ fn: 'unit', from: 'Cel', to: '[degF]' })(37)).toBe(98.6);
    expect(createUnit({ fn: 'unit', from: '[degF]', to: 'Cel' })(32)).toBe(0);
    expect(createUnit({ fn: 'unit', from: 'g', to: 'kg' })(3500)).toBe(3.5);
  });

  it('leaves non-numbers absent', () => {
    const toKg = createUnit({ fn: 'unit', from: '[lb_av]', to: 'kg' });
    for (const bad of ['1,5', 'abc', '', Number.NaN, {}]) {
      expect(toKg(bad), String(bad)).toBeUndefined();
    }
  });

  it('refuses conversions across dimensions and unknown units', () => {
    expect(UnitOptionsSchema.safeParse({ fn: 'unit', from: 'kg', to: 'cm' }).success).toBe(false);
    expect(UnitOptionsSchema.safeParse({ fn: 'unit', from: 'mg/dL', to: 'mmol/L' }).success).toBe(
      false,
    );
    expect(UnitOptionsSchema.safeParse({ fn: 'unit', from: 'Cel', to: 'K' }).success).toBe(true);
  });

  it('scales with a factor, an offset and rounding', () => {
    expect(createScale({ fn: 'scale', factor: 2.54 })(10)).toBe(25.4);
    expect(createScale({ fn: 'scale', factor: 0.0555, decimals: 1 })('99')).toBe(5.5);
    expect(createScale({ fn: 'scale', factor: 0.1, offset: -1 })(375)).toBe(36.5);
    expect(createScale({ fn: 'scale', factor: 2 })('x')).toBeUndefined();
    expect(ScaleOptionsSchema.safeParse({ fn: 'scale', factor: 0 }).success).toBe(false);
    expect(ScaleOptionsSchema.safeParse({ fn: 'scale' }).success).toBe(false);
  });

  it('rounds away binary noise, and never writes -0', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(roundNumber(0.1 + 0.2)).toBe(0.3);
    expect(Object.is(roundNumber(-0.0001, 2), 0)).toBe(true);
    expect(roundNumber(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe('split', () => {
  it('splits, trims and drops empty items', () => {
    expect(createSplit({ fn: 'split' })(' MARIA , JOSE,, ')).toEqual(['MARIA', 'JOSE']);
    expect(createSplit({ fn: 'split', separator: ' ' })('MARIA  JOSE')).toEqual(['MARIA', 'JOSE']);
    expect(createSplit({ fn: 'split', separator: ';' })(' ; ')).toBeUndefined();
    expect(createSplit({ fn: 'split' })(42)).toEqual(['42']);
  });

  it('reads at most 100 items', () => {
    expect(createSplit({ fn: 'split' })('a,'.repeat(500))).toHaveLength(100);
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

  it('reads columns of joins, keyed as the row builder receives them', () => {
    const template = parseTemplate('{person.given_name} {family}');
    if ('problem' in template) {
      throw new Error(template.problem);
    }
    expect(template.columns).toEqual(['person.given_name', 'family']);
    expect(template.render({ 'person.given_name': 'ANA', family: 'SOTO' })).toBe('ANA SOTO');
  });

  it('rejects bad placeholders without quoting the template', () => {
    const bads = [
      '{a',
      'a}',
      '{}',
      '{a.b.c}',
      '{.b}',
      '{1a.b}',
      "{x' OR '1'='1}",
      'no placeholder',
    ];
    for (const bad of bads) {
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
