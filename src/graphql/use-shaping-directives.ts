import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isGatewayError } from '../errors.js';
import { shapeData } from './shape-result.js';
import { ShapingDirectivesRule } from './shaping-directives.js';
import { shapingOf } from './shaping-plan.js';

/**
 * `@flatten`, `@first`, `@singleton` and `@slice`: validated with the document, applied to the
 * execution result. An operation that uses them runs a copy of its document with the hidden
 * fields shaping reads (`shaping-plan.ts`); whatever executes it (graphql-jit included) answers
 * as usual, and the shaped result replaces the answer. The new result object has no
 * `stringify` of graphql-jit's, which would serialize the unshaped layout. A shaping failure
 * (`@singleton` over two values) answers `data: null` with its error, after the errors
 * execution already had, so `useOperationOutcome` and the audit treat it as any other.
 */
export function useShapingDirectives(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(ShapingDirectivesRule);
    },
    onExecute({ args }) {
      const shaping = shapingOf(args.schema, args.document, args.operationName);
      if (shaping === null) {
        return;
      }
      // The executors (graphql-jit's too) read the arguments when they are called, after every
      // onExecute hook; the selected elements then see the hidden `@slice` children as well.
      args.document = shaping.document;
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) {
            return;
          }
          const executed = result as ExecutionResult;
          if (executed.data === null || executed.data === undefined) {
            setResult({ ...(executed.errors === undefined ? {} : { errors: executed.errors }) });
            return;
          }
          try {
            setResult({
              ...(executed.errors === undefined ? {} : { errors: executed.errors }),
              data: shapeData(shaping, executed.data),
            });
          } catch (error) {
            if (!isGatewayError(error)) {
              throw error;
            }
            setResult({ errors: [...(executed.errors ?? []), error], data: null });
          }
        },
      };
    },
  };
}
