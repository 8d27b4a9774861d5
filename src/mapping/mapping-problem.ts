import type { z } from 'zod';
import { BARE_TRANSFORM_NAMES, TRANSFORM_NAMES } from './transforms/catalogue.js';

/**
 * Something wrong with a mapping. `resource`, `path` and `column` locate it; the message says
 * what is wrong. Messages quote names from the mapping (element paths, column names, transform
 * names) and declared column types, but never database values. An error (the default) stops the
 * mapping from being activated; a warning (`severity: 'warning'`) does not: it marks what is
 * almost certainly a mistake but may be intended.
 */
export interface MappingProblem {
  /** Absent means `error`; only the live-database checker issues warnings. */
  readonly severity?: MappingProblemSeverity;
  /** The resource type, e.g. `Patient`. */
  readonly resource?: string;
  /**
   * Where in the resource's mapping: the FHIR element path (`name[0].family`, `telecom.value`
   * inside a `rows` element), or a mapping key (`table`, `id`, `where[0]`, `search.family`).
   */
  readonly path?: string;
  /** The column involved, as written in the mapping. */
  readonly column?: string;
  readonly message: string;
}

/** `error` blocks activation; `warning` is reported and lets the mapping through. */
export type MappingProblemSeverity = 'error' | 'warning';

/** Whether `problem` blocks activation (every problem but a warning). */
export function isBlocking(problem: MappingProblem): boolean {
  return problem.severity !== 'warning';
}

type PathKey = PropertyKey;

/** Longest text of the mapping echoed back in a problem; longer text is cut. */
const MAX_ECHO = 80;

function echo(text: string): string {
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
}

function valueAt(root: unknown, path: readonly PathKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || typeof key === 'symbol') {
      return undefined;
    }
    current = (current as Record<string, unknown>)[String(key)];
  }
  return current;
}

/**
 * Splits a zod issue path into resource, FHIR path and the rest. `['resources', 'Patient',
 * 'elements', 'telecom', 'elements', 'value', 'column']` becomes Patient, `telecom.value`,
 * `['column']`.
 */
function locate(path: readonly PathKey[]): {
  resource?: string;
  fhirPath?: string;
  rest: readonly PathKey[];
  mappingPath: string;
} {
  if (path[0] !== 'resources' || path.length < 2) {
    return { rest: [], mappingPath: formatKeyPath(path) };
  }
  const resource = String(path[1]);
  const inResource = path.slice(2);
  if (inResource[0] === 'elements' && inResource.length >= 2) {
    let fhirPath = String(inResource[1]);
    let rest = inResource.slice(2);
    if (rest[0] === 'elements' && rest.length >= 2) {
      fhirPath = `${fhirPath}.${String(rest[1])}`;
      rest = rest.slice(2);
    }
    return { resource, fhirPath, rest, mappingPath: fhirPath };
  }
  if (
    inResource[0] === 'fanOut' &&
    typeof inResource[1] === 'number' &&
    inResource[2] === 'elements' &&
    inResource.length >= 4
  ) {
    const fhirPath = `fanOut[${inResource[1]}].${String(inResource[3])}`;
    return { resource, fhirPath, rest: inResource.slice(4), mappingPath: fhirPath };
  }
  if (inResource[0] === 'search' && inResource.length >= 2) {
    return {
      resource,
      rest: inResource.slice(2),
      mappingPath: `search.${String(inResource[1])}`,
    };
  }
  return { resource, rest: [], mappingPath: formatKeyPath(inResource) };
}

/** `['where', 0, 'column']` -> `where[0].column`. */
export function formatKeyPath(path: readonly PathKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') {
      out += `[${key}]`;
    } else {
      out += out === '' ? String(key) : `.${String(key)}`;
    }
  }
  return out;
}

/**
 * The column an issue is about: the string at a `column`/`key`/`id`/`columns[i]` key or an
 * element shorthand, else the `column` of the element or filter that owns the issue.
 */
function columnOf(document: unknown, issuePath: readonly PathKey[]): string | undefined {
  const last = issuePath[issuePath.length - 1];
  const parentKey = issuePath[issuePath.length - 2];
  const here = valueAt(document, issuePath);
  if (
    typeof here === 'string' &&
    (last === 'column' ||
      last === 'key' ||
      (last === 'id' && issuePath.length === 3) ||
      parentKey === 'columns' ||
      parentKey === 'elements')
  ) {
    return echo(here);
  }
  // Walk up to the owning element or filter, never above the resource.
  for (let i = issuePath.length; i >= 3; i--) {
    const node = valueAt(document, issuePath.slice(0, i));
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      const column = (node as Record<string, unknown>)['column'];
      if (typeof column === 'string') {
        return echo(column);
      }
    }
    const key = issuePath[i - 1];
    const owner = issuePath[i - 2];
    if (
      owner === 'elements' ||
      (typeof key === 'number' && (owner === 'where' || owner === 'orderBy'))
    ) {
      break;
    }
  }
  return undefined;
}

type Issue = z.core.$ZodIssue;

/**
 * Picks the union branch the author meant: the only one whose issues are all below its root
 * (the value had the branch's shape but a bad detail). `undefined` when no branch or several
 * fit, or when the value fits none.
 */
function chooseBranch(errors: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const fitting = errors.filter((branch) => branch.every((issue) => issue.path.length > 0));
  if (fitting.length === 0) {
    return undefined;
  }
  return fitting.reduce((best, branch) => (branch.length < best.length ? branch : best));
}

