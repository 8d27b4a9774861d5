import type { Row } from '../db/dialect.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { FieldColumnUse } from './column-use.js';
import { compileConditions, conditionColumns, type RowPredicate } from './conditions.js';
import type { ResourceMapping } from './mapping-schema.js';
import { type ProblemReporter, topElement } from './row-to-resource.js';

/**
 * Choice elements whose variant depends on the row (`"choices": { "value[x]": [...] }`): an
 * OpenMRS obs is a Quantity, a CodeableConcept, a string or a boolean by its concept's datatype.
 * The first variant whose `if` holds is the row's; the elements of the other variants (leaves,
 * child rows, item arrays) are not written, so a resource carries at most one variant.
 */

/** One variant of a declared choice. */
export interface CompiledVariant {
  /** The variant type as the mapping writes it (`Quantity`). */
  readonly type: string;
  /** The top-level element it writes (`valueQuantity`). */
  readonly element: string;
  /** When a row takes it; `undefined`: always. */
  readonly test: RowPredicate | undefined;
}

/** One declared choice. */
export interface CompiledChoice {
  /** As in the mapping: `value[x]`. */
  readonly path: string;
  /** The element name before `[x]`: `value`. */
  readonly base: string;
  readonly variants: readonly CompiledVariant[];
}

/** The compiled `choices` of a resource mapping. */
export interface CompiledChoices {
  readonly choices: readonly CompiledChoice[];
  /** The declared choice bases (`value`), whose variants may be mapped side by side. */
  readonly declared: ReadonlySet<string>;
  /** Every listed variant's top-level element (`valueQuantity`, `valueString`). */
  readonly elements: ReadonlySet<string>;
  /** The columns the variant conditions read, each once. */
  readonly columns: readonly string[];
  /** Those columns with path `if:<choice path>`. */
  readonly uses: readonly FieldColumnUse[];
  /**
   * The top-level elements of the variants `row` did not take, or `undefined` when it takes
   * every listed variant (a choice with one unconditional variant). The same set object is
   * returned for the same outcome, so callers may cache by it; consecutive calls with the same
   * row object are answered from the last result.
   */
  excludedFor(row: Row): ReadonlySet<string> | undefined;
}

/** Upper-cases the first letter: `string` -> `String`, as in `valueString`. */
const capitalized = (type: string) => `${type.charAt(0).toUpperCase()}${type.slice(1)}`;

/** How an element path is mapped: a leaf, or items (`rows`, `delimited`, `json`). */
type MappedKind = 'leaf' | 'items';

/** One mapped element path of the resource, as problems should name it. */
interface MappedPath {
  readonly path: string;
  readonly shown: string;
  readonly kind: MappedKind;
}

function kindOf(source: ResourceMapping['elements'][string]): MappedKind {
  return typeof source === 'object' &&
    ('rows' in source || 'delimited' in source || 'json' in source)
    ? 'items'
    : 'leaf';
}

/**
 * The groups of paths written into one resource: the shared elements, or with `fanOut` the
 * shared elements plus one item's.
 */
function resourceGroups(mapping: Pick<ResourceMapping, 'elements' | 'fanOut'>): MappedPath[][] {
  const shared = Object.entries(mapping.elements).map(([path, source]) => ({
    path,
    shown: path,
    kind: kindOf(source),
  }));
  if (mapping.fanOut === undefined) {
    return [shared];
  }
  return mapping.fanOut.map((item, i) => [
    ...shared,
    ...Object.keys(item.elements).map((path) => ({
      path,
      shown: `fanOut[${i}].${path}`,
      kind: 'leaf' as const,
    })),
  ]);
}

/**
 * Compiles a resource mapping's `choices` and checks every mapped choice variant against them:
 * a declared choice must be a top-level choice element of the resource, each listed type one of
 * its types, each listed variant mapped, and each mapped variant listed. Without `choices`, two
 * variants of one choice may not feed one resource; leaves are checked by `compileFields`, this
 * catches the pairs that involve `rows`, `delimited` or `json`. Returns `undefined` when the
 * mapping declares no choice (problems, if any, are reported either way).
 */
export function compileChoices(
  defs: FhirDefinitions,
  resourceType: string,
  mapping: Pick<ResourceMapping, 'choices' | 'elements' | 'fanOut'>,
  report: ProblemReporter,
): CompiledChoices | undefined {
  const compiled: CompiledChoice[] = [];
  const elements = new Set<string>();
  for (const [path, variants] of Object.entries(mapping.choices ?? {})) {
    const choice = compileChoice(defs, resourceType, path, variants, report);
    if (choice !== undefined) {
      compiled.push(choice);
      for (const v of choice.variants) {
        elements.add(v.element);
      }
    }
  }
  checkMappedVariants(defs, resourceType, mapping, compiled, report);
  if (compiled.length === 0) {
    return undefined;
  }
  const uses = compiled.flatMap((choice) =>
    conditionColumns(
      (mapping.choices?.[choice.path] ?? []).flatMap((variant) => variant.if ?? []),
    ).map((column) => ({ column, path: `if:${choice.path}`, transforms: [] })),
  );
  return {
    choices: compiled,
    declared: new Set(compiled.map((c) => c.base)),
    elements,
    columns: [...new Set(uses.map((u) => u.column))],
    uses,
    excludedFor: createExcludedFor(compiled),
  };
}

