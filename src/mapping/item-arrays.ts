import type { Row } from '../db/dialect.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { CompiledChoices } from './choices.js';
import type { FieldColumnUse } from './column-use.js';
import { resolvePath } from './fhir-path.js';
import type { DelimitedSource, JsonSource } from './mapping-schema.js';
import { DATA, type LayoutPart } from './resource-layout.js';
import {
  type CompiledFields,
  choiceAwareWrite,
  compileFields,
  createItemBuilder,
  type ProblemReporter,
  type SlotWriter,
  topElement,
} from './row-to-resource.js';
import { toText } from './transforms/cell-values.js';

/**
 * Arrays kept in one cell of the main row: a delimited string (`'urticaria;disnea'`) or a JSON
 * array (`'[{"numero":"+569...","tipo":"CEL"}]'`). Each part or entry becomes one item of a
 * repeating complex element, built from the item's elements like a child row. Inside them, `$value`
 * is the part or entry itself and `$.a.b` a property path into a JSON entry; plain column names
 * still read the main row. Bad data never fails: a cell that is not a JSON array gives no items.
 */

/** The most items read from one cell; the rest of a runaway cell is ignored. */
export const MAX_ITEMS_PER_CELL = 100;

/** The item itself. */
const VALUE_ACCESSOR = '$value';

/** A compiled `delimited` or `json` element. */
export interface CompiledItemArray extends SlotWriter {
  /** The items it appends, and where. */
  readonly part: LayoutPart;
  /** The main-table column holding the array. */
  readonly column: string;
  /** The main-table columns the item elements read besides it. */
  readonly rowColumns: readonly string[];
  /** Column uses of the source column and of the row columns the items read. */
  readonly uses: readonly FieldColumnUse[];
  /** The top-level element the items go into (`telecom`). */
  readonly element: string;
}

/** `'$.a.b'` -> `['a', 'b']`; `'$value'` -> `[]`. */
function accessorSteps(accessor: string): string[] {
  return accessor === VALUE_ACCESSOR ? [] : accessor.slice(2).split('.');
}

