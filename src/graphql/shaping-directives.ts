import {
  type ASTVisitor,
  DirectiveLocation,
  type DirectiveNode,
  GraphQLDirective,
  GraphQLError,
  GraphQLNonNull,
  GraphQLString,
  getNamedType,
  isCompositeType,
  isLeafType,
  isObjectType,
  Kind,
  type ValidationContext,
} from 'graphql';

/**
 * The data flattening directives of the HL7 FHIR GraphQL page. They do not change what is read,
 * only the shape of the answer, so they are applied to the execution result
 * (`shape-result.ts`); the schema declares them so documents validate and GraphiQL offers them.
 */

export const FLATTEN = 'flatten';
export const FIRST = 'first';
export const SINGLETON = 'singleton';
export const SLICE = 'slice';

/** `@slice(path: "$index")`: the item's position in its list. */
export const SLICE_INDEX = '$index';

export const SHAPING_DIRECTIVES: readonly GraphQLDirective[] = [
  new GraphQLDirective({
    name: FLATTEN,
    description:
      'Leaves the field out of the answer and puts its children in the parent in its place; on a repeating field every child becomes a list (`name @flatten { family }` gives `family: [...]`). Children that end up under one name must have the same type.',
    locations: [DirectiveLocation.FIELD],
  }),
  new GraphQLDirective({
    name: FIRST,
    description:
      'Keeps only the first item of a repeating field (of each occurrence, under @flatten), as one value instead of a list.',
    locations: [DirectiveLocation.FIELD],
  }),
  new GraphQLDirective({
    name: SINGLETON,
    description:
      'Answers the field as one value, not a list, also under @flatten; an error when the data has more than one.',
    locations: [DirectiveLocation.FIELD],
  }),
  new GraphQLDirective({
    name: SLICE,
    description:
      'Splits a repeating field into one answer property per item, named `field.<value>` by the item\'s `path`: "$index" (its position) or one of its primitive children ("use", "system"). Suffixes add up under @flatten.',
    locations: [DirectiveLocation.FIELD],
    args: {
      path: {
        type: new GraphQLNonNull(GraphQLString),
        description: '"$index", or the name of a primitive child of the item.',
      },
    },
  }),
];

const SHAPING = new Set([FLATTEN, FIRST, SINGLETON, SLICE]);

/** True when the directive is one of the shaping directives. */
export function isShapingDirective(node: DirectiveNode): boolean {
  return SHAPING.has(node.name.value);
}

/** The literal `path` of a `@slice`, or undefined when it is not a string literal. */
export function slicePathOf(node: DirectiveNode): string | undefined {
  const arg = node.arguments?.find((a) => a.name.value === 'path');
  return arg?.value.kind === Kind.STRING ? arg.value.value : undefined;
}

/** A slice path that names a child: a GraphQL field name. */
const CHILD_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/**
 * Refuses uses of the shaping directives the result cannot be shaped by: `@flatten` on a field
 * without children, `@slice` with a variable or a path that is neither `$index` nor a primitive
 * child of the item, `@slice` with `@first`. The messages name the field and what to write.
 */
export function ShapingDirectivesRule(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      const directives = node.directives?.filter(isShapingDirective) ?? [];
      if (directives.length === 0) {
        return;
      }
      const field = node.name.value;
      const type = context.getType();
      if (type === null || type === undefined) {
        return;
      }
      const named = getNamedType(type);
      const names = new Set(directives.map((d) => d.name.value));
      if (names.has(FLATTEN) && !isCompositeType(named)) {
        context.reportError(
          new GraphQLError(
            `@flatten puts a field's children in its parent, and "${field}" has no children; remove @flatten or put it on an object field.`,
            { nodes: node },
          ),
        );
      }
      const slice = directives.find((d) => d.name.value === SLICE);
      if (slice === undefined) {
        return;
      }
      if (names.has(FIRST)) {
        context.reportError(
          new GraphQLError(
            `"${field}" has both @slice and @first; @first keeps one item, so there is nothing to slice. Use one of them.`,
            { nodes: node },
          ),
        );
      }
      const path = slicePathOf(slice);
      if (path === undefined) {
        context.reportError(
          new GraphQLError(
            `@slice on "${field}" needs its path as a string literal ("$index" or a child's name), not a variable.`,
            { nodes: slice },
          ),
        );
        return;
      }
      if (path === SLICE_INDEX) {
        return;
      }
      const child =
        isObjectType(named) && CHILD_NAME.test(path) ? named.getFields()[path] : undefined;
      if (child === undefined || !isLeafType(getNamedType(child.type))) {
        context.reportError(
          new GraphQLError(
            `@slice on "${field}": the path must be "$index" or the name of a primitive child of ${named.name} (for example "use" or "system").`,
            { nodes: slice },
          ),
        );
      }
    },
  };
}
