import type { FhirJson } from '../fhir/fhir-json.js';
import type { ResolvedPath } from './fhir-path.js';

/**
 * The tree a resource is built in: setters write values at resolved element paths (creating
 * objects and arrays on the way), child-row items are appended, and one clean-up pass drops what
 * FHIR forbids (empty strings, objects and arrays), closes holes in arrays and drops objects that
 * expected data and got none.
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
export class ConstantValue {
  readonly value: string | number | boolean;
  constructor(value: string | number | boolean) {
    this.value = value;
  }
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
export function containerOf(root: JsonNode, path: ResolvedPath, markData: boolean): JsonNode {
  let node = root;
  const steps = path.steps;
  for (let i = 0; i < steps.length - 1; i++) {
    const step = steps[i] as ResolvedPath['steps'][number];
    node = objectIn(node, step.name, step.index);
    if (markData) {
      node[DATA_EXPECTED] = true;
    }
  }
  return node;
}

/** Writes a leaf value (or, for a data source with no value, only marks the way to it). */
export function createLeafSetter(
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

/** Writes a whole primitive array (from `split`) at a path whose last step is the array. */
export function createArraySetter(path: ResolvedPath): (root: JsonNode, value: unknown) => void {
  const last = path.steps[path.steps.length - 1];
  if (last === undefined) {
    throw new Error('createArraySetter: empty path');
  }
  return (root, value) => {
    const container = containerOf(root, path, true);
    if (Array.isArray(value) && value.length > 0) {
      container[last.name] = value;
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

/**
 * Whether the node {@link finalizeNode} returned last holds data (a column or template value), not
 * only constants. A module-level flag instead of a `{ value, hasData }` pair per node: the clean-up
 * runs on every node of every resource, and those pairs were a tenth of S2's request time.
 */
let lastHadData = false;

/** The cleaned value of `node` (undefined when nothing is left); sets {@link lastHadData}. */
function finalizeNode(node: unknown): unknown {
  if (node === undefined || node === null) {
    lastHadData = false;
    return undefined;
  }
  if (typeof node !== 'object') {
    lastHadData = true;
    return node;
  }
  if (node instanceof ConstantValue) {
    lastHadData = false;
    return node.value;
  }
  if (Array.isArray(node)) {
    let items: unknown[] | undefined;
    let hasData = false;
    // Holes are skipped, which is how a fixed name[1] with an empty name[0] becomes name[0].
    for (let i = 0; i < node.length; i++) {
      if (!(i in node)) {
        continue;
      }
      const value = finalizeNode(node[i]);
      if (value !== undefined) {
        if (items === undefined) {
          items = [value];
        } else {
          items.push(value);
        }
        hasData ||= lastHadData;
      }
    }
    lastHadData = hasData;
    return items;
  }
  const source = node as JsonNode;
  const out: Record<string, unknown> = {};
  if (!finalizeInto(source, out) || (source[DATA_EXPECTED] === true && !lastHadData)) {
    lastHadData = false;
    return undefined;
  }
  return out;
}

/**
 * Copies the cleaned children of `source` into `out`; true when at least one was kept. Leaves
 * {@link lastHadData} true when a kept child holds data. Symbol keys (the marker) are not copied.
 */
function finalizeInto(source: JsonNode, out: Record<string, unknown>): boolean {
  let hasData = false;
  let kept = false;
  for (const key in source) {
    const value = finalizeNode(source[key]);
    if (value !== undefined) {
      out[key] = value;
      hasData ||= lastHadData;
      kept = true;
    }
  }
  lastHadData = hasData;
  return kept;
}

/** The finished resource: `resourceType` and `id` first, then the elements, cleaned up. */
export function finishResource(resourceType: string, id: string, root: JsonNode): FhirJson {
  // Built in place of a copy: the root is never dropped, whatever it holds.
  const out: FhirJson = { resourceType, id };
  finalizeInto(root, out);
  return out;
}
