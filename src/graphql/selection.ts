import {
  GraphQLIncludeDirective,
  type GraphQLResolveInfo,
  GraphQLSkipDirective,
  getDirectiveValues,
  Kind,
  type SelectionSetNode,
} from 'graphql';

/**
 * Whether the field being resolved selects any of `names` directly below it, through inline
 * fragments and fragment spreads, honouring `@skip` and `@include`. Aliases do not matter: the
 * field name does. Lets a resolver skip work (a `COUNT(*)`) nobody asked for.
 */
export function selectsAnyField(info: GraphQLResolveInfo, names: ReadonlySet<string>): boolean {
  const visitedFragments = new Set<string>();

  const included = (node: Parameters<typeof getDirectiveValues>[1]): boolean => {
    const skip = getDirectiveValues(GraphQLSkipDirective, node, info.variableValues);
    if (skip?.['if'] === true) {
      return false;
    }
    const include = getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues);
    return include?.['if'] !== false;
  };

  const walk = (set: SelectionSetNode | undefined): boolean => {
    for (const selection of set?.selections ?? []) {
      if (!included(selection)) {
        continue;
      }
      if (selection.kind === Kind.FIELD) {
        if (names.has(selection.name.value)) {
          return true;
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (walk(selection.selectionSet)) {
          return true;
        }
      } else {
        const name = selection.name.value;
        const fragment = info.fragments[name];
        if (!visitedFragments.has(name) && fragment !== undefined) {
          visitedFragments.add(name);
          if (walk(fragment.selectionSet)) {
            return true;
          }
        }
      }
    }
    return false;
  };

  return info.fieldNodes.some((node) => walk(node.selectionSet));
}
