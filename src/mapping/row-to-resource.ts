import type { Row } from '../db/dialect.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { CompiledChoices } from './choices.js';
import type { FieldColumnUse } from './column-use.js';
import { compileConditions, conditionColumns, type RowPredicate } from './conditions.js';
import { type ResolvedPath, resolvePath } from './fhir-path.js';
import { createLeafCoercion, outputFits } from './leaf-coercion.js';
import type {
  ChildElementSource,
  LeafSource as LeafSourceSpec,
  WhenSource,
} from './mapping-schema.js';
import { FHIR_ID_PATTERN, rowKey } from './resource-id.js';
import {
  CONSTANT,
  createLayout,
  DATA,
  type Frame,
  type LayoutPart,
  MARKER,
} from './resource-layout.js';
import { parseTemplate } from './template.js';
import {
  createTransformChain,
  TRANSFORM_OUTPUT,
  type TransformObject,
  toTransformObject,
} from './transforms/catalogue.js';
import type { TransformFn, TransformOutput } from './transforms/transform-types.js';

/**
 * Row -> FHIR JSON, the field compiler: each element path of a row type is compiled once into a
 * writer (a source, its transforms, the coercion into its primitive type, `when` rules and the
 * choice variant it belongs to) and a part of the row type's layout. Building a resource is then
 * a loop of writers filling a frame's slots, and one pass of the layout that writes the clean
 * resource from them (`resource-layout.ts`).
 */

/** Where a compiled field reports a problem; `path` is the FHIR path, `column` when one applies. */
export type ProblemReporter = (problem: { path: string; column?: string; message: string }) => void;

/** The compiled elements of one row type (the resource, or one child-row item). */
export interface CompiledFields {
  /** Columns the fields read, deduplicated, in first-use order. */
  readonly columns: readonly string[];
  /** Every column read, with the element it feeds, in mapping order. */
  readonly uses: readonly FieldColumnUse[];
  /** Columns written as references -> the resource type they refer to (first mapping wins). */
  readonly references: ReadonlyMap<string, string>;
  /** Constants by normalized path (`code.coding[0].code`), for fan-out code search. */
  readonly constants: readonly (readonly [string, string | number | boolean])[];
  /** The compiled leaves, to check another set of fields against these (fan-out items). */
  readonly leaves: readonly CompiledLeaf[];
  /** Where each field writes, in slot order: `parts[i]` writes slot `base + i` of {@link write}. */
  readonly parts: readonly LayoutPart[];
  /**
   * Writes the fields of `row` into `frame`, from slot `base` on: those under a top-level element
   * in `elements` (see {@link topElement}), or every field when `elements` is absent. Pass the
   * same set object for every row of a request: the filtered field list is kept per set. With
   * declared choices, fields under the variants the row did not take are skipped.
   */
  write(frame: Frame, row: Row, base: number, elements?: ReadonlySet<string>): void;
  /**
   * Present when the resource declares `choices`: the top-level elements of the choice variants
   * `row` did not take (`valueCodeableConcept`, `valueString`), whose child rows must not be
   * appended either; `undefined` when the row excludes nothing. {@link write} already skips them.
   */
  excludedFor?(row: Row): ReadonlySet<string> | undefined;
}

/**
 * The top-level element a mapping path writes: `name` for `name[0].family`, `valueQuantity` for
 * `valueQuantity.value`. The GraphQL field of a resource type has the same name.
 */