/** One `choices` entry, or `undefined` after reporting why it cannot be used. */
function compileChoice(
  defs: FhirDefinitions,
  resourceType: string,
  path: string,
  variants: NonNullable<ResourceMapping['choices']>[string],
  report: ProblemReporter,
): CompiledChoice | undefined {
  const at = `choices.${path}`;
  if (path.includes('.')) {
    report({
      path: at,
      message: `only top-level choice elements are supported (value[x], onset[x]); ${path} is nested`,
    });
    return undefined;
  }
  const base = path.slice(0, -'[x]'.length);
  const options = defs.complexType(resourceType).elements.filter((e) => e.choiceOf === base);
  if (options.length === 0) {
    report({
      path: at,
      message:
        defs.element(resourceType, base) === undefined
          ? `${resourceType} has no element ${path}`
          : `${base} is not a choice element of ${resourceType}`,
    });
    return undefined;
  }
  const compiled: CompiledVariant[] = [];
  variants.forEach((variant, i) => {
    const element = options.find(
      (e) => e.type === variant.type || e.name === `${base}${capitalized(variant.type)}`,
    );
    if (element === undefined) {
      report({
        path: `${at}[${i}]`,
        message: `${variant.type} is not a type of ${path}; allowed: ${options.map((e) => e.type).join(', ')}`,
      });
      return;
    }
    if (compiled.some((v) => v.element === element.name)) {
      report({ path: `${at}[${i}]`, message: `${variant.type} is listed twice in ${path}` });
      return;
    }
    if (i < variants.length - 1 && variant.if === undefined) {
      report({
        path: `${at}[${i}]`,
        message: `${variant.type} has no if, so it takes every row and the variants after it are never used; put it last`,
      });
    }
    compiled.push({
      type: variant.type,
      element: element.name,
      test: variant.if === undefined ? undefined : compileConditions(variant.if),
    });
  });
  // Kept with the variants that compiled, so its mapped variants are not reported again as
  // undeclared.
  return { path, base, variants: compiled };
}

/** Holds every mapped variant of a choice element against the declared choices. */
function checkMappedVariants(
  defs: FhirDefinitions,
  resourceType: string,
  mapping: Pick<ResourceMapping, 'elements' | 'fanOut'>,
  choices: readonly CompiledChoice[],
  report: ProblemReporter,
): void {
  const byBase = new Map(choices.map((c) => [c.base, c]));
  const mapped = new Set<string>();
  const reported = new Set<string>();
  for (const group of resourceGroups(mapping)) {
    // Undeclared choice base -> the variants mapped into this resource, and whether any of
    // them is an item array (pairs of leaves are compileFields' to report).
    const undeclared = new Map<string, { variants: Set<string>; items: MappedPath | undefined }>();
    for (const entry of group) {
      const top = topElement(entry.path);
      const base = defs.element(resourceType, top)?.choiceOf;
      if (base === undefined) {
        continue;
      }
      const choice = byBase.get(base);
      if (choice !== undefined) {
        mapped.add(top);
        if (!choice.variants.some((v) => v.element === top) && !reported.has(entry.shown)) {
          reported.add(entry.shown);
          report({
            path: entry.shown,
            message: `${top} is a variant of ${choice.path} that choices does not list; add its type to choices.${choice.path}`,
          });
        }
        continue;
      }
      const seen = undeclared.get(base) ?? { variants: new Set<string>(), items: undefined };
      seen.variants.add(top);
      if (entry.kind === 'items' && seen.items === undefined) {
        seen.items = entry;
      }
      undeclared.set(base, seen);
    }
    for (const [base, { variants, items }] of undeclared) {
      if (variants.size > 1 && items !== undefined && !reported.has(items.shown)) {
        reported.add(items.shown);
        report({
          path: items.shown,
          message: `only one variant of ${base}[x] can be mapped unless choices declares ${base}[x] (mapped: ${[...variants].join(', ')})`,
        });
      }
    }
  }
  for (const choice of choices) {
    for (const variant of choice.variants) {
      if (!mapped.has(variant.element)) {
        report({
          path: `choices.${choice.path}`,
          message: `the ${variant.type} variant has no elements: map ${variant.element} (or its parts), or remove it`,
        });
      }
    }
  }
}

/**
 * The per-row decision: for each choice, the first variant whose test holds. Outcomes are
 * interned (one set per combination of taken variants), so the builders can cache per outcome.
 */
function createExcludedFor(
  choices: readonly CompiledChoice[],
): (row: Row) => ReadonlySet<string> | undefined {
  const interned = new Map<number, ReadonlySet<string> | undefined>();
  const outcomeOf = (taken: readonly number[]): ReadonlySet<string> | undefined => {
    let key = 0;
    choices.forEach((choice, i) => {
      key = key * (choice.variants.length + 1) + (taken[i] as number);
    });
    if (interned.has(key)) {
      return interned.get(key);
    }
    const excluded = new Set<string>();
    choices.forEach((choice, i) => {
      choice.variants.forEach((variant, v) => {
        if (v !== taken[i]) {
          excluded.add(variant.element);
        }
      });
    });
    const outcome = excluded.size === 0 ? undefined : excluded;
    interned.set(key, outcome);
    return outcome;
  };
  const taken = choices.map(() => 0);
  let lastRow: Row | undefined;
  let lastOutcome: ReadonlySet<string> | undefined;
  return (row) => {
    if (row === lastRow) {
      return lastOutcome;
    }
    choices.forEach((choice, i) => {
      const { variants } = choice;
      let index = variants.length;
      for (let v = 0; v < variants.length; v++) {
        const test = variants[v]?.test;
        if (test === undefined || test(row)) {
          index = v;
          break;
        }
      }
      taken[i] = index;
    });
    lastRow = row;
    lastOutcome = outcomeOf(taken);
    return lastOutcome;
  };
}
