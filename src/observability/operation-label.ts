import { type DocumentNode, getOperationAST, Kind, type SelectionSetNode } from 'graphql';

/** The `operation` label of a request that never reached execution (auth, parse, validation). */
export const NO_OPERATION = 'none';

/** Distinct root fields beyond which a request is labelled `<type>:multiple`. */
const MULTIPLE = 'multiple';

/** Root field names from the schema: GraphQL names, so never more than this. */
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

function rootFields(
  selectionSet: SelectionSetNode,
  document: DocumentNode,
  into: Set<string>,
  depth = 0,
): void {
  // Fragments at the root are rare; a cycle is rejected by validation, the depth bound is a guard.
  if (depth > 8) {
    return;
  }
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== '__typename') {
        into.add(selection.name.value);
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      rootFields(selection.selectionSet, document, into, depth + 1);
    } else {
      const name = selection.name.value;
      const fragment = document.definitions.find(
        (d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name,
      );
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) {
        rootFields(fragment.selectionSet, document, into, depth + 1);
      }
    }
  }
}

/**
 * The `operation` label of an executed request: its type and its root field, `query:PatientList`.
 *
 * Operation names are chosen by the client: free text a front end could build from a patient's
 * name, and unbounded. Root fields come from the schema (validation has run), so the label has at
 * most one value per root field and type, plus `<type>:multiple` for documents selecting several.
 * Aliases are ignored for the same reason.
 */
export function operationLabel(document: DocumentNode, operationName?: string | null): string {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (operation === null || operation === undefined) {
    return NO_OPERATION;
  }
  const fields = new Set<string>();
  rootFields(operation.selectionSet, document, fields);
  const [only] = fields;
  if (fields.size === 1 && only !== undefined && NAME.test(only)) {
    return `${operation.operation}:${only}`;
  }
  return `${operation.operation}:${fields.size === 0 ? '__typename' : MULTIPLE}`;
}
