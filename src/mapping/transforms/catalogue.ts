import { z } from 'zod';
import { BooleanOptionsSchema, createBoolean } from './boolean.js';
import { CodesOptionsSchema, createCodes } from './codes.js';
import { createDate, createDateTime, DateOptionsSchema, DateTimeOptionsSchema } from './date.js';
import {
  createLowercase,
  createUppercase,
  LowercaseOptionsSchema,
  UppercaseOptionsSchema,
} from './letter-case.js';
import { createNumber, NumberOptionsSchema } from './number.js';
import { createScale, ScaleOptionsSchema } from './scale.js';
import { createSplit, SplitOptionsSchema } from './split.js';
import { createSplitName, SplitNameOptionsSchema } from './split-name.js';
import type { TransformFn, TransformOutput } from './transform-types.js';
import { createTrim, TrimOptionsSchema } from './trim.js';
import { createUnit, UnitOptionsSchema } from './unit.js';
import { createValueMap, ValueMapOptionsSchema } from './value-map.js';

/**
 * The closed catalogue of transforms. A mapping can name only what is listed here; adding a
 * transform means a new file in this folder plus one line in each table below (see README.md).
 */

/** Every transform's options object, discriminated on `fn`. */
export const TransformObjectSchema = z.discriminatedUnion('fn', [
  TrimOptionsSchema,
  ValueMapOptionsSchema,
  BooleanOptionsSchema,
  DateOptionsSchema,
  DateTimeOptionsSchema,
  NumberOptionsSchema,
  SplitNameOptionsSchema,
  UppercaseOptionsSchema,
  LowercaseOptionsSchema,
  CodesOptionsSchema,
  UnitOptionsSchema,
  ScaleOptionsSchema,
  SplitOptionsSchema,
]);

export type TransformObject = z.infer<typeof TransformObjectSchema>;

/** The transform names. */
export type TransformName = TransformObject['fn'];

/**
 * Transforms whose options are all optional, so a bare name (`"trim"`) is enough. `valueMap`,
 * `codes`, `unit` and `scale` are missing on purpose: they are useless without their options.
 */
export const BARE_TRANSFORM_NAMES = [
  'trim',
  'boolean',
  'date',
  'dateTime',
  'number',
  'splitName',
  'uppercase',
  'lowercase',
  'split',
] as const satisfies readonly TransformName[];

export type BareTransformName = (typeof BARE_TRANSFORM_NAMES)[number];

/** One step of a `transform` list: a bare name or an options object. */
export const TransformSpecSchema = z.union([z.enum(BARE_TRANSFORM_NAMES), TransformObjectSchema]);

export type TransformSpec = z.infer<typeof TransformSpecSchema>;

/** Every transform name, including those that need options. */
export const TRANSFORM_NAMES: readonly TransformName[] = TransformObjectSchema.options.map(
  (option) => option.shape.fn.value,
);

/** What each transform produces; the compiler checks it against the target element's type. */
export const TRANSFORM_OUTPUT: Readonly<Record<TransformName, TransformOutput>> = {
  trim: 'text',
  valueMap: 'text',
  boolean: 'boolean',
  date: 'date',
  dateTime: 'dateTime',
  number: 'number',
  splitName: 'HumanName',
  uppercase: 'text',
  lowercase: 'text',
  codes: 'CodeableConcept',
  unit: 'number',
  scale: 'number',
  split: 'list',
};

/** Expands a bare name into its options object. */
export function toTransformObject(spec: TransformSpec): TransformObject {
  return typeof spec === 'string' ? TransformObjectSchema.parse({ fn: spec }) : spec;
}

/** Builds the function for one validated transform. */
export function createTransform(spec: TransformObject): TransformFn {
  switch (spec.fn) {
    case 'trim':
      return createTrim(spec);
    case 'valueMap':
      return createValueMap(spec);
    case 'boolean':
      return createBoolean(spec);
    case 'date':
      return createDate(spec);
    case 'dateTime':
      return createDateTime(spec);
    case 'number':
      return createNumber(spec);
    case 'splitName':
      return createSplitName(spec);
    case 'uppercase':
      return createUppercase(spec);
    case 'lowercase':
      return createLowercase(spec);
    case 'codes':
      return createCodes(spec);
    case 'unit':
      return createUnit(spec);
    case 'scale':
      return createScale(spec);
    case 'split':
      return createSplit(spec);
  }
}

/**
 * Chains transforms left to right. The chain stops at the first absent value, so each transform
 * only ever sees a present one.
 */
export function createTransformChain(specs: readonly TransformObject[]): TransformFn {
  const steps = specs.map(createTransform);
  if (steps.length === 0) {
    return (value) => value;
  }
  return (value) => {
    let current: unknown = value;
    for (const step of steps) {
      if (current === undefined || current === null) {
        return undefined;
      }
      current = step(current);
    }
    return current ?? undefined;
  };
}
