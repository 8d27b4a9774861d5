import {
  type ASTVisitor,
  GraphQLError,
  type GraphQLSchema,
  type GraphQLType,
  getNamedType,
  getNullableType,
  isListType,
  isNonNullType,
  isTypeSubTypeOf,
  Kind,
  typeFromAST,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
  type VariableDefinitionNode,
  VariablesInAllowedPositionRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * GraphQL's rule that variables are used where their type fits, with one allowance: a variable
 * of a single `String` may stand where a list of strings is expected (`PatientList(family: $f)`
 * with `$f: String`). Input coercion already turns a single literal into a one-item list; this
 * lets a variable do the same, so documents written for other FHIR GraphQL servers (whose search
 * arguments are plain `String`) validate here. The resolver receives the single string.
 */
function allowed(
  schema: GraphQLSchema,
  varType: GraphQLType,
  varDefault: ValueNode | undefined,
  locationType: GraphQLType,
  locationHasDefault: boolean,
): boolean {
  const location = getNullableType(locationType);
  if (
    isListType(location) &&
    !isListType(getNullableType(varType)) &&
    getNamedType(varType).name === 'String' &&
    getNamedType(location).name === 'String'
  ) {
    return true;
  }
  if (isNonNullType(locationType) && !isNonNullType(varType)) {
    const nonNullDefault = varDefault !== undefined && varDefault.kind !== Kind.NULL;
    if (!nonNullDefault && !locationHasDefault) {
      return false;
    }
    return isTypeSubTypeOf(schema, varType, locationType.ofType);
  }
  return isTypeSubTypeOf(schema, varType, locationType);
}

/** The relaxed {@link VariablesInAllowedPositionRule}; the same message when it refuses. */
export function SingleValueListsRule(context: ValidationContext): ASTVisitor {
  let defs: Record<string, VariableDefinitionNode> = Object.create(null);
  return {
    OperationDefinition: {
      enter() {
        defs = Object.create(null);
      },
      leave(operation) {
        for (const { node, type, defaultValue } of context.getRecursiveVariableUsages(operation)) {
          const name = node.name.value;
          const def = defs[name];
          if (def === undefined || type === undefined || type === null) {
            continue;
          }
          const schema = context.getSchema();
          const varType = typeFromAST(schema, def.type);
          if (
            varType !== undefined &&
            !allowed(schema, varType, def.defaultValue, type, defaultValue !== undefined)
          ) {
            context.reportError(
              new GraphQLError(
                `Variable "$${name}" of type "${String(varType)}" used in position expecting type "${String(type)}".`,
                { nodes: [def, node] },
              ),
            );
          }
        }
      },
    },
    VariableDefinition(node) {
      defs[node.variable.name.value] = node;
    },
  };
}

/** Swaps GraphQL's variable-position rule for {@link SingleValueListsRule}. */
export function useSingleValueLists(): Plugin {
  // One wrapper per validate function (there is one), not a closure per request.
  const wrapped = new WeakMap<object, (...args: never[]) => unknown>();
  return {
    onValidate({ validateFn, setValidationFn }) {
      let fn = wrapped.get(validateFn);
      if (fn === undefined) {
        const relaxed: typeof validateFn = (schema, document, rules, ...rest) =>
          validateFn(
            schema,
            document,
            rules?.map((rule: ValidationRule) =>
              rule === VariablesInAllowedPositionRule ? SingleValueListsRule : rule,
            ),
            ...rest,
          );
        wrapped.set(validateFn, relaxed);
        fn = relaxed;
      }
      setValidationFn(fn as typeof validateFn);
    },
  };
}
