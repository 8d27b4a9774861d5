import { IDENTIFIER_PATTERN } from '../db/dialect.js';
import type { ColumnUse } from './column-use.js';
import { COLUMN_REF_PATTERN } from './mapping-schema.js';
import { parseTemplate } from './template.js';

/**
 * The tables and columns a resource mapping names, read from the raw document without compiling
 * it. The checker uses this for a resource that does not compile, so the live schema is checked
 * for it in the same pass as its compile problems and one round of fixes suffices. It is lenient:
 * whatever has an unexpected shape is skipped (the compiler reports that), and only the existence
 * of tables and columns can be judged from it (no FHIR types, no transforms).
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function name(value: unknown): string | undefined {
  return typeof value === 'string' && IDENTIFIER_PATTERN.test(value) ? value : undefined;
}

/** A source table with the joins declared so far: resolves `col` and `<join>.col`. */
interface Scope {
  readonly table: string;
  readonly joins: Map<string, string>;
}

function resolve(scope: Scope, ref: unknown): { table: string; column: string } | undefined {
  if (typeof ref !== 'string' || !COLUMN_REF_PATTERN.test(ref)) {
    return undefined;
  }
  const dot = ref.indexOf('.');
  if (dot < 0) {
    return { table: scope.table, column: ref };
  }
  const table = scope.joins.get(ref.slice(0, dot));
  return table === undefined ? undefined : { table, column: ref.slice(dot + 1) };
}

/** The column uses of one raw resource mapping; `[]` when it has no usable `table`. */
export function rawColumnUses(resource: string, raw: unknown): ColumnUse[] {
  const uses: ColumnUse[] = [];
  if (!isObject(raw)) {
    return uses;
  }
  const table = name(raw['table']);
  if (table === undefined) {
    return uses;
  }
  const add = (at: { table: string; column: string } | undefined, path: string) => {
    if (at !== undefined && name(at.column) !== undefined) {
      uses.push({ table: at.table, column: at.column, resource, path, transforms: [] });
    }
  };

  const withJoins = (source: string, joins: unknown): Scope => {
    const scope: Scope = { table: source, joins: new Map() };
    for (const join of list(joins)) {
      if (!isObject(join)) {
        continue;
      }
      const joined = name(join['table']);
      const as = typeof join['as'] === 'string' ? join['as'] : undefined;
      if (joined === undefined || as === undefined) {
        continue;
      }
      const path = `join:${as}`;
      for (const [its, ref] of Object.entries(isObject(join['on']) ? join['on'] : {})) {
        add({ table: joined, column: its }, path);
        add(resolve(scope, ref), path);
      }
      filters(join['where'], { table: joined, joins: new Map() });
      scope.joins.set(as, joined);
    }
    return scope;
  };

  const filters = (where: unknown, scope: Scope): void => {
    for (const filter of list(where)) {
      if (!isObject(filter)) {
        continue;
      }
      if ('column' in filter) {
        add(resolve(scope, filter['column']), 'where');
      }
      for (const key of ['exists', 'notExists']) {
        const related = filter[key];
        const other = isObject(related) ? name(related['table']) : undefined;
        if (!isObject(related) || other === undefined) {
          continue;
        }
        for (const [its, ref] of Object.entries(isObject(related['on']) ? related['on'] : {})) {
          add({ table: other, column: its }, 'exists');
          add(resolve(scope, ref), 'exists');
        }
        filters(related['where'], { table: other, joins: new Map() });
      }
      for (const branch of list(filter['anyOf'])) {
        filters(branch, scope);
      }
    }
  };

  const conditions = (conditionList: unknown, scope: Scope, path: string): void => {
    for (const condition of list(conditionList)) {
      if (isObject(condition)) {
        add(resolve(scope, condition['column']), `if:${path}`);
      }
    }
  };

  const leaf = (source: unknown, scope: Scope, path: string): void => {
    if (typeof source === 'string') {
      add(resolve(scope, source), path);
      return;
    }
    if (!isObject(source)) {
      return;
    }
    if (typeof source['column'] === 'string') {
      add(resolve(scope, source['column']), path);
    }
    if (typeof source['template'] === 'string') {
      const parsed = parseTemplate(source['template']);
      for (const column of 'columns' in parsed ? parsed.columns : []) {
        add(resolve(scope, column), path);
      }
    }
    const reference = source['reference'];
    if (isObject(reference)) {
      add(resolve(scope, reference['column']), `${path}.reference`);
      add(resolve(scope, reference['display']), `${path}.display`);
    }
    for (const rule of list(source['when'])) {
      if (isObject(rule)) {
        conditions(rule['if'], scope, path);
        leaf(rule['use'], scope, path);
      }
    }
    if ('else' in source) {
      leaf(source['else'], scope, path);
    }
  };

  const main = withJoins(table, raw['joins']);
  const id = raw['id'];
  add(resolve(main, isObject(id) ? id['column'] : id), 'id');
  filters(raw['where'], main);

  const elements = (entries: unknown, scope: Scope, prefix: string): void => {
    for (const [path, source] of Object.entries(isObject(entries) ? entries : {})) {
      const at = `${prefix}${path}`;
      const rows = isObject(source) ? source['rows'] : undefined;
      const child = isObject(rows) ? name(rows['table']) : undefined;
      if (isObject(source) && isObject(rows) && child !== undefined) {
        const childScope = withJoins(child, rows['joins']);
        const key = name(rows['key']);
        if (key !== undefined) {
          add({ table: child, column: key }, 'key');
        }
        if (rows['parentKey'] !== undefined) {
          add(resolve(scope, rows['parentKey']), 'key');
        }
        filters(rows['where'], childScope);
        for (const order of list(rows['orderBy'])) {
          if (isObject(order)) {
            add(resolve(childScope, order['column']), 'orderBy');
          }
        }
        elements(source['elements'], childScope, `${at}.`);
        continue;
      }
      const items = isObject(source) ? (source['delimited'] ?? source['json']) : undefined;
      if (isObject(source) && isObject(items)) {
        add(resolve(scope, items['column']), at);
        // Item elements read `$value` / `$.path` of the item or plain row columns.
        for (const [itemPath, item] of Object.entries(
          isObject(source['elements']) ? source['elements'] : {},
        )) {
          leaf(item, scope, `${at}.${itemPath}`);
        }
        continue;
      }
      leaf(source, scope, at);
    }
  };
  elements(raw['elements'], main, '');

  for (const [path, variants] of Object.entries(isObject(raw['choices']) ? raw['choices'] : {})) {
    for (const variant of list(variants)) {
      if (isObject(variant)) {
        conditions(variant['if'], main, path);
      }
    }
  }
  for (const [i, item] of list(raw['fanOut']).entries()) {
    if (isObject(item)) {
      add(resolve(main, item['skipColumn']), `fanOut:${String(item['key'] ?? i)}`);
      elements(item['elements'], main, `fanOut[${i}].`);
    }
  }
  for (const [code, param] of Object.entries(isObject(raw['search']) ? raw['search'] : {})) {
    if (!isObject(param) || param['rows'] !== undefined) {
      continue;
    }
    for (const column of [param['column'], ...list(param['columns'])]) {
      add(resolve(main, column), `search:${code}`);
    }
  }
  return uses;
}