/** Walks own properties of plain objects; anything else on the way is absent. */
function readPath(item: unknown, steps: readonly string[]): unknown {
  let current = item;
  for (const step of steps) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) {
      return undefined;
    }
    if (!Object.hasOwn(current, step)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** The parts of a delimited cell, trimmed, empty ones dropped. */
export function splitCell(cell: unknown, separator: string): string[] {
  const text = toText(cell);
  if (text === undefined) {
    return [];
  }
  return text
    .split(separator)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .slice(0, MAX_ITEMS_PER_CELL);
}

/**
 * The entries of a JSON-array cell. Text and Buffers are parsed; a value the driver already
 * parsed (mysql2 does for JSON columns) is used as is. Anything that is not an array is no items.
 */
export function jsonArrayCell(cell: unknown): unknown[] {
  let value = cell;
  if (typeof cell === 'string' || Buffer.isBuffer(cell)) {
    try {
      value = JSON.parse(typeof cell === 'string' ? cell : cell.toString('utf8'));
    } catch {
      return [];
    }
  }
  return Array.isArray(value) ? value.slice(0, MAX_ITEMS_PER_CELL) : [];
}

/** Compiles a `delimited` or `json` element at `path` of `rootType`, or reports why it cannot be. */
export function compileItemArray(
  defs: FhirDefinitions,
  rootType: string,
  path: string,
  source: DelimitedSource | JsonSource,
  report: ProblemReporter,
): CompiledItemArray | undefined {
  const kind = 'delimited' in source ? 'delimited' : 'json';
  const column = 'delimited' in source ? source.delimited.column : source.json.column;
  const fail = (message: string): undefined => {
    report({ path, column, message });
    return undefined;
  };
  const resolved = resolvePath(defs, rootType, path, 'rows');
  if ('problem' in resolved) {
    const last = path.split('.').pop() ?? '';
    const element = defs.element(resolvePrefixType(defs, rootType, path) ?? '', last);
    if (element?.array && defs.isPrimitive(element.type)) {
      return fail(
        `${kind} builds items of a complex array; for a list of ${element.type} values use the split transform`,
      );
    }
    return fail(resolved.problem.replace(/^rows /, `${kind} `));
  }
  const entries = Object.entries(source.elements);
  if (entries.length === 0) {
    return fail(`${kind} needs at least one element`);
  }
  let problems = 0;
  const counted: ProblemReporter = (p) => {
    problems++;
    report(p);
  };
  const fields: CompiledFields = compileFields(
    defs,
    resolved.leafType,
    entries,
    `${path}.`,
    counted,
  );
  const accessors = fields.columns.filter((c) => c.startsWith('$'));
  if (kind === 'delimited') {
    for (const accessor of accessors.filter((a) => a !== VALUE_ACCESSOR)) {
      counted({
        path,
        column: accessor,
        message: 'the parts of a delimited cell are text: use $value, JSON paths need json',
      });
    }
  }
  if (problems > 0) {
    return undefined;
  }
  const rowColumns = fields.columns.filter((c) => !c.startsWith('$'));
  const reads = accessors.map((accessor) => [accessor, accessorSteps(accessor)] as const);
  const separator = 'delimited' in source ? (source.delimited.separator ?? ',') : '';
  const explode =
    kind === 'delimited'
      ? (cell: unknown) => splitCell(cell, separator)
      : (cell: unknown) => jsonArrayCell(cell);
  const build = createItemBuilder(fields);
  return {
    part: { path: resolved, kind: 'items' },
    column,
    element: topElement(path),
    rowColumns,
    uses: [
      { column, path, transforms: [] },
      ...fields.uses.filter((u) => !u.column.startsWith('$')),
    ],
    // One item per part or entry of the row's cell.
    write(row, frame, slot) {
      const cell = row[column];
      const entries = cell === null || cell === undefined ? [] : explode(cell);
      const items: Record<string, unknown>[] = [];
      for (const entry of entries) {
        const itemRow: Row = { ...row };
        for (const [accessor, steps] of reads) {
          itemRow[accessor] = readPath(entry, steps);
        }
        const item = build(itemRow);
        if (item !== undefined) {
          items.push(item);
        }
      }
      frame.set(slot, DATA, items);
    },
  };
}

/** The type that holds the last step of `path`, for a friendlier problem; `undefined` if none. */
function resolvePrefixType(
  defs: FhirDefinitions,
  rootType: string,
  path: string,
): string | undefined {
  const steps = path.split('.');
  if (steps.length === 1) {
    return rootType;
  }
  const parent = resolvePath(defs, rootType, steps.slice(0, -1).join('.'), 'leaf');
  return 'problem' in parent ? undefined : parent.leafType;
}

/**
 * Leaf fields plus the item arrays of the same row, as one set of fields. With the resource's
 * `choices`, arrays under a variant the row did not take are skipped, like its leaves.
 */
export function withItemArrays(
  fields: CompiledFields,
  arrays: readonly CompiledItemArray[],
  choices?: CompiledChoices,
): CompiledFields {
  if (arrays.length === 0) {
    return fields;
  }
  const writeArrays = choiceAwareWrite(arrays, (array) => array.element, choices);
  const leafCount = fields.parts.length;
  const combined: CompiledFields = {
    columns: [
      ...new Set([...fields.columns, ...arrays.flatMap((a) => [a.column, ...a.rowColumns])]),
    ],
    uses: [...fields.uses, ...arrays.flatMap((a) => a.uses)],
    references: fields.references,
    constants: fields.constants,
    leaves: fields.leaves,
    parts: [...fields.parts, ...arrays.map((a) => a.part)],
    write(frame, row, base, elements) {
      fields.write(frame, row, base, elements);
      writeArrays(frame, row, base + leafCount, elements);
    },
  };
  return fields.excludedFor === undefined
    ? combined
    : { ...combined, excludedFor: fields.excludedFor };
}
