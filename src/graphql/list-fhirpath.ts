import { gatewayError } from '../errors.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { FhirJson } from '../fhir/fhir-json.js';

/**
 * The `fhirpath` argument of list fields (`name(fhirpath: "family.exists()")`), for the simple
 * expressions list filters need; anything else is refused with `FHIRPATH_NOT_SUPPORTED`:
 *
 *   term (and term)*
 *   term := path | path.exists() | path.empty() | path = literal | path != literal
 *   path := element(.element)*      (JSON names of the item's elements: family, period.start)
 *   literal := 'text' | number | true | false
 *
 * Evaluated as FHIRPath does on the item: a path is the collection of its values (repeating
 * elements add up), `=` compares whole collections (an empty side is false), and a bare path is
 * true when it has values (a single boolean counts as itself).
 */

const MAX_LENGTH = 256;
const STEP = /^[a-z][A-Za-z0-9]{0,63}$/;
const TERM =
  /^([a-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)*?)(?:\.(exists|empty)\(\)|\s*(!=|=)\s*('(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?|true|false))?$/;

type Literal = string | number | boolean;

interface Term {
  readonly steps: readonly string[];
  readonly test: 'value' | 'exists' | 'empty' | '=' | '!=';
  readonly literal?: Literal;
}

/** An item filter compiled from one expression. */
export type ItemFilter = (item: FhirJson) => boolean;

function refuse(message: string): never {
  throw gatewayError('FHIRPATH_NOT_SUPPORTED', `fhirpath: ${message}`);
}

const SUPPORTED =
  "supported are a path of the item's elements (family, period.start), path.exists(), path.empty(), path = 'text' and path != 'text' (or a number, true, false), joined by and";

function literalOf(text: string): Literal {
  if (text.startsWith("'")) {
    return text.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  if (text === 'true' || text === 'false') {
    return text === 'true';
  }
  return Number(text);
}

/** Splits on ` and ` outside string literals. */
function splitAnd(expression: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (quoted && c === '\\') {
      i++;
    } else if (c === "'") {
      quoted = !quoted;
    } else if (!quoted && expression.startsWith(' and ', i)) {
      parts.push(expression.slice(start, i));
      start = i + ' and '.length;
      i = start - 1;
    }
  }
  parts.push(expression.slice(start));
  return parts.map((p) => p.trim());
}

function parseTerm(defs: FhirDefinitions, itemType: string, text: string): Term {
  const match = TERM.exec(text);
  if (match === null) {
    refuse(`the expression is not one this server evaluates; ${SUPPORTED}.`);
  }
  const [, path = '', fn, op, literal] = match;
  const steps = path.split('.');
  let type = itemType;
  for (const [i, step] of steps.entries()) {
    const element = STEP.test(step) ? defs.element(type, step) : undefined;
    if (element === undefined) {
      refuse(
        `step ${i + 1} of a path is not an element of ${type}; use the JSON names of its elements.`,
      );
    }
    type = element.type;
  }
  if (fn === 'exists' || fn === 'empty') {
    return { steps, test: fn };
  }
  if (op === '=' || op === '!=') {
    return { steps, test: op, literal: literalOf(literal ?? '') };
  }
  return { steps, test: 'value' };
}

function valuesAt(item: FhirJson, steps: readonly string[]): unknown[] {
  let values: unknown[] = [item];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of values) {
      const child = (value as Record<string, unknown>)[step];
      if (Array.isArray(child)) {
        next.push(...child.filter((c) => c !== null && c !== undefined));
      } else if (child !== null && child !== undefined) {
        next.push(child);
      }
    }
    values = next;
  }
  return values;
}

function holds(term: Term, item: FhirJson): boolean {
  const values = valuesAt(item, term.steps);
  switch (term.test) {
    case 'exists':
      return values.length > 0;
    case 'empty':
      return values.length === 0;
    case 'value':
      return values.length === 1 && typeof values[0] === 'boolean' ? values[0] : values.length > 0;
    case '=':
      return values.length === 1 && values[0] === term.literal;
    case '!=':
      return values.length > 0 && !(values.length === 1 && values[0] === term.literal);
  }
}

const compiled = new Map<string, ItemFilter>();
/** Distinct expressions kept compiled; documents repeat a handful. */
const MAX_COMPILED = 512;

/**
 * The filter of a `fhirpath` argument on a list of `itemType`, or a `FHIRPATH_NOT_SUPPORTED`
 * error naming what is supported. Compiled once per item type and expression.
 */
export function compileListFhirPath(
  defs: FhirDefinitions,
  itemType: string,
  expression: string,
): ItemFilter {
  const key = `${itemType}\u0000${expression}`;
  const known = compiled.get(key);
  if (known !== undefined) {
    return known;
  }
  if (expression.length > MAX_LENGTH) {
    refuse(`expressions are limited to ${MAX_LENGTH} characters.`);
  }
  const terms = splitAnd(expression.trim()).map((t) => parseTerm(defs, itemType, t));
  const filter: ItemFilter = (item) => terms.every((t) => holds(t, item));
  if (compiled.size >= MAX_COMPILED) {
    compiled.clear();
  }
  compiled.set(key, filter);
  return filter;
}
