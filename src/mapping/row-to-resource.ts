import type { Row } from '../db/dialect.js';
import type { PrimitiveTypeDef } from '../fhir/definition-types.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { FhirJson } from '../graphql/builder.js';
import { type ResolvedPath, resolvePath } from './fhir-path.js';
import type { ChildElementSource } from './mapping-schema.js';
import { parseTemplate } from './template.js';
import { toBooleanDefault } from './transforms/boolean.js';
import {
  createTransformChain,
  TRANSFORM_OUTPUT,
  type TransformObject,
  toTransformObject,
} from './transforms/catalogue.js';
import { toText } from './transforms/cell-values.js';
import {
  DEFAULT_DATE_MATCHERS,
  DEFAULT_DATE_TIME_MATCHERS,
  toFhirDate,
  toFhirDateTime,
} from './transforms/date.js';
import { toNumber } from './transforms/number.js';
import type { TransformFn, TransformOutput } from './transforms/transform-types.js';

/**
 * Row -> FHIR JSON. Each element path is compiled once into a setter; building a resource is
 * then a loop of setters over a fresh object, followed by one clean-up pass that drops what FHIR
 * forbids (empty strings, objects and arrays) and closes holes in arrays.
 */

/** A node of a resource while it is being built. */
export type JsonNode = Record<string | symbol, unknown>;

/**
 * Marks an object fed by at least one column or template. Such an object is dropped when none of
 * those produced a value, so `identifier[0].system` (a constant) does not outlive an empty
 * `identifier[0].value`. Objects fed only by constants are kept.
 */
const DATA_EXPECTED: unique symbol = Symbol('dataExpected');

/** A constant in the tree, so the clean-up can tell it from data. */
class ConstantValue {
  readonly value: string | number | boolean;
  constructor(value: string | number | boolean) {
    this.value = value;
  }
}

/** Where a compiled field reports a problem; `path` is the FHIR path, `column` when one applies. */
export type ProblemReporter = (problem: { path: string; column?: string; message: string }) => void;

/** The compiled elements of one row type (the resource, or one child-row item). */
export interface CompiledFields {
  /** Columns the fields read, deduplicated, in first-use order. */
  readonly columns: readonly string[];
  /** Writes every field of `row` into `target`. */
  apply(target: JsonNode, row: Row): void;
}

/** A normalised element source: shorthands expanded, transform names turned into objects. */
type LeafSource =
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
    };

function normalizeSource(source: ChildElementSource): LeafSource {
  if (typeof source === 'string') {
    return { kind: 'column', column: source, transforms: [] };
  }
  if ('constant' in source) {
    return { kind: 'constant', value: source.constant };
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
function outputFits(output: TransformOutput, primitive: PrimitiveTypeDef): boolean {
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
      return false;
  }
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
    return (value) => {
      const n = toNumber(value);
      if (n === undefined || (primitive.integer === true && !Number.isInteger(n))) {
        return undefined;
      }
      return check(n);
    };
  }
  const producedDate = chainOutput === 'date' || chainOutput === 'dateTime';
  if (primitive.name === 'date' && !producedDate) {
    return (value) => check(toFhirDate(value, DEFAULT_DATE_MATCHERS));
  }
  if ((primitive.name === 'dateTime' || primitive.name === 'instant') && !producedDate) {
    return (value) => check(toFhirDateTime(value, DEFAULT_DATE_TIME_MATCHERS, 'Z'));
  }
  return (value) => {
    const text = toText(value)?.trim();
    return check(text === '' ? undefined : text);
  };
}

function arrayAt(node: JsonNode, name: string): unknown[] {
  const existing = node[name];
  if (Array.isArray(existing)) {
    return existing;
  }
  const created: unknown[] = [];
  node[name] = created;
  return created;
}

function objectIn(node: JsonNode, name: string, index: number | undefined): JsonNode {
  if (index === undefined) {
    const existing = node[name];
    if (existing !== null && typeof existing === 'object' && !Array.isArray(existing)) {
      return existing as JsonNode;
    }
    const created: JsonNode = {};
    node[name] = created;
    return created;
  }
  const array = arrayAt(node, name);
  const existing = array[index];
  if (existing !== null && typeof existing === 'object') {
    return existing as JsonNode;
  }
  const created: JsonNode = {};
  array[index] = created;
  return created;
}

