import {
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLFieldMap,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  SchemaMetaFieldDef,
  type SelectionSetNode,
  TypeInfo,
  TypeMetaFieldDef,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { gatewayError } from '../errors.js';
import {
  FIRST,
  FLATTEN,
  isShapingDirective,
  SINGLETON,
  SLICE,
  SLICE_INDEX,
  slicePathOf,
} from './shaping-directives.js';

/**
 * What shaping needs to know of an operation: per response key, its shaping directives, whether
 * it is a list and the plan of its children. The result holds no types, so two hidden fields are
 * added to the executed document: `__typename` where a selection is abstract (`Reference.resource`,
 * `contained`), to tell which fragments an object's keys came from, and a `@slice` path's child,
 * whose value names the item's output property. Both are read by shaping and never answered.
 */

/** Hidden response key of `__typename` in abstract selections. */
export const TYPE_KEY = '__fhirgateType';
/** Hidden response key of a `@slice` path's child, in the sliced field's items. */
export const SLICE_KEY = '__fhirgateSlice';

export interface FieldPlan {
  /** The response key (the alias, or the field name). */
  readonly key: string;
  /** The schema's field name: errors name it, never the alias a client chose. */
  readonly name: string;
  /** The field's GraphQL type is a list. */
  readonly list: boolean;
  /** The named type, for the same-type rule of `@flatten`. */
  readonly typeName: string;
  readonly flatten: boolean;
  readonly first: boolean;
  readonly singleton: boolean;
  /** `$index`, or present when the items carry their slice value under {@link SLICE_KEY}. */
  readonly slice?: typeof SLICE_INDEX | typeof SLICE_KEY;
  /** Neither the field nor anything below it has a shaping directive: copied as is. */
  readonly plain: boolean;
  /** The plan of an object field's children. */
  readonly children?: SelectionPlan;
}

interface PlanContext {
  readonly schema: GraphQLSchema;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly shapedFragments: Map<string, boolean>;
}

function directiveNames(node: FieldNode): string {
  return (node.directives ?? [])
    .filter(isShapingDirective)
    .map((d) => `@${d.name.value}(${d.name.value === SLICE ? slicePathOf(d) : ''})`)
    .sort()
    .join(' ');
}

/** The fields of one selection, per runtime object type, built on first use. */
export class SelectionPlan {
  readonly #ctx: PlanContext;
  readonly #sets: readonly SelectionSetNode[];
  readonly #byType = new Map<string, readonly FieldPlan[]>();
  /** The object type the selection is on, or undefined when abstract. */
  readonly objectType: string | undefined;

  constructor(ctx: PlanContext, parent: GraphQLCompositeType, sets: readonly SelectionSetNode[]) {
    this.#ctx = ctx;
    this.#sets = sets;
    this.objectType = isObjectType(parent) ? parent.name : undefined;
  }

  /** The fields an object of `typeName` answers, in response order. */
  fieldsFor(typeName: string): readonly FieldPlan[] {
    let fields = this.#byType.get(typeName);
    if (fields === undefined) {
      fields = this.#build(typeName);
      this.#byType.set(typeName, fields);
    }
    return fields;
  }

  #build(typeName: string): readonly FieldPlan[] {
    const { schema } = this.#ctx;
    const type = schema.getType(typeName);
    if (!isObjectType(type)) {
      return [];
    }
    const byKey = new Map<string, FieldNode[]>();
    const collect = (set: SelectionSetNode): void => {
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          const nodes = byKey.get(key);
          if (nodes === undefined) {
            byKey.set(key, [selection]);
          } else {
            nodes.push(selection);
          }
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (applies(schema, selection.typeCondition?.name.value, type.name)) {
            collect(selection.selectionSet);
          }
        } else {
          const fragment = this.#ctx.fragments.get(selection.name.value);
          if (
            fragment !== undefined &&
            applies(schema, fragment.typeCondition.name.value, typeName)
          ) {
            collect(fragment.selectionSet);
          }
        }
      }
    };
    for (const set of this.#sets) {
      collect(set);
    }
    const plans: FieldPlan[] = [];
    for (const [key, nodes] of byKey) {
      if (key === TYPE_KEY || key === SLICE_KEY) {
        continue;
      }
      plans.push(this.#fieldPlan(type.getFields(), key, nodes));
    }
    return plans;
  }

  #fieldPlan(
    defs: GraphQLFieldMap<unknown, unknown>,
    key: string,
    nodes: readonly FieldNode[],
  ): FieldPlan {
    const first = nodes[0] as FieldNode;
    const shaping = directiveNames(first);
    if (nodes.some((n) => directiveNames(n) !== shaping)) {
      throw gatewayError(
        'BAD_USER_INPUT',
        `"${first.name.value}" is selected more than once under one name with different shaping directives; give each selection the same ones, or another alias.`,
      );
    }
    const directive = (name: string): DirectiveNode | undefined =>
      first.directives?.find((d) => d.name.value === name);
    const name = first.name.value;
    const def =
      defs[name] ??
      (name === SchemaMetaFieldDef.name
        ? SchemaMetaFieldDef
        : name === TypeMetaFieldDef.name
          ? TypeMetaFieldDef
          : undefined);
    const fieldType = def?.type;
    const named = fieldType === undefined ? undefined : getNamedType(fieldType);
    const sets = nodes.flatMap((n) => (n.selectionSet === undefined ? [] : [n.selectionSet]));
    const children =
      named !== undefined && isCompositeType(named) && sets.length > 0
        ? new SelectionPlan(this.#ctx, named, sets)
        : undefined;
    const slice = directive(SLICE);
    return {
      key,
      name,
      list: fieldType !== undefined && isListType(getNullableType(fieldType)),
      typeName: named?.name ?? 'String',
      flatten: directive(FLATTEN) !== undefined,
      first: directive(FIRST) !== undefined,
      singleton: directive(SINGLETON) !== undefined,
      ...(slice === undefined
        ? {}
        : { slice: slicePathOf(slice) === SLICE_INDEX ? SLICE_INDEX : SLICE_KEY }),
      plain: shaping === '' && !sets.some((s) => this.#shaped(s)),
      ...(children === undefined ? {} : { children }),
    };
  }

  /** Whether a selection has a shaping directive anywhere, through fragments too. */
  #shaped(set: SelectionSetNode): boolean {
    return set.selections.some((s) => {
      if (s.kind === Kind.FIELD) {
        return (
          (s.directives?.some(isShapingDirective) ?? false) ||
          (s.selectionSet !== undefined && this.#shaped(s.selectionSet))
        );
      }
      if (s.kind === Kind.INLINE_FRAGMENT) {
        return this.#shaped(s.selectionSet);
      }
      const name = s.name.value;
      const known = this.#ctx.shapedFragments.get(name);
      if (known !== undefined) {
        return known;
      }
      // Validation refuses fragment cycles; the guard keeps an unvalidated one finite.
      this.#ctx.shapedFragments.set(name, false);
      const fragment = this.#ctx.fragments.get(name);
      const shaped = fragment !== undefined && this.#shaped(fragment.selectionSet);
      this.#ctx.shapedFragments.set(name, shaped);
      return shaped;
    });
  }
}

function applies(schema: GraphQLSchema, condition: string | undefined, typeName: string): boolean {
  if (condition === undefined || condition === typeName) {
    return true;
  }
  const type = schema.getType(condition);
  const object = schema.getType(typeName);
  return isAbstractType(type) && isObjectType(object) && schema.isSubType(type, object);
}

/** An operation's shaping: the plan of its root, and the document to execute. */
export interface Shaping {
  readonly root: SelectionPlan;
  readonly document: DocumentNode;
}

function hiddenField(alias: string, name: string): FieldNode {
  return {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: alias },
    name: { kind: Kind.NAME, value: name },
  };
}

