import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../context.js';
import { isGatewayError } from '../errors.js';
import type { WorkBudget } from '../repository/work-budget.js';

type Stringify = (result: Record<string, unknown>) => string;

/**
 * The result's JSON with `data` taken from text already written: the same text as
 * `JSON.stringify(result)`, key for key, as long as `data` is the object that text was written
 * from (a later plugin may have replaced it; then the whole result is written again).
 */
function splice(data: unknown, text: readonly string[]): Stringify {
  return (result) => {
    if (result['data'] !== data) {
      return JSON.stringify(result);
    }
    // One join of the data's pieces and what wraps them, into one flat string: every other join
    // or template around the text would copy the whole answer once more (the response's byte
    // count flattens a string made of parts).
    const parts: string[] = ['{'];
    for (const key of Object.keys(result)) {
      if (key === 'data') {
        parts.push(parts.length === 1 ? '' : ',', '"data":');
        // A loop, not a spread: a large answer has more pieces than a call takes arguments.
        for (const piece of text) {
          parts.push(piece);
        }
        continue;
      }
      const json = JSON.stringify(result[key]);
      if (json !== undefined) {
        parts.push(parts.length === 1 ? '' : ',', JSON.stringify(key), ':', json);
      }
    }
    parts.push('}');
    return parts.join('');
  };
}

/**
 * GraphQL's side of the request's work budget (`src/repository/work-budget.ts`), after execution
 * and before the audit: an operation that passed a cap while it was built answers with that one
 * `RESPONSE_TOO_LARGE` error and no data (nothing half-sent; the audit records the error), and
 * `data` is written to JSON through the budget, in slices and within the byte cap, before Yoga
 * sends it (Yoga takes the text through the result's `stringify`). The tenant's heavy-request slot, if
 * the operation took one, is given back once the text is written.
 */
export function useWorkBudget(): Plugin<GatewayContext> {
  const budgets = new WeakMap<Request, WorkBudget>();
  return {
    onExecute({ args }) {
      const ctx = args.contextValue as GatewayContext & { request?: Request };
      if (ctx.request !== undefined) {
        budgets.set(ctx.request, ctx.repository.work);
      }
    },
    async onResultProcess({ request, result, setResult }) {
      const work = budgets.get(request);
      if (
        work === undefined ||
        Array.isArray(result) ||
        !('data' in result || 'errors' in result)
      ) {
        return;
      }
      try {
        if (work.exceeded !== undefined) {
          setResult({ errors: [work.exceeded] });
          return;
        }
        const data = result.data;
        if (data === null || data === undefined) {
          return;
        }
        let text: readonly string[];
        try {
          text = await work.serializePieces(data);
        } catch (err) {
          if (isGatewayError(err, 'RESPONSE_TOO_LARGE')) {
            setResult({ errors: [work.exceeded ?? err] });
            return;
          }
          throw err;
        }
        (result as { stringify?: Stringify }).stringify = splice(data, text);
      } finally {
        work.end();
      }
    },
    onResponse({ request }) {
      // Also when a request ended without a result to process.
      budgets.get(request)?.end();
    },
  };
}