/** Walks to the object that holds the last step, creating objects and arrays on the way. */
function containerOf(root: JsonNode, path: ResolvedPath, markData: boolean): JsonNode {
  let node = root;
  for (const step of path.steps.slice(0, -1)) {
    node = objectIn(node, step.name, step.index);
    if (markData) {
      node[DATA_EXPECTED] = true;
    }
  }
  return node;
}

/** Writes a leaf value (or, for a data source with no value, only marks the way to it). */
function createLeafSetter(
  path: ResolvedPath,
  isData: boolean,
): (root: JsonNode, value: unknown) => void {
  const last = path.steps[path.steps.length - 1];
  if (last === undefined) {
    throw new Error('createLeafSetter: empty path');
  }
  if (!path.leafIsPrimitive) {
    // A HumanName from splitName: merge its parts into the object at the path.
    return (root, value) => {
      const container = containerOf(root, path, isData);
      const target = objectIn(container, last.name, last.index);
      target[DATA_EXPECTED] = true;
      if (value !== null && typeof value === 'object') {
        Object.assign(target, value);
      }
    };
  }
  return (root, value) => {
    const container = containerOf(root, path, isData);
    if (value === undefined) {
      return;
    }
    if (last.index === undefined) {
      container[last.name] = value;
    } else {
      arrayAt(container, last.name)[last.index] = value;
    }
  };
}

/** Appends child-row items to the array at a `rows` path, after any fixed items. */
export function createItemsAppender(
  path: ResolvedPath,
): (root: JsonNode, items: JsonNode[]) => void {
  const last = path.steps[path.steps.length - 1];
  if (last === undefined) {
    throw new Error('createItemsAppender: empty path');
  }
  return (root, items) => {
    const container = containerOf(root, path, true);
    if (items.length > 0) {
      arrayAt(container, last.name).push(...items);
    }
  };
}

/** A fresh item for one child row; it is dropped at clean-up when no column gave it a value. */
export function createItem(): JsonNode {
  return { [DATA_EXPECTED]: true };
}

/** The HumanName-ish types a splitName may feed. */
const NAME_TYPE = 'HumanName';

interface CompiledLeaf {
  readonly columns: readonly string[];
  readonly normalized: string;
  readonly choice?: { readonly parent: string; readonly base: string; readonly name: string };
  readonly splitsName: boolean;
  apply(target: JsonNode, row: Row): void;
}

function compileLeaf(
  defs: FhirDefinitions,
  rootType: string,
  relativePath: string,
  displayPath: string,
  raw: ChildElementSource,
  report: ProblemReporter,
): CompiledLeaf | undefined {
  const source = normalizeSource(raw);
  const column = source.kind === 'column' ? source.column : undefined;
  const fail = (message: string): undefined => {
    report({ path: displayPath, ...(column === undefined ? {} : { column }), message });
    return undefined;
  };
  const resolved = resolvePath(defs, rootType, relativePath, 'leaf');
  if ('problem' in resolved) {
    return fail(resolved.problem);
  }
  const lastStep = resolved.steps[resolved.steps.length - 1];
  const choiceOf = lastStep?.element.choiceOf;
  const parentPath = resolved.normalized.split('.').slice(0, -1).join('.');
  const choice =
    choiceOf === undefined || lastStep === undefined
      ? undefined
      : { parent: parentPath, base: choiceOf, name: lastStep.name };

  const transforms = source.kind === 'constant' ? [] : source.transforms;
  const splitIndex = transforms.findIndex((t) => t.fn === 'splitName');
  if (splitIndex >= 0 && splitIndex !== transforms.length - 1) {
    return fail('splitName must be the last transform');
  }
  const lastTransform = transforms[transforms.length - 1];
  const chainOutput = lastTransform === undefined ? undefined : TRANSFORM_OUTPUT[lastTransform.fn];

  let coerce: TransformFn;
  if (resolved.leafIsPrimitive) {
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
  } else if (resolved.leafType === NAME_TYPE) {
    return fail(
      'a HumanName element is filled by splitName, or map its parts (family, given[0], text) instead',
    );
  } else {
    return fail(
      `${resolved.leafType} is a complex type: map its primitive parts, e.g. ${relativePath}.<element>`,
    );
  }

  const base = {
    normalized: resolved.normalized,
    splitsName: chainOutput === 'HumanName',
    ...(choice === undefined ? {} : { choice }),
  };

  if (source.kind === 'constant') {
    const value = coerce(source.value);
    if (value === undefined || typeof value === 'object') {
      return fail(`the constant does not fit a ${resolved.leafType} element`);
    }
    const constant = new ConstantValue(value as string | number | boolean);
    const set = createLeafSetter(resolved, false);
    return { ...base, columns: [], apply: (target) => set(target, constant) };
  }

  const chain = createTransformChain(transforms);
  const set = createLeafSetter(resolved, true);
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
      apply: (target, row) => set(target, finish(template.render(row))),
    };
  }
  const name = source.column;
  return { ...base, columns: [name], apply: (target, row) => set(target, finish(row[name])) };
}