/** The keys that say where an element's value comes from; an element has exactly one. */
const SOURCE_KEYS = [
  'column',
  'constant',
  'template',
  'reference',
  'when',
  'rows',
  'delimited',
  'json',
];
const SOURCE_LIST = 'column, constant, template, reference, when, rows, delimited or json';
const ONE_SOURCE = `an element has exactly one of ${SOURCE_LIST}`;

/** A fixed message for a value that fits no branch of a union, by where it stands. */
function unionFallback(document: unknown, path: readonly PathKey[], generic: string): string {
  const value = valueAt(document, path);
  const last = path[path.length - 1];
  const parentKey = path[path.length - 2];
  if (parentKey === 'transform' && typeof last === 'number') {
    const name = typeof value === 'string' ? value : undefined;
    if (name !== undefined && (TRANSFORM_NAMES as readonly string[]).includes(name)) {
      return `transform "${echo(name)}" needs options; write it as { "fn": "${echo(name)}", ... }`;
    }
    if (name !== undefined) {
      return `unknown transform "${echo(name)}"; known transforms: ${TRANSFORM_NAMES.join(', ')}`;
    }
    return `a transform is a name (${BARE_TRANSFORM_NAMES.join(', ')}) or an object with "fn"`;
  }
  if (last === 'id' && path.length === 3) {
    return 'id is a column name or { "column": ..., "type": "integer" | "string" }';
  }
  const isElement = parentKey === 'elements';
  if (!isElement) {
    return generic;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const sources = SOURCE_KEYS.filter((k) => keys.includes(k));
    const known = new Set([...SOURCE_KEYS, 'transform', 'elements', 'else']);
    const unknown = keys.filter((k) => !known.has(k));
    if (unknown.length > 0) {
      return `unknown key(s) ${unknown.map((k) => `"${echo(k)}"`).join(', ')}; ${ONE_SOURCE}`;
    }
    if (sources.length !== 1) {
      return ONE_SOURCE;
    }
    if (sources[0] === 'constant' && keys.includes('transform')) {
      return 'a constant takes no transform';
    }
    const nested = sources[0] === 'rows' || sources[0] === 'delimited' || sources[0] === 'json';
    if (nested && path.length > 4) {
      if (path[2] === 'fanOut') {
        return 'a fan-out item takes column, constant, template or reference; put rows, delimited and json in the shared elements';
      }
      return `${sources[0]} cannot be nested inside rows, delimited or json`;
    }
    return `an element with ${sources[0]} cannot also have ${keys.filter((k) => k !== sources[0]).join(', ')}`;
  }
  return `an element is a column name or an object with exactly one of ${SOURCE_LIST}`;
}

/** Rewrites zod's generic texts into ones that say what the mapping should contain. */
function messageOf(document: unknown, issue: Issue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key(s) ${issue.keys.map((k) => `"${echo(k)}"`).join(', ')}`;
    case 'invalid_union': {
      // zod's discriminated unions add these fields to the issue without typing them.
      const extra = issue as unknown as {
        note?: string;
        discriminator?: string;
        options?: unknown[];
      };
      if (extra.note === 'No matching discriminator') {
        const value = valueAt(document, issue.path);
        if (extra.discriminator === 'fn') {
          return typeof value === 'string'
            ? `unknown transform "${echo(value)}"; known transforms: ${TRANSFORM_NAMES.join(', ')}`
            : 'a transform object needs "fn" naming a transform';
        }
        if (extra.discriminator === 'op') {
          return `unknown filter op; use one of ${(extra.options ?? []).map(String).join(', ')}`;
        }
      }
      return issue.message;
    }
    case 'invalid_type':
      if (issue.input === undefined) {
        return 'is required';
      }
      return `must be ${issue.expected === 'record' ? 'an object' : `a ${issue.expected}`}`;
    default:
      return issue.message;
  }
}

/** Flattens unions (choosing the branch the author meant) and prefixes nested issue paths. */
function flatten(document: unknown, issues: readonly Issue[], prefix: readonly PathKey[]): Issue[] {
  const out: Issue[] = [];
  for (const raw of issues) {
    const issue = { ...raw, path: [...prefix, ...raw.path] } as Issue;
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branch = chooseBranch(issue.errors);
      if (branch !== undefined) {
        out.push(...flatten(document, branch, issue.path));
      } else {
        out.push({
          code: 'custom',
          path: issue.path,
          message: unionFallback(document, issue.path, issue.message),
          input: undefined,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      out.push(...flatten(document, issue.issues, issue.path));
      continue;
    }
    out.push(issue);
  }
  return out;
}

/** Converts zod issues of a mapping document into problems located by resource, path and column. */
export function toMappingProblems(document: unknown, issues: readonly Issue[]): MappingProblem[] {
  return flatten(document, issues, []).map((issue) => {
    const where = locate(issue.path);
    const column = columnOf(document, issue.path);
    const detail = formatKeyPath(where.rest);
    const message = messageOf(document, issue);
    return {
      ...(where.resource === undefined ? {} : { resource: where.resource }),
      ...(where.mappingPath === '' ? {} : { path: where.mappingPath }),
      ...(column === undefined ? {} : { column }),
      message: detail === '' ? message : `${detail}: ${message}`,
    };
  });
}
