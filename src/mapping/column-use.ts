/**
 * What a compiled mapping reads from the tenant database, column by column. The live-database
 * checker (`check-mapping.ts`) holds this list against the tenant's schema before a mapping is
 * activated: the table and column must exist, and the column's SQL type should suit what it feeds.
 */

/** One column the mapping reads, and what for. A column read for two purposes appears twice. */
export interface ColumnUse {
  /** The table or view, as written in the mapping. */
  readonly table: string;
  readonly column: string;
  /** The resource type whose mapping reads the column. */
  readonly resource: string;
  /**
   * What the column feeds. A FHIR element path as written in the mapping (`name[0].family`;
   * `telecom.value` inside a `rows`, `delimited` or `json` element; `subject.reference` for a
   * reference), or one of:
   * - `id`: the resource's id column;
   * - `key`: a child table's foreign key to the parent's id;
   * - `where`: a row filter (of the main table, a join, an `exists`, or a child table);
   * - `join:<as>`: a join's `on` column (of the joined table, or of the row it hangs from);
   * - `exists`: an `exists` / `notExists` `on` column;
   * - `if:<path>`: a column a `when` rule or a choice variant tests;
   * - `orderBy`: the item order of a child table;
   * - `search:<code>`: a search parameter;
   * - `fanOut:<key>`: the skip column of a fan-out item.
   */
  readonly path: string;
  /**
   * The FHIR type of what the column feeds: the leaf primitive (`date`, `boolean`, `integer`,
   * `decimal`, `string`, `code`, ...), `id` for ids and references (the column holds a logical
   * id), `HumanName` for `splitName` and `CodeableConcept` for `codes`. Absent for filters, keys,
   * search parameters and the source column of a `delimited` or `json` array.
   */
  readonly fhirType?: string;
  /** The transform names applied to the column, in order (empty when none). */
  readonly transforms: readonly string[];
  /**
   * For a column compared with another table's column (a join's or `exists`' `on` pair, a child
   * table's key): that other column, so the checker can hold their types against each other.
   */
  readonly pairedWith?: { readonly table: string; readonly column: string };
}

/** A column use before its table and resource are known (inside `compileFields`). */
export type FieldColumnUse = Omit<ColumnUse, 'table' | 'resource'>;
