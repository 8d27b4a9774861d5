import { describe, expect, it } from 'vitest';
import type { PrimitiveTypeDef } from '../../../src/fhir/definition-types.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { createLeafCoercion, numberFitsRegex } from '../../../src/mapping/leaf-coercion.js';

const defs = loadDefinitions();
const primitive = (name: string) => defs.type(name) as PrimitiveTypeDef;
const regexOf = (name: string) => new RegExp(`^(?:${primitive(name).regex})$`);

// Finite numbers whose text takes every form `String` writes: zero, negative zero, fractions
// below 1, exponents both ways, the largest and smallest doubles, and both sides of 1e21.
// biome-ignore format: a table of numbers reads better in rows
const NUMBERS = [
  0, -0, 1, -1, 7, 42, 120, 72.5, -3.25, 0.1, 0.001, 1e-6, 1e-7, 1.5e-7, 123456789.125,
  2 ** 31 - 1, -(2 ** 31), 2 ** 53, -(2 ** 53), 1e20, 999999999999999900000, 1e21, -1e21, 1.5e300,
  Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, Number.EPSILON,
];

describe('numberFitsRegex', () => {
  for (const name of ['decimal', 'integer']) {
    it(`says yes exactly where the ${name} regex matches the number's text`, () => {
      const fits = numberFitsRegex(name);
      const regex = regexOf(name);
      expect(fits).toBeDefined();
      // The coercion asks only about integers for `integer` (a fraction is refused before).
      const asked = name === 'integer' ? NUMBERS.filter(Number.isInteger) : NUMBERS;
      for (const n of asked) {
        expect(fits?.(n), `${name} ${String(n)}`).toBe(regex.test(String(n)));
      }
    });
  }

  it('leaves the other number types to their regex', () => {
    expect(numberFitsRegex('positiveInt')).toBeUndefined();
    expect(numberFitsRegex('unsignedInt')).toBeUndefined();
  });
});

describe('createLeafCoercion for numbers', () => {
  it('gives what the regex check gave: the number, or nothing', () => {
    const decimal = createLeafCoercion(primitive('decimal'), undefined);
    const integer = createLeafCoercion(primitive('integer'), undefined);
    const positive = createLeafCoercion(primitive('positiveInt'), undefined);
    expect(decimal('72.50')).toBe(72.5);
    expect(decimal(' -0.001 ')).toBe(-0.001);
    expect(decimal('1e400')).toBeUndefined();
    expect(decimal('12,5')).toBeUndefined();
    expect(integer('42')).toBe(42);
    expect(integer('4.2')).toBeUndefined();
    // 1e21 is an integer whose text is `1e+21`: the regex refuses it, as before.
    expect(integer(1e21)).toBeUndefined();
    expect(positive('0')).toBeUndefined();
    expect(positive('3')).toBe(3);
  });
});