export function topElement(path: string): string {
  const end = path.search(/[.[]/);
  return end === -1 ? path : path.slice(0, end);
}

/** A compiled source that writes one slot of a frame. */
export interface SlotWriter {
  write(row: Row, frame: Frame, slot: number): void;
}

/** Writes a list of parts, part `i` into slot `base + i`. */
export type FieldsWriter = (
  frame: Frame,
  row: Row,
  base: number,
  elements?: ReadonlySet<string>,
) => void;

/**
 * The writer of a list of parts, each under one top-level element: all of them (or those listed
 * in `indices`), or only those under the elements of a selection (filtered once per selection
 * set, then reused). Part `i` always writes slot `base + i`.
 */
export function selectiveWrite<T extends SlotWriter>(
  parts: readonly T[],
  elementOf: (part: T) => string,
  indices: readonly number[] = parts.map((_, i) => i),
): FieldsWriter {
  const tops = parts.map(elementOf);
  const bySelection = new WeakMap<ReadonlySet<string>, readonly number[]>();
  return (frame, row, base, elements) => {
    let chosen = indices;
    if (elements !== undefined) {
      let cached = bySelection.get(elements);
      if (cached === undefined) {
        cached = indices.filter((i) => elements.has(tops[i] as string));
        bySelection.set(elements, cached);
      }
      chosen = cached;
    }
    for (let k = 0; k < chosen.length; k++) {
      const i = chosen[k] as number;
      (parts[i] as T).write(row, frame, base + i);
    }
  };
}

/**
 * {@link selectiveWrite} that also skips the parts under the choice variants a row did not take.
 * Parts are filtered once per outcome of `excludedFor` (interned sets), then per selection, so a
 * row costs one decision and two map lookups. Without `excludedFor`, or when no part is under a
 * variant, it is {@link selectiveWrite} itself.
 */
export function choiceAwareWrite<T extends SlotWriter>(
  parts: readonly T[],
  elementOf: (part: T) => string,
  choices: Pick<CompiledChoices, 'elements' | 'excludedFor'> | undefined,
): FieldsWriter {
  const all = selectiveWrite(parts, elementOf);
  if (choices === undefined || !parts.some((part) => choices.elements.has(elementOf(part)))) {
    return all;
  }
  const byOutcome = new Map<ReadonlySet<string>, FieldsWriter>();
  const { excludedFor } = choices;
  return (frame, row, base, elements) => {
    const excluded = excludedFor(row);
    if (excluded === undefined) {
      all(frame, row, base, elements);
      return;
    }
    let write = byOutcome.get(excluded);
    if (write === undefined) {
      write = selectiveWrite(
        parts,
        elementOf,
        parts.flatMap((part, i) => (excluded.has(elementOf(part)) ? [] : [i])),
      );
      byOutcome.set(excluded, write);
    }
    write(frame, row, base, elements);
  };
}

/**
 * Builds one item of a repeating element (a child row, an entry of a delimited or JSON cell) from
 * `fields`: `undefined` when no data was written into it.
 */
export function createItemBuilder(
  fields: Pick<CompiledFields, 'parts' | 'write'>,
): (row: Row) => Record<string, unknown> | undefined {
  const layout = createLayout(fields.parts);
  return (row) => {
    const frame = layout.frame();
    fields.write(frame, row, 0);
    return layout.item(frame);
  };
}

/** A normalised element source: shorthands expanded, transform names turned into objects. */
type NormalizedSource =
  | {
      readonly kind: 'column';
      readonly column: string;
      readonly transforms: readonly TransformObject[];
    }
  | { readonly kind: 'constant'; readonly value: string | number | boolean }
  | {
      readonly kind: 'template';
      readonly template: string;
      readonly transforms: readonly TransformObject[];
    }
  | {
      readonly kind: 'reference';
      readonly type: string;
      readonly column: string;
      readonly display: string | undefined;
    };

function normalizeSource(source: LeafSourceSpec): NormalizedSource {
  if (typeof source === 'string') {
    return { kind: 'column', column: source, transforms: [] };
  }
  if ('constant' in source) {
    return { kind: 'constant', value: source.constant };
  }
  if ('reference' in source) {
    return {
      kind: 'reference',
      type: source.reference.type,
      column: source.reference.column,
      display: source.reference.display,
    };
  }
  if ('template' in source) {
    return {
      kind: 'template',
      template: source.template,
      transforms: (source.transform ?? []).map(toTransformObject),
    };
  }
  return {
    kind: 'column',
    column: source.column,
    transforms: (source.transform ?? []).map(toTransformObject),
  };
}

/** The HumanName-ish types a splitName may feed. */
const NAME_TYPE = 'HumanName';
/** The type `codes` feeds. */
const CONCEPT_TYPE = 'CodeableConcept';
/** Transform outputs that are whole element values, so nothing may follow them in a chain. */
const WHOLE_VALUE_OUTPUTS: ReadonlySet<TransformOutput> = new Set([
  'HumanName',
  'CodeableConcept',
  'list',
]);

/** One compiled element of a row type; internal to the mapping compiler. */
export interface CompiledLeaf extends SlotWriter {
  /** Where and how it writes. */
  readonly part: LayoutPart;
  readonly columns: readonly string[];
  readonly uses: readonly FieldColumnUse[];
  readonly normalized: string;
  /** Every choice element on the path (`valueQuantity` in `valueQuantity.value`). */
  readonly choices: readonly {
    readonly parent: string;
    readonly base: string;
    readonly name: string;
  }[];
  /**
   * The parts of the object at the path that this leaf writes as a whole (`family`, `given`,
   * `text` for splitName; `reference`, `display` for a reference), which no other leaf may map.
   */
  readonly fills: readonly string[];
  /** What fills the parts, for the conflict message. */
  readonly filledBy?: string;
  /** The element type written for a Reference source; `undefined` otherwise. */
  readonly referenceTo?: string;
  /** The value of a constant source. */
  readonly constant?: string | number | boolean;
  /** The leaves of a `when` source, one per branch (`else` last). */
  readonly branches?: readonly CompiledLeaf[];
}

/** The logical id in a foreign-key cell: its text, trimmed, when it is a valid FHIR id. */
export function toReferenceId(value: unknown): string | undefined {
  const text = (typeof value === 'string' ? value : rowKey(value))?.trim();
  return text !== undefined && FHIR_ID_PATTERN.test(text) ? text : undefined;
}

function compileReferenceLeaf(
  resolved: ResolvedPath,
  source: Extract<NormalizedSource, { kind: 'reference' }>,
  displayPath: string,
  base: Pick<CompiledLeaf, 'normalized' | 'choices'>,
  fail: (message: string) => undefined,
  displayCoercion: TransformFn,
): CompiledLeaf | undefined {
  if (resolved.leafType !== 'Reference') {
    return fail(
      `a reference source feeds a Reference element; ${displayPath} is a ${resolved.leafType}`,
    );
  }
  const targets = resolved.steps[resolved.steps.length - 1]?.element.targets ?? [];
  if (targets.length > 0 && !targets.includes(source.type)) {
    return fail(
      `${displayPath} cannot refer to ${source.type}; allowed targets: ${targets.join(', ')}`,
    );
  }
  const part: LayoutPart = { path: resolved, kind: 'merge' };
  const prefix = `${source.type}/`;
  const { column, display } = source;
  const uses: FieldColumnUse[] = [
    { column, path: `${displayPath}.reference`, fhirType: 'id', transforms: [] },
  ];
  if (display !== undefined) {
    uses.push({
      column: display,
      path: `${displayPath}.display`,
      fhirType: 'string',
      transforms: [],
    });
  }
  return {
    ...base,
    part,
    columns: display === undefined ? [column] : [column, display],
    uses,
    fills: ['reference', 'display'],
    filledBy: 'a reference',
    referenceTo: source.type,
    write(row, frame, slot) {
      const id = toReferenceId(row[column]);
      if (id === undefined) {
        // No id, no reference: a display alone would point nowhere.
        frame.set(slot, DATA, undefined);
        return;
      }
      const text = display === undefined ? undefined : row[display];
      const shown = text === null || text === undefined ? undefined : displayCoercion(text);
      frame.set(
        slot,
        DATA,
        shown === undefined
          ? { reference: `${prefix}${id}` }
          : { reference: `${prefix}${id}`, display: shown },
      );
    },
  };
}

function compileLeaf(
  defs: FhirDefinitions,
  rootType: string,
  relativePath: string,
  displayPath: string,
  raw: ChildElementSource,
  report: ProblemReporter,
): CompiledLeaf | undefined {
  if (typeof raw === 'object' && 'when' in raw) {
    return compileWhenLeaf(defs, rootType, relativePath, displayPath, raw, report);
  }
  return compileSourceLeaf(
    defs,
    rootType,
    relativePath,
    displayPath,
    displayPath,
    normalizeSource(raw),
    report,
  );
}

/**
 * A `when` source: each branch (`when[i].use`, `else`) is compiled as a leaf of the same element
 * and type-checked on its own; at run time the first rule whose conditions hold writes its
 * branch, else `else`, else nothing.
 */
function compileWhenLeaf(
  defs: FhirDefinitions,
  rootType: string,
  relativePath: string,
  displayPath: string,
  raw: WhenSource,
  report: ProblemReporter,
): CompiledLeaf | undefined {
  const resolved = resolvePath(defs, rootType, relativePath, 'leaf');
  if ('problem' in resolved) {
    report({ path: displayPath, message: resolved.problem });
    return undefined;
  }
  const branch = (source: LeafSourceSpec, at: string) =>
    compileSourceLeaf(
      defs,
      rootType,
      relativePath,
      `${displayPath}.${at}`,
      displayPath,
      normalizeSource(source),
      report,
    );
  const rules = raw.when.map((rule, i) => ({
    test: compileConditions(rule.if),
    leaf: branch(rule.use, `when[${i}].use`),
  }));
  const otherwise = raw.else === undefined ? undefined : branch(raw.else, 'else');
  const leaves = rules.map((r) => r.leaf);
  if (leaves.some((l) => l === undefined) || (raw.else !== undefined && otherwise === undefined)) {
    return undefined;
  }
  const branches = [...(leaves as CompiledLeaf[]), ...(otherwise === undefined ? [] : [otherwise])];
  const first = branches[0] as CompiledLeaf;
  if (branches.some((b) => b.normalized !== first.normalized)) {
    report({
      path: displayPath,
      message:
        'every branch of when writes the element the same way: split fills the whole array, so use it in all branches or in none',
    });
    return undefined;
  }
  const tested = conditionColumns(raw.when.flatMap((rule) => rule.if));
  const filler = branches.find((b) => b.filledBy !== undefined);
  const tests: readonly RowPredicate[] = rules.map((r) => r.test);
  const chosen = leaves as readonly CompiledLeaf[];
  return {
    // Every branch writes the same element the same way (checked above).
    part: first.part,
    normalized: first.normalized,
    choices: first.choices,
    fills: [...new Set(branches.flatMap((b) => b.fills))],
    ...(filler?.filledBy === undefined ? {} : { filledBy: filler.filledBy }),
    columns: [...new Set([...branches.flatMap((b) => b.columns), ...tested])],
    uses: [
      ...branches.flatMap((b) => b.uses),
      ...tested.map((column) => ({ column, path: `if:${displayPath}`, transforms: [] })),
    ],
    branches,
    write(row, frame, slot) {
      for (let i = 0; i < tests.length; i++) {
        if ((tests[i] as RowPredicate)(row)) {
          (chosen[i] as CompiledLeaf).write(row, frame, slot);
          return;
        }
      }
      if (otherwise === undefined) {
        // Nothing to write, but the objects on the way expected data, as a column's would.
        frame.set(slot, MARKER, undefined);
      } else {
        otherwise.write(row, frame, slot);
      }
    },
  };
}

/**
 * One leaf source at `relativePath` of `rootType`. Problems are reported at `problemPath` (the
 * element path, or a `when` branch inside it); column uses and messages name `displayPath`, the
 * element path as the mapping writes it.
 */
function compileSourceLeaf(
  defs: FhirDefinitions,
  rootType: string,
  relativePath: string,
  problemPath: string,
  displayPath: string,
  source: NormalizedSource,
  report: ProblemReporter,
): CompiledLeaf | undefined {
  const column =
    source.kind === 'column' || source.kind === 'reference' ? source.column : undefined;
  const fail = (message: string): undefined => {
    report({ path: problemPath, ...(column === undefined ? {} : { column }), message });
    return undefined;
  };
  const resolved = resolvePath(defs, rootType, relativePath, 'leaf');
  if ('problem' in resolved) {
    return fail(resolved.problem);
  }
  const lastStep = resolved.steps[resolved.steps.length - 1];
  const normalizedSteps = resolved.normalized.split('.');
  const choices = resolved.steps.flatMap((step, i) =>
    step.element.choiceOf === undefined
      ? []
      : [
          {
            parent: normalizedSteps.slice(0, i).join('.'),
            base: step.element.choiceOf,
            name: step.name,
          },
        ],
  );

  if (source.kind === 'reference') {
    const stringType = defs.type('string');
    if (stringType === undefined || stringType.kind !== 'primitive') {
      throw new Error('compileLeaf: the definitions have no string primitive');
    }
    return compileReferenceLeaf(
      resolved,
      source,
      displayPath,
      { normalized: resolved.normalized, choices },
      fail,
      createLeafCoercion(stringType, undefined),
    );
  }
  const transforms = source.kind === 'constant' ? [] : source.transforms;
  const lastTransform = transforms[transforms.length - 1];
  const chainOutput = lastTransform === undefined ? undefined : TRANSFORM_OUTPUT[lastTransform.fn];
  const wholeValue = transforms.findIndex((t) => WHOLE_VALUE_OUTPUTS.has(TRANSFORM_OUTPUT[t.fn]));
  if (wholeValue >= 0 && wholeValue !== transforms.length - 1) {
    return fail(`${transforms[wholeValue]?.fn ?? ''} must be the last transform`);
  }

  let coerce: TransformFn;
  let kind: LayoutPart['kind'] = 'value';
  let fills: Pick<CompiledLeaf, 'fills' | 'filledBy'> = { fills: [] };
  let normalized = resolved.normalized;
  if (chainOutput === 'list') {
    const primitive = defs.type(resolved.leafType);
    const written = relativePath.split('.').pop() ?? '';
    if (
      primitive?.kind !== 'primitive' ||
      lastStep?.element.array !== true ||
      written.includes('[')
    ) {
      return fail(
        'split fills a whole array of a primitive type, written without an index (given, line)',
      );
    }
    const item = createLeafCoercion(primitive, undefined);
    coerce = (value) => {
      const items = Array.isArray(value) ? value.map(item).filter((v) => v !== undefined) : [];
      return items.length === 0 ? undefined : items;
    };
    kind = 'list';
    normalized = normalized.replace(/\[0\]$/, '');
    fills = { fills: [''], filledBy: 'split' };
  } else if (resolved.leafIsPrimitive) {
    const primitive = defs.type(resolved.leafType);
    if (primitive === undefined || primitive.kind !== 'primitive') {
      return fail(`elements of type ${resolved.leafType} cannot be mapped`);
    }
    if (chainOutput !== undefined && !outputFits(chainOutput, primitive)) {
      const fn = lastTransform?.fn ?? '';
      return fail(
        `transform ${fn} produces ${chainOutput}, which does not fit a ${primitive.name} element`,
      );
    }
    coerce = createLeafCoercion(primitive, chainOutput);
  } else if (resolved.leafType === NAME_TYPE && chainOutput === 'HumanName') {
    coerce = (value) => value;
    kind = 'merge';
    fills = { fills: ['family', 'given', 'text'], filledBy: 'splitName' };
  } else if (resolved.leafType === NAME_TYPE) {
    return fail(
      'a HumanName element is filled by splitName, or map its parts (family, given[0], text) instead',
    );
  } else if (resolved.leafType === CONCEPT_TYPE && chainOutput === 'CodeableConcept') {
    coerce = (value) => value;
    kind = 'merge';
    fills = { fills: ['coding'], filledBy: 'codes' };
  } else if (chainOutput === 'HumanName' || chainOutput === 'CodeableConcept') {
    return fail(
      `transform ${lastTransform?.fn ?? ''} produces a ${chainOutput}, which does not fit a ${resolved.leafType} element`,
    );
  } else {
    return fail(
      `${resolved.leafType} is a complex type: map its primitive parts, e.g. ${relativePath}.<element>`,
    );
  }

  const fhirType =
    chainOutput === 'HumanName' || chainOutput === 'CodeableConcept'
      ? chainOutput
      : resolved.leafType;
  const transformNames = transforms.map((t) => t.fn);
  const usesOf = (columns: readonly string[]): FieldColumnUse[] =>
    columns.map((c) => ({ column: c, path: displayPath, fhirType, transforms: transformNames }));
  const base = {
    part: { path: resolved, kind } satisfies LayoutPart,
    normalized,
    ...fills,
    choices,
  };

  if (source.kind === 'constant') {
    const value = coerce(source.value);
    if (value === undefined || typeof value === 'object') {
      return fail(`the constant does not fit a ${resolved.leafType} element`);
    }
    const constant = value as string | number | boolean;
    return {
      ...base,
      columns: [],
      uses: [],
      constant,
      write: (_row, frame, slot) => frame.set(slot, CONSTANT, constant),
    };
  }

  const chain = createTransformChain(transforms);
  const finish = (value: unknown) => {
    if (value === null || value === undefined) {
      return undefined;
    }
    const transformed = chain(value);
    return transformed === undefined ? undefined : coerce(transformed);
  };

  if (source.kind === 'template') {
    const template = parseTemplate(source.template);
    if ('problem' in template) {
      return fail(template.problem);
    }
    return {
      ...base,
      columns: template.columns,
      uses: usesOf(template.columns),
      write: (row, frame, slot) => frame.set(slot, DATA, finish(template.render(row))),
    };
  }
  const name = source.column;
  return {
    ...base,
    columns: [name],
    uses: usesOf([name]),
    write: (row, frame, slot) => frame.set(slot, DATA, finish(row[name])),
  };
}

/**
 * Compiles the elements of one row type. `rootType` is the resource type or a child item's type;
 * `pathPrefix` is prepended to paths in problems (`telecom.` for a child item). With `shared`,
 * the fields are written on top of those (a fan-out item over the shared elements), and the two
 * sets are checked against each other. With `choices` (the resource's, for its own elements and
 * its fan-out items), variants of a declared choice may be mapped side by side and each row
 * writes only the variant it takes; the fields without `shared` also read and list the variant
 * condition columns.
 */
export function compileFields(
  defs: FhirDefinitions,
  rootType: string,
  entries: readonly (readonly [string, ChildElementSource])[],
  pathPrefix: string,
  report: ProblemReporter,
  shared?: CompiledFields,
  choices?: CompiledChoices,
): CompiledFields {
  const leaves: CompiledLeaf[] = [];
  for (const [path, source] of entries) {
    const leaf = compileLeaf(defs, rootType, path, `${pathPrefix}${path}`, source, report);
    if (leaf !== undefined) {
      leaves.push(leaf);
    }
  }
  checkConflicts(leaves, pathPrefix, report, shared?.leaves, choices?.declared);
  // The variant conditions are read once per row: with the resource's own fields.
  const choiceReads = shared === undefined ? choices : undefined;
  const columns = [
    ...new Set([...leaves.flatMap((l) => l.columns), ...(choiceReads?.columns ?? [])]),
  ];
  const references = new Map<string, string>();
  for (const leaf of leaves.flatMap((l) => l.branches ?? [l])) {
    const column = leaf.columns[0];
    if (leaf.referenceTo !== undefined && column !== undefined && !references.has(column)) {
      references.set(column, leaf.referenceTo);
    }
  }
  const fields: CompiledFields = {
    columns,
    uses: [...leaves.flatMap((l) => l.uses), ...(choiceReads?.uses ?? [])],
    references,
    constants: leaves.flatMap((l) =>
      l.constant === undefined ? [] : [[l.normalized, l.constant] as const],
    ),
    leaves,
    parts: leaves.map((leaf) => leaf.part),
    write: choiceAwareWrite(leaves, (leaf) => topElement(leaf.normalized), choices),
  };
  return choices === undefined ? fields : { ...fields, excludedFor: choices.excludedFor };
}

/**
 * Two mappings of one element, two variants of one choice (unless `declared` lists the choice,
 * top-level choices only), or parts of a split name.
 */
function checkConflicts(
  leaves: readonly CompiledLeaf[],
  pathPrefix: string,
  report: ProblemReporter,
  shared: readonly CompiledLeaf[] = [],
  declared: ReadonlySet<string> = new Set(),
): void {
  const seen = new Set<string>(shared.map((l) => l.normalized));
  const choices = new Map<string, string>();
  for (const choice of shared.flatMap((l) => l.choices)) {
    choices.set(`${choice.parent}|${choice.base}`, choice.name);
  }
  for (const leaf of leaves) {
    const path = `${pathPrefix}${leaf.normalized}`;
    if (seen.has(leaf.normalized)) {
      report({
        path,
        message:
          shared.some((l) => l.normalized === leaf.normalized) &&
          !leaves.some((l) => l !== leaf && l.normalized === leaf.normalized)
            ? 'this element is also mapped in the shared elements'
            : 'this element is mapped twice (given and given[0] are the same element)',
      });
    }
    seen.add(leaf.normalized);
    for (const choice of leaf.choices) {
      if (choice.parent === '' && declared.has(choice.base)) {
        // A declared choice: each row takes one variant (compileChoices checks the list).
        continue;
      }
      const key = `${choice.parent}|${choice.base}`;
      const other = choices.get(key);
      if (other !== undefined && other !== choice.name) {
        report({
          path,
          message: `only one variant of ${choice.base}[x] can be mapped (also mapped: ${other})`,
        });
      }
      choices.set(key, choice.name);
    }
  }
  const all = [...shared, ...leaves];
  for (const leaf of all) {
    for (const part of leaf.fills) {
      // '' is the element itself: split writes every item of its array.
      const prefix = part === '' ? leaf.normalized : `${leaf.normalized}.${part}`;
      const clash = (l: CompiledLeaf) =>
        l !== leaf &&
        (l.normalized === prefix ||
          l.normalized.startsWith(`${prefix}[`) ||
          l.normalized.startsWith(`${prefix}.`));
      // With shared leaves, only clashes that involve this set's leaves are this set's problem.
      const candidates = leaves.includes(leaf) ? all : leaves;
      if (candidates.some(clash)) {
        report({
          path: `${pathPrefix}${prefix}`,
          message:
            part === ''
              ? `${leaf.normalized} is filled by ${leaf.filledBy ?? 'a transform'}, which writes every item`
              : `${leaf.normalized} is filled by ${leaf.filledBy ?? 'a transform'}, which also writes ${part}`,
        });
      }
    }
  }
}