/**
 * Compiles the elements of one row type. `rootType` is the resource type or a child item's type;
 * `pathPrefix` is prepended to paths in problems (`telecom.` for a child item).
 */
export function compileFields(
  defs: FhirDefinitions,
  rootType: string,
  entries: readonly (readonly [string, ChildElementSource])[],
  pathPrefix: string,
  report: ProblemReporter,
): CompiledFields {
  const leaves: CompiledLeaf[] = [];
  for (const [path, source] of entries) {
    const leaf = compileLeaf(defs, rootType, path, `${pathPrefix}${path}`, source, report);
    if (leaf !== undefined) {
      leaves.push(leaf);
    }
  }
  checkConflicts(leaves, pathPrefix, report);
  const columns = [...new Set(leaves.flatMap((l) => l.columns))];
  return {
    columns,
    apply(target, row) {
      for (const leaf of leaves) {
        leaf.apply(target, row);
      }
    },
  };
}

/** Two mappings of one element, two variants of one choice, or parts of a split name. */
function checkConflicts(
  leaves: readonly CompiledLeaf[],
  pathPrefix: string,
  report: ProblemReporter,
): void {
  const seen = new Set<string>();
  const choices = new Map<string, string>();
  for (const leaf of leaves) {
    const path = `${pathPrefix}${leaf.normalized}`;
    if (seen.has(leaf.normalized)) {
      report({
        path,
        message: 'this element is mapped twice (given and given[0] are the same element)',
      });
    }
    seen.add(leaf.normalized);
    if (leaf.choice !== undefined) {
      const key = `${leaf.choice.parent}|${leaf.choice.base}`;
      const other = choices.get(key);
      if (other !== undefined && other !== leaf.choice.name) {
        report({
          path,
          message: `only one variant of ${leaf.choice.base}[x] can be mapped (also mapped: ${other})`,
        });
      }
      choices.set(key, leaf.choice.name);
    }
  }
  for (const leaf of leaves) {
    if (!leaf.splitsName) {
      continue;
    }
    for (const part of ['family', 'given', 'text']) {
      const prefix = `${leaf.normalized}.${part}`;
      if (leaves.some((l) => l.normalized === prefix || l.normalized.startsWith(`${prefix}[`))) {
        report({
          path: `${pathPrefix}${prefix}`,
          message: `${leaf.normalized} is filled by splitName, which also writes ${part}`,
        });
      }
    }
  }
}

function finalize(node: unknown, isRoot: boolean): { value: unknown; hasData: boolean } {
  if (node instanceof ConstantValue) {
    return { value: node.value, hasData: false };
  }
  if (node === undefined || node === null) {
    return { value: undefined, hasData: false };
  }
  if (Array.isArray(node)) {
    const items: unknown[] = [];
    let hasData = false;
    // forEach skips holes, which is how a fixed name[1] with an empty name[0] becomes name[0].
    node.forEach((item: unknown) => {
      const done = finalize(item, false);
      if (done.value !== undefined) {
        items.push(done.value);
        hasData ||= done.hasData;
      }
    });
    return { value: items.length === 0 ? undefined : items, hasData };
  }
  if (typeof node === 'object') {
    const source = node as JsonNode;
    const out: Record<string, unknown> = {};
    let hasData = false;
    let empty = true;
    for (const [key, child] of Object.entries(source)) {
      const done = finalize(child, false);
      if (done.value !== undefined) {
        out[key] = done.value;
        hasData ||= done.hasData;
        empty = false;
      }
    }
    if (empty || (!isRoot && source[DATA_EXPECTED] === true && !hasData)) {
      return { value: undefined, hasData: false };
    }
    return { value: out, hasData };
  }
  return { value: node, hasData: true };
}

/** The finished resource: `resourceType` and `id` first, then the elements, cleaned up. */
export function finishResource(resourceType: string, id: string, root: JsonNode): FhirJson {
  const done = finalize(root, true).value;
  return { resourceType, id, ...(done as Record<string, unknown> | undefined) };
}
