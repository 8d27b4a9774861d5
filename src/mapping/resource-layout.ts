import type { FhirJson } from '../fhir/fhir-json.js';
import type { ResolvedPath } from './fhir-path.js';

/**
 * How a resource is built from a row. Every element source of a row type (a leaf, an array of
 * items) writes what it produced into a slot of a frame; the layout, compiled once from the
 * sources' element paths, then writes the clean resource from the slots in one pass: no tree of
 * intermediate objects, no copy. It applies what FHIR requires as it goes: no empty strings,
 * objects or arrays, no holes in arrays (a fixed `name[1]` with an empty `name[0]` becomes
 * `name[0]`), and an object that expected data and got none is dropped even when constants were
 * written into it, so `identifier[0].system` does not outlive an empty `identifier[0].value`.
 * An object expects data when a column, template, reference, `when` or child rows under it were
 * applied; objects fed only by constants are kept. Properties come in the order the sources are
 * listed (the first source under an element places it).
 */

/** What a source wrote into its slot. */
export const UNTOUCHED = 0;
/** A constant: written, but not data. */
export const CONSTANT = 1;
/** Data from the row; the value may be `undefined` (the source gave nothing). */
export const DATA = 2;
/** A `when` none of whose rules held: the objects on the way expected data; nothing is written. */
export const MARKER = 3;

/** How a source writes at its path. */
export type PartKind =
  /** A primitive value at the path (at its index, for an array element). */
  | 'value'
  /** A whole array of primitives (`split`) at the path's element, whatever its index. */
  | 'list'
  /** An object whose properties are merged into the object at the path (`splitName`, `codes`, a reference). */
  | 'merge'
  /** Built items (`rows`, `delimited`, `json`) appended to the array at the path; the list is made for one build (the layout may take it as the array). */
  | 'items';

/** Where and how one source writes. */
export interface LayoutPart {
  readonly path: ResolvedPath;
  readonly kind: PartKind;
}

/** The slots of one build: what each source wrote (`states`) and its value. */
export class Frame {
  readonly values: unknown[];
  readonly states: Uint8Array;
  constructor(size: number) {
    this.values = new Array<unknown>(size).fill(undefined);
    this.states = new Uint8Array(size);
  }
  /** Records a source's value; `state` is {@link CONSTANT}, {@link DATA} or {@link MARKER}. */
  set(slot: number, state: number, value: unknown): void {
    this.states[slot] = state;
    this.values[slot] = value;
  }
}

const VALUE = 0;
const OBJECT = 1;
const ARRAY = 2;
const MERGE = 3;

/** One property of an object in the layout, or a merge into the object itself. */
interface Entry {
  readonly type: typeof VALUE | typeof OBJECT | typeof ARRAY | typeof MERGE;
  readonly key: string;
  /** The source's slot (VALUE, MERGE); -1 otherwise. */
  readonly slot: number;
  readonly object: ObjectNode | undefined;
  readonly array: ArrayNode | undefined;
}

interface ObjectNode {
  readonly entries: Entry[];
}

/** An item at a fixed index: a value's slot, or an object. */
interface Position {
  readonly index: number;
  readonly slot: number;
  readonly object: ObjectNode | undefined;
}

interface ArrayNode {
  /** Fixed items, by index once the layout is compiled. */
  readonly positions: Position[];
  /** Slots of item lists appended after the fixed items. */
  readonly appends: number[];
}

function entry(
  type: Entry['type'],
  key: string,
  slot: number,
  object?: ObjectNode,
  array?: ArrayNode,
): Entry {
  return { type, key, slot, object, array };
}

function arrayIn(node: ObjectNode, key: string): ArrayNode {
  const existing = node.entries.find((e) => e.type === ARRAY && e.key === key)?.array;
  if (existing !== undefined) {
    return existing;
  }
  const array: ArrayNode = { positions: [], appends: [] };
  node.entries.push(entry(ARRAY, key, -1, undefined, array));
  return array;
}

function objectIn(node: ObjectNode, key: string, index: number | undefined): ObjectNode {
  if (index === undefined) {
    const existing = node.entries.find((e) => e.type === OBJECT && e.key === key)?.object;
    if (existing !== undefined) {
      return existing;
    }
    const object: ObjectNode = { entries: [] };
    node.entries.push(entry(OBJECT, key, -1, object));
    return object;
  }
  const array = arrayIn(node, key);
  const existing = array.positions.find((p) => p.index === index)?.object;
  if (existing !== undefined) {
    return existing;
  }
  const object: ObjectNode = { entries: [] };
  array.positions.push({ index, slot: -1, object });
  return object;
}

