import type { PrimitiveTypeDef } from '../fhir/definition-types.js';
import { toBooleanDefault } from './transforms/boolean.js';
import { toText } from './transforms/cell-values.js';
import {
  DEFAULT_DATE_MATCHERS,
  DEFAULT_DATE_TIME_MATCHERS,
  toFhirDate,
  toFhirDateTime,
  toReducedFhirDate,
} from './transforms/date.js';
import { toNumber } from './transforms/number.js';
import type { TransformFn, TransformOutput } from './transforms/transform-types.js';

/**
 * The last step of every leaf: a value coerced into its FHIR primitive type, or absent when it
 * does not fit, so what the gateway writes always validates.
 */

function compileRegex(source: string | undefined): RegExp | undefined {
  if (source === undefined) {
    return undefined;
  }
  try {
    return new RegExp(`^(?:${source})$`);
  } catch {
    // A regex JavaScript cannot read only loses the final check; the coercion still applies.
    return undefined;
  }
}

/** Which primitive types each transform output may feed. */
export function outputFits(output: TransformOutput, primitive: PrimitiveTypeDef): boolean {
  switch (output) {
    case 'text':
      return true;
    case 'boolean':
      return primitive.json === 'boolean';
    case 'number':
      return primitive.json === 'number';
    case 'date':
      return (
        primitive.name === 'date' || primitive.name === 'dateTime' || primitive.name === 'string'
      );
    case 'dateTime':
      return (
        primitive.name === 'dateTime' || primitive.name === 'instant' || primitive.name === 'string'
      );
    case 'HumanName':
    case 'CodeableConcept':
    case 'list':
      return false;
  }
}

/**
 * For the number types whose R4 regex every such number's text matches, that test without the
 * text: `toNumber` gives only finite numbers, whose `String` is `-?digits(.digits)?(e[+-]digits)?`
 * (the `decimal` regex), and plain digits for integers below 1e21 (the `integer` regex). Other
 * number types (`positiveInt`, `unsignedInt`) keep their regex.
 */
export function numberFitsRegex(primitiveName: string): ((n: number) => boolean) | undefined {
  if (primitiveName === 'decimal') {
    return Number.isFinite;
  }
  if (primitiveName === 'integer') {
    return (n) => Number.isInteger(n) && Math.abs(n) < 1e21;
  }
  return undefined;
}

/**
 * The final coercion of a value into its primitive type. Dates and booleans are normalised with
 * the default rules unless a transform already produced that kind; strings are trimmed; anything
 * that does not match the primitive's R4 regex is absent, so the output always validates.
 */
export function createLeafCoercion(
  primitive: PrimitiveTypeDef,
  chainOutput: TransformOutput | undefined,
): TransformFn {
  const regex = primitive.name === 'xhtml' ? undefined : compileRegex(primitive.regex);
  const check = (value: string | number | boolean | undefined) =>
    value === undefined || regex === undefined || regex.test(String(value)) ? value : undefined;
  if (primitive.json === 'boolean') {
    return (value) => check(typeof value === 'boolean' ? value : toBooleanDefault(value));
  }
  if (primitive.json === 'number') {
    const fits = numberFitsRegex(primitive.name);
    return (value) => {
      const n = toNumber(value);
      if (n === undefined || (primitive.integer === true && !Number.isInteger(n))) {
        return undefined;
      }
      return fits?.(n) === true ? n : check(n);
    };
  }
  const producedDate = chainOutput === 'date' || chainOutput === 'dateTime';
  // Year and month dates (`1987`, from `precision` or a year column) are FHIR dates too; they
  // are tried only after the full forms, so the common case costs nothing more.
  if (primitive.name === 'date' && !producedDate) {
    return (value) => check(toFhirDate(value, DEFAULT_DATE_MATCHERS) ?? toReducedFhirDate(value));
  }
  if (primitive.name === 'dateTime' && !producedDate) {
    return (value) =>
      check(toFhirDateTime(value, DEFAULT_DATE_TIME_MATCHERS, 'Z') ?? toReducedFhirDate(value));
  }
  if (primitive.name === 'instant' && !producedDate) {
    return (value) => check(toFhirDateTime(value, DEFAULT_DATE_TIME_MATCHERS, 'Z'));
  }
  return (value) => {
    const text = toText(value)?.trim();
    return check(text === '' ? undefined : text);
  };
}
