import { type ASTNode, type DocumentNode, Kind, print, visit } from 'graphql';

const PLACEHOLDER = { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: '_' } } as const;

/**
 * The GraphQL document as the audit's query entity names it: its text with every literal value
 * (strings, numbers, booleans) replaced by `$_`, so a search's parameters (a name, a birth
 * date, an identifier) never reach the audit trail while what was searched, and how, does.
 * Variables' values are not in the document anyway. Enum values stay: they come from the
 * schema, not from a patient. Bounded by the token limit on documents.
 */
export function maskedOperation(document: DocumentNode): string {
  const masked = visit(document, {
    StringValue: () => PLACEHOLDER,
    IntValue: () => PLACEHOLDER,
    FloatValue: () => PLACEHOLDER,
    BooleanValue: () => PLACEHOLDER,
  }) as ASTNode;
  return print(masked);
}
