import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Limits on the shape of one GraphQL document, enforced before execution. */
export interface QueryLimits {
  /**
   * Field nesting. 8 fits real FHIR operations (a connection edge, a resource, a reverse
   * reference list, a CodeableConcept's coding and its code is 7) with one level to spare; the
   * boundary is tested. @default 8
   */
  readonly maxDepth: number;
  /** Aliases per document (`__typename` aliases are free). @default 15 */
  readonly maxAliases: number;
  /** Directives per document. @default 50 */
  readonly maxDirectives: number;
  /** Lexer tokens per document, counted while parsing. @default 1000 */
  readonly maxTokens: number;
  /** graphql-armor cost (objects 2, scalars 1, depth factor 1.5). @default 5000 */
  readonly maxCost: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 8,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 1000,
  maxCost: 5000,
};

const DID_YOU_MEAN = /\s*Did you mean[^?]*\?/g;

/**
 * graphql-armor's protections with limits that do not reveal themselves (`exposeLimits: false`),
 * and field suggestions removed everywhere: armor hides them in validation errors, and the
 * `onResultProcess` step below strips the ones graphql-js adds while coercing variables.
 */
export function useQueryLimits(limits: QueryLimits = DEFAULT_QUERY_LIMITS): Plugin[] {
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: limits.maxDepth, exposeLimits: false, flattenFragments: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: false, allowList: ['__typename'] },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: false },
    maxTokens: { n: limits.maxTokens, exposeLimits: false },
    costLimit: { maxCost: limits.maxCost, exposeLimits: false },
    blockFieldSuggestion: { enabled: true, mask: '[Suggestion hidden]' },
  }) as Plugin;
  const stripSuggestions: Plugin = {
    onResultProcess({ result }) {
      const results = Array.isArray(result) ? result : [result];
      for (const r of results) {
        const errors = (r as { errors?: GraphQLError[] }).errors;
        for (const error of errors ?? []) {
          if (DID_YOU_MEAN.test(error.message)) {
            // GraphQLError's message is writable; the rest of the error stays as it was.
            (error as { message: string }).message = error.message.replace(DID_YOU_MEAN, '');
          }
          DID_YOU_MEAN.lastIndex = 0;
        }
      }
    },
  };
  return [armor, stripSuggestions];
}