function place(root: ObjectNode, part: LayoutPart, slot: number): void {
  const steps = part.path.steps;
  const last = steps[steps.length - 1];
  if (last === undefined) {
    throw new Error('resource layout: empty path');
  }
  let node = root;
  for (let i = 0; i < steps.length - 1; i++) {
    const step = steps[i] as (typeof steps)[number];
    node = objectIn(node, step.name, step.index);
  }
  switch (part.kind) {
    case 'value':
      if (last.index === undefined) {
        node.entries.push(entry(VALUE, last.name, slot));
      } else {
        arrayIn(node, last.name).positions.push({ index: last.index, slot, object: undefined });
      }
      return;
    case 'list':
      node.entries.push(entry(VALUE, last.name, slot));
      return;
    case 'merge':
      objectIn(node, last.name, last.index).entries.push(entry(MERGE, '', slot));
      return;
    case 'items':
      arrayIn(node, last.name).appends.push(slot);
      return;
  }
}

function sortPositions(node: ObjectNode): void {
  for (const e of node.entries) {
    if (e.object !== undefined) {
      sortPositions(e.object);
    }
    if (e.array !== undefined) {
      e.array.positions.sort((a, b) => a.index - b.index);
      for (const p of e.array.positions) {
        if (p.object !== undefined) {
          sortPositions(p.object);
        }
      }
    }
  }
}

// What the last `fillObject`, `objectValue` or `arrayValue` call found, as module-level flags
// rather than a result object per node: builds are synchronous and run on every node of every
// resource.
/** The value it returned holds data (a row's value), not only constants. */
let lastHadData = false;
/** A source under it expected data: the objects above it expect data too. */
let lastMarked = false;
/** (`fillObject` only) the object itself expects data. */
let lastSelfMarked = false;

/**
 * Writes the entries' values into `out`; true when at least one property was written. Sets
 * {@link lastHadData}, {@link lastMarked} and {@link lastSelfMarked}.
 */
function fillObject(entries: readonly Entry[], frame: Frame, out: Record<string, unknown>) {
  const { values, states } = frame;
  let kept = false;
  let data = false;
  let self = false;
  let above = false;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Entry;
    switch (e.type) {
      case VALUE: {
        const state = states[e.slot];
        if (state === UNTOUCHED) {
          break;
        }
        if (state !== CONSTANT) {
          self = true;
        }
        const value = values[e.slot];
        if (state !== MARKER && value !== undefined) {
          out[e.key] = value;
          kept = true;
          data ||= state === DATA;
        }
        break;
      }
      case OBJECT:
      case ARRAY: {
        const value =
          e.type === OBJECT
            ? objectValue(e.object as ObjectNode, frame)
            : arrayValue(e.array as ArrayNode, frame);
        self ||= lastMarked;
        if (value !== undefined) {
          out[e.key] = value;
          kept = true;
          data ||= lastHadData;
        }
        break;
      }
      case MERGE: {
        const state = states[e.slot];
        if (state === MARKER) {
          // A `when` with no branch marks the way to the object, not the object.
          above = true;
        } else if (state === DATA) {
          self = true;
          const value = values[e.slot];
          if (value !== null && typeof value === 'object') {
            const parts = value as Record<string, unknown>;
            for (const key in parts) {
              const cleaned = cleanValue(parts[key]);
              if (cleaned !== undefined) {
                out[key] = cleaned;
                kept = true;
                data = true;
              }
            }
          }
        }
        break;
      }
    }
  }
  lastHadData = data;
  lastSelfMarked = self;
  lastMarked = self || above;
  return kept;
}

function objectValue(node: ObjectNode, frame: Frame): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const kept = fillObject(node.entries, frame, out);
  if (!kept || (lastSelfMarked && !lastHadData)) {
    lastHadData = false;
    return undefined;
  }
  return out;
}