/** The document with the hidden fields shaping reads (see the module comment). */
function withHiddenFields(schema: GraphQLSchema, document: DocumentNode): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      SelectionSet: {
        leave(node) {
          const parent = typeInfo.getParentType();
          return parent !== null && parent !== undefined && isAbstractType(parent)
            ? { ...node, selections: [...node.selections, hiddenField(TYPE_KEY, '__typename')] }
            : undefined;
        },
      },
      Field: {
        leave(node) {
          const slice = node.directives?.find((d) => d.name.value === SLICE);
          const path = slice === undefined ? undefined : slicePathOf(slice);
          if (path === undefined || path === SLICE_INDEX || node.selectionSet === undefined) {
            return undefined;
          }
          return {
            ...node,
            selectionSet: {
              ...node.selectionSet,
              selections: [...node.selectionSet.selections, hiddenField(SLICE_KEY, path)],
            },
          };
        },
      },
    }),
  );
}

function hasShapingDirective(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (isShapingDirective(node)) {
        found = true;
      }
    },
  });
  return found;
}

const cache = new WeakMap<DocumentNode, Map<string, Shaping | null>>();

/**
 * The shaping of a validated document's operation, or null when it has no shaping directive
 * (nearly always: then nothing is added and the result is left alone). Cached with the document,
 * which Yoga reuses for a repeated query, so graphql-jit compiles the hidden-field document once.
 */
export function shapingOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): Shaping | null {
  let byOperation = cache.get(document);
  if (byOperation === undefined) {
    byOperation = new Map();
    cache.set(document, byOperation);
  }
  const key = operationName ?? '';
  const cached = byOperation.get(key);
  if (cached !== undefined) {
    return cached;
  }
  let shaping: Shaping | null = null;
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode =>
      d.kind === Kind.OPERATION_DEFINITION &&
      (operationName === null || operationName === undefined || d.name?.value === operationName),
  );
  const rootType = operation === undefined ? null : schema.getRootType(operation.operation);
  if (
    operation !== undefined &&
    rootType !== null &&
    rootType !== undefined &&
    hasShapingDirective(document)
  ) {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of document.definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) {
        fragments.set(d.name.value, d);
      }
    }
    shaping = {
      root: new SelectionPlan({ schema, fragments, shapedFragments: new Map() }, rootType, [
        operation.selectionSet,
      ]),
      document: withHiddenFields(schema, document),
    };
  }
  byOperation.set(key, shaping);
  return shaping;
}
