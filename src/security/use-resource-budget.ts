import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLSchema,
  getArgumentValues,
  getNamedType,
  getNullableType,
  isAbstractType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../context.js';
import { gatewayError, isGatewayError } from '../errors.js';

/** The most resources one request may return in the worst case. @default 5000 */
export const DEFAULT_MAX_RESOURCES = 5000;

export interface ResourceBudget {
  /** Resources one request may return in the worst case; refused above. */
  readonly maxResources: number;
  /** The `_count` a connection without one returns (`FHIRGATE_DEFAULT_COUNT`). */
  readonly defaultCount: number;
  /** The largest `_count` a list answers (`FHIRGATE_MAX_COUNT`): a larger one is an error. */
  readonly maxCount: number;
}

/**
 * The most resources an operation can return: every resource-typed field (`Patient`, a
 * reference's target, an item of `PatientList` or of a connection) counts once per path to it,
 * and a list or connection multiplies what is below it by its `_count` (its argument, variables
 * included; without one, the maximum for a list and the default for a connection). Aliases count separately; `@skip` and `@include` are ignored (the
 * worst case). So three aliased `PatientList(_count: 100) { ObservationList(_count: 100) }` are
 * 3 x (100 + 100 x 100) = 30,300, where graphql-armor's cost, which counts each field once
 * whatever the lists around it, saw a few dozen points.
 */
export function worstCaseResources(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  resourceTypes: ReadonlySet<string>,
  counts: { readonly defaultCount: number; readonly maxCount: number },
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(def.name.value, def);
    } else if (
      def.kind === Kind.OPERATION_DEFINITION &&
      (operationName == null || def.name?.value === operationName)
    ) {
      operation ??= def;
    }
  }
  const root =
    operation?.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  if (operation === undefined || root == null) {
    return 0;
  }
  const isResource = (name: string, abstract: boolean) => abstract || resourceTypes.has(name);
  let total = 0;

  const visit = (
    parentType: string,
    set: SelectionSetNode,
    multiplicity: number,
    seen: ReadonlySet<string>,
  ): void => {
    const parent = schema.getType(parentType);
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(
          selection.typeCondition?.name.value ?? parentType,
          selection.selectionSet,
          multiplicity,
          seen,
        );
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        // A fragment cycle is a validation error; the guard keeps this walk finite anyway.
        if (fragment !== undefined && !seen.has(fragment.name.value)) {
          visit(
            fragment.typeCondition.name.value,
            fragment.selectionSet,
            multiplicity,
            new Set([...seen, fragment.name.value]),
          );
        }
        continue;
      }
      if (!isObjectType(parent) || selection.selectionSet === undefined) {
        continue;
      }
      const field: GraphQLField<unknown, unknown> | undefined =
        parent.getFields()[selection.name.value];
      if (field === undefined) {
        continue;
      }
      const named = getNamedType(field.type);
      const list = isListType(getNullableType(field.type));
      const resource = isResource(named.name, isAbstractType(named));
      const connection = named.name.endsWith('Connection');
      let n = 1;
      if ((list && resource) || connection) {
        const args = getArgumentValues(field, selection, variables ?? {});
        const count = args['_count'];
        // A `_count` above the maximum is refused by its field, so it returns at most that. Without
        // one, a list returns every match up to the maximum (more is an error, never a cut) and a
        // connection pages by the default.
        n =
          typeof count === 'number' && count >= 0
            ? Math.min(count, counts.maxCount)
            : connection
              ? counts.defaultCount
              : counts.maxCount;
      }
      const below = multiplicity * n;
      if (resource) {
        total += below;
      }
      // A reference target (a union) is walked through its inline fragments.
      visit(named.name, selection.selectionSet, below, seen);
    }
  };
  visit(root.name, operation.selectionSet, 1, new Set());
  return total;
}

/**
 * Refuses, before any statement, an operation whose worst case (see {@link worstCaseResources})
 * is above the budget: 400 `QUERY_TOO_COSTLY`, naming the limit (a client must be able to
 * page within it). Runs in `onExecute`, so variables count too. An operation within the budget
 * but above the heavy-request threshold waits here for a slot of its tenant's heavy-request
 * bulkhead (`WorkBudget.admit`); when that is full it answers 503 `TENANT_BUSY` instead.
 */
export function useResourceBudget(
  budget: ResourceBudget,
  resourceTypes: ReadonlySet<string>,
): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const worst = worstCaseResources(
        args.schema,
        args.document,
        args.operationName,
        args.variableValues,
        resourceTypes,
        budget,
      );
      if (worst > budget.maxResources) {
        setResultAndStopExecution({
          errors: [
            gatewayError(
              'QUERY_TOO_COSTLY',
              `This operation could return ${worst} resources; at most ${budget.maxResources} are allowed per request. Lower _count or split it.`,
            ),
          ],
        });
        return undefined;
      }
      const work = (args.contextValue as Partial<GatewayContext> | undefined)?.repository?.work;
      const waiting = work?.admit(worst);
      // Light operations (nearly all) go on without a promise.
      return waiting?.catch((err: unknown) => {
        if (!isGatewayError(err, 'TENANT_BUSY')) {
          throw err;
        }
        setResultAndStopExecution({ errors: [err] });
      });
    },
  };
}