function arrayValue(node: ArrayNode, frame: Frame): unknown[] | undefined {
  const { values, states } = frame;
  let items: unknown[] | undefined;
  let data = false;
  let marked = false;
  for (const position of node.positions) {
    let value: unknown;
    if (position.object !== undefined) {
      value = objectValue(position.object, frame);
      marked ||= lastMarked;
      if (value === undefined) {
        continue;
      }
      data ||= lastHadData;
    } else {
      const state = states[position.slot];
      if (state === UNTOUCHED) {
        continue;
      }
      if (state !== CONSTANT) {
        marked = true;
      }
      value = values[position.slot];
      if (state === MARKER || value === undefined) {
        continue;
      }
      data ||= state === DATA;
    }
    if (items === undefined) {
      items = [value];
    } else {
      items.push(value);
    }
  }
  for (const slot of node.appends) {
    if (states[slot] === UNTOUCHED) {
      continue;
    }
    // Appending marks the way to the array, items or not; every built item holds data.
    marked = true;
    // The list was built for this build alone: the first one is taken as it is.
    const appended = values[slot] as unknown[];
    if (appended.length === 0) {
      continue;
    }
    data = true;
    if (items === undefined) {
      items = appended;
    } else {
      for (const item of appended) {
        items.push(item);
      }
    }
  }
  lastHadData = data;
  lastMarked = marked;
  return items;
}

/**
 * A value a source built whole (a HumanName, a CodeableConcept, a reference), cleaned by the same
 * rules: absent values, empty objects and arrays dropped. Everything in it is data.
 */
function cleanValue(value: unknown): unknown {
  if (value === null || value === undefined) {
    return undefined;
  }
  if (typeof value !== 'object') {
    return value;
  }
  if (Array.isArray(value)) {
    let items: unknown[] | undefined;
    for (const item of value) {
      const cleaned = cleanValue(item);
      if (cleaned === undefined) {
        continue;
      }
      if (items === undefined) {
        items = [cleaned];
      } else {
        items.push(cleaned);
      }
    }
    return items;
  }
  let out: Record<string, unknown> | undefined;
  const source = value as Record<string, unknown>;
  for (const key in source) {
    const cleaned = cleanValue(source[key]);
    if (cleaned !== undefined) {
      out ??= {};
      out[key] = cleaned;
    }
  }
  return out;
}

/** The compiled layout of one row type (a resource with its fan-out item and child rows, or an item). */
export interface ResourceLayout {
  /** The number of slots: the parts' count. */
  readonly size: number;
  /** A frame with every slot untouched: the layout's own while free, else a new one. */
  frame(): Frame;
  /**
   * The resource: `resourceType` and `id` first, then the elements written into `frame`, those
   * under `elements` (top-level names) when given. Frees the frame.
   */
  resource(
    frame: Frame,
    resourceType: string,
    id: string,
    elements?: ReadonlySet<string>,
  ): FhirJson;
  /** One item of a repeating element: `undefined` when no data was written into it. Frees the frame. */
  item(frame: Frame): Record<string, unknown> | undefined;
}

/** Places `parts` (slot `i` for `parts[i]`) into a layout. */
export function createLayout(parts: readonly LayoutPart[]): ResourceLayout {
  const root: ObjectNode = { entries: [] };
  parts.forEach((part, slot) => {
    place(root, part, slot);
  });
  sortPositions(root);
  const size = parts.length;
  const bySelection = new WeakMap<ReadonlySet<string>, readonly Entry[]>();
  const entriesFor = (elements: ReadonlySet<string> | undefined): readonly Entry[] => {
    if (elements === undefined) {
      return root.entries;
    }
    let chosen = bySelection.get(elements);
    if (chosen === undefined) {
      chosen = root.entries.filter((e) => elements.has(e.key));
      bySelection.set(elements, chosen);
    }
    return chosen;
  };
  // One frame reused build after build (builds are synchronous); a nested build of the same
  // layout, were there one, gets a frame of its own, as does every build after one that threw
  // before `resource` or `item` freed the frame (correct, only slower).
  const own = new Frame(size);
  let ownInUse = false;
  const free = (frame: Frame) => {
    if (frame === own) {
      ownInUse = false;
    }
  };
  return {
    size,
    frame() {
      if (ownInUse) {
        return new Frame(size);
      }
      ownInUse = true;
      own.states.fill(0);
      // The last build's values are not read again; dropped so they do not outlive it.
      own.values.fill(undefined);
      return own;
    },
    resource(frame, resourceType, id, elements) {
      const out: FhirJson = { resourceType, id };
      try {
        fillObject(entriesFor(elements), frame, out);
      } finally {
        free(frame);
      }
      return out;
    },
    item(frame) {
      const out: Record<string, unknown> = {};
      let kept: boolean;
      try {
        kept = fillObject(root.entries, frame, out);
      } finally {
        free(frame);
      }
      // An item expects data: constants alone do not make one.
      return kept && lastHadData ? out : undefined;
    },
  };
}
