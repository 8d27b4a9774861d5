import type { Row } from '../db/dialect.js';
import { COLUMN_REF_PATTERN } from './mapping-schema.js';
import { collapseWhitespace, toText } from './transforms/cell-values.js';

/**
 * Templates join columns into one string: `"{nom_pac} {ap_pat_pac} {ap_mat_pac}"`. A placeholder
 * is a column reference in braces (`{nom_pac}`, or `{person.gender}` for a column of the join
 * `person`); everything else is literal text. There is no escape for braces:
 * a template is a display string, not a language.
 */

type TemplatePart = { readonly literal: string } | { readonly column: string };

/** A parsed template: the columns it reads and how to render one row. */
export interface CompiledTemplate {
  readonly columns: readonly string[];
  /**
   * Renders a row. Blank columns are skipped, whitespace runs collapse to one space and the ends
   * are trimmed; when every placeholder is blank the result is absent, so
   * `"Organization/{org_id}"` never yields a bare `"Organization/"`.
   */
  render(row: Row): string | undefined;
}

/** Parses a template, or returns why it is unusable (the message never quotes the template). */
export function parseTemplate(template: string): CompiledTemplate | { problem: string } {
  const parts: TemplatePart[] = [];
  const columns: string[] = [];
  let rest = template;
  while (rest !== '') {
    const open = rest.indexOf('{');
    const close = rest.indexOf('}');
    if (open < 0) {
      if (close >= 0) {
        return { problem: 'a template has a "}" without a matching "{"' };
      }
      parts.push({ literal: rest });
      break;
    }
    if (close >= 0 && close < open) {
      return { problem: 'a template has a "}" without a matching "{"' };
    }
    if (close < 0) {
      return { problem: 'a template has a "{" without a matching "}"' };
    }
    if (open > 0) {
      parts.push({ literal: rest.slice(0, open) });
    }
    const name = rest.slice(open + 1, close);
    if (!COLUMN_REF_PATTERN.test(name)) {
      return {
        problem:
          'a template placeholder must be a column name such as {nom_pac} or a join column such as {person.gender}',
      };
    }
    parts.push({ column: name });
    if (!columns.includes(name)) {
      columns.push(name);
    }
    rest = rest.slice(close + 1);
  }
  if (columns.length === 0) {
    return { problem: 'a template needs at least one {column} placeholder; use constant instead' };
  }
  return {
    columns,
    render(row) {
      let out = '';
      let present = false;
      for (const part of parts) {
        if ('literal' in part) {
          out += part.literal;
          continue;
        }
        const text = toText(row[part.column])?.trim();
        if (text !== undefined && text !== '') {
          out += text;
          present = true;
        }
      }
      if (!present) {
        return undefined;
      }
      const collapsed = collapseWhitespace(out);
      return collapsed === '' ? undefined : collapsed;
    },
  };
}
