import { gatewayError } from '../errors.js';
import { SLICE_INDEX } from './shaping-directives.js';
import {
  type FieldPlan,
  type SelectionPlan,
  type Shaping,
  SLICE_KEY,
  TYPE_KEY,
} from './shaping-plan.js';

/**
 * Applies `@flatten`, `@first`, `@singleton` and `@slice` to an execution result, as the HL7 FHIR
 * GraphQL page's "Data Flattening Directives" describe them: the answer is built property by
 * property, and a property written more than once (children flattened into one parent) becomes a
 * list, unless it is `@singleton`, which is then an error past one value.
 */

/** `one`: a value; `list`: an array; `singleton`: one value, an error past one. */
type Cardinality = 'one' | 'list' | 'singleton';

interface Slot {
  readonly values: unknown[];
  cardinality: Cardinality;
  readonly typeName: string;
  /** The schema field name of the first field written here, for errors (a name here may hold an
   * alias and slice values, which are data). */
  readonly fieldName: string;
  /** A non-null value was given (an empty list answers `[]`, not `null`). */
  given: boolean;
}

type Output = Map<string, Slot>;

type Json = Record<string, unknown>;

function cardinality(field: FieldPlan, list: boolean): Cardinality {
  return field.singleton ? 'singleton' : list ? 'list' : 'one';
}

function addSlot(target: Output, name: string, card: Cardinality, field: FieldPlan): Slot {
  const slot = target.get(name);
  if (slot === undefined) {
    const created: Slot = {
      values: [],
      cardinality: card,
      typeName: field.typeName,
      fieldName: field.name,
      given: false,
    };
    target.set(name, created);
    return created;
  }
  if (slot.typeName !== field.typeName) {
    throw gatewayError(
      'BAD_USER_INPUT',
      `@flatten collates values of different types under one name ("${slot.fieldName}", ${slot.typeName}, and "${field.name}", ${field.typeName}); give one of them an alias.`,
    );
  }
  slot.cardinality =
    slot.cardinality === 'singleton' || card === 'singleton' ? 'singleton' : 'list';
  return slot;
}

function sliceName(field: FieldPlan, item: unknown, index: number): string {
  if (field.slice === SLICE_INDEX) {
    return String(index);
  }
  const value = (item as Json | null)?.[SLICE_KEY];
  return value === null || value === undefined ? '' : String(value);
}

function shapeObject(
  plan: SelectionPlan,
  source: Json,
  target: Output,
  inheritedList: boolean,
  suffix: string,
  merged: boolean,
): void {
  const type = plan.objectType ?? source[TYPE_KEY];
  if (typeof type !== 'string') {
    return;
  }
  for (const field of plan.fieldsFor(type)) {
    if (Object.hasOwn(source, field.key)) {
      shapeField(field, source[field.key], target, inheritedList, suffix, merged);
    }
  }
}

/**
 * One field of a source object into `target`. `merged`: `target` is a flattened parent's, where
 * a field without values adds nothing (the page's examples leave such properties out);
 * `inheritedList`: a repeating field was flattened above, so every property here is a list.
 */
function shapeField(
  field: FieldPlan,
  value: unknown,
  target: Output,
  inheritedList: boolean,
  suffix: string,
  merged: boolean,
): void {
  const items: readonly unknown[] =
    value === null || value === undefined ? [] : Array.isArray(value) ? value : [value];
  if (items.length === 0 && merged) {
    return;
  }
  let slot: Slot | undefined;
  // A flattened field has no property of its own, a sliced one one per item (below).
  if (!field.flatten && field.slice === undefined) {
    // @first answers one item: a list only where a flattened list above makes everything one.
    const list = field.first ? inheritedList : field.list || inheritedList;
    slot = addSlot(target, field.key + suffix, cardinality(field, list), field);
    slot.given ||= value !== null && value !== undefined;
  }
  const childList = field.flatten && ((field.list && !field.first) || inheritedList);
  for (const [index, item] of items.entries()) {
    let itemSuffix = suffix;
    if (field.slice !== undefined) {
      itemSuffix = `${suffix}.${sliceName(field, item, index)}`;
      if (!field.flatten) {
        slot = addSlot(
          target,
          field.key + itemSuffix,
          cardinality(field, field.list || inheritedList),
          field,
        );
        slot.given = true;
      }
    }
    if (slot === undefined) {
      if (field.children !== undefined && item !== null && typeof item === 'object') {
        shapeObject(field.children, item as Json, target, childList, itemSuffix, true);
      }
    } else if (field.children === undefined || field.plain || item === null) {
      slot.values.push(item);
    } else {
      const child: Output = new Map();
      slot.values.push(child);
      shapeObject(field.children, item as Json, child, false, '', false);
    }
    if (field.first) {
      break;
    }
  }
}

function write(output: Output): Json {
  const json: Json = {};
  for (const [name, slot] of output) {
    if (slot.cardinality === 'list') {
      json[name] = slot.given ? slot.values.map(writeValue) : null;
    } else if (slot.values.length > 1) {
      throw gatewayError(
        'SINGLETON_VIOLATED',
        `@singleton: "${slot.fieldName}" has ${slot.values.length} values in this answer; narrow the list (a filter, _count: 1, @first) or remove @singleton.`,
      );
    } else {
      json[name] = slot.values.length === 0 ? null : writeValue(slot.values[0]);
    }
  }
  return json;
}

function writeValue(value: unknown): unknown {
  return value instanceof Map ? write(value as Output) : value;
}

/** The execution result's `data` in the shape the operation's directives ask for. */
export function shapeData(shaping: Shaping, data: Json): Json {
  const output: Output = new Map();
  shapeObject(shaping.root, data, output, false, '', false);
  return write(output);
}
