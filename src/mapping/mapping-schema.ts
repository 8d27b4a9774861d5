import { z } from 'zod';
import { IDENTIFIER_PATTERN } from '../db/dialect.js';
import { ELEMENT_PATH_PATTERN } from './fhir-path.js';
import { TransformSpecSchema } from './transforms/catalogue.js';

/**
 * The tenant mapping document, format version 1: the public contract between a hospital's legacy
 * database and the gateway. Every object is strict (an unknown key is an error, so a typo never
 * silently drops a filter) and every table and column name must be a plain SQL identifier, so
 * the document cannot carry SQL text anywhere. Semantics that need the FHIR definitions (does
 * `name[0].family` exist, is `birthdate` a Patient search parameter) are checked by
 * `compileMapping`.
 */

/** The message for a table or column name that is not a plain identifier. */
export const IDENTIFIER_MESSAGE =
  'must be a plain SQL identifier: a letter or _ then letters, digits or _, at most 64 characters (no dots, quotes, spaces or SQL)';

/** A table or column name; `pacientes.rut` and anything with quotes or spaces are rejected. */
export const IdentifierSchema = z
  .string()
  .regex(IDENTIFIER_PATTERN, { error: IDENTIFIER_MESSAGE })
  .describe('A table or column name matching ^[A-Za-z_][A-Za-z0-9_]{0,63}$.');

/** The pattern of a join name (`person`, `enc`); its columns are written `person.gender`. */
export const JOIN_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,29}$/;

/**
 * A column of the row being mapped: `gender` (the source's own table) or `person.gender` (a
 * column of the join named `person`). Both parts are plain identifiers, so no SQL can hide here.
 */
export const COLUMN_REF_PATTERN = /^([A-Za-z][A-Za-z0-9_]{0,29}\.)?[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The message for a column reference that is neither `column` nor `join.column`. */
export const COLUMN_REF_MESSAGE =
  'must be a column name (gender) or a join name and a column name (person.gender), each a plain SQL identifier';

/** A column of the source table or of one of its joins. */
export const ColumnRefSchema = z
  .string()
  .regex(COLUMN_REF_PATTERN, { error: COLUMN_REF_MESSAGE })
  .describe('A column (gender) or a column of a named join (person.gender).');

/** A literal in a filter or constant. Booleans are bound as 1/0, which every dialect accepts. */
const ScalarSchema = z.union([z.string().max(1000), z.number(), z.boolean()]);

/** The comparison operators that take one value. */
export const SCALAR_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
/** The operators that take a list of values. */
export const LIST_OPS = ['in', 'notIn'] as const;
/** The operators that take no value. */
export const NULL_OPS = ['isNull', 'notNull'] as const;

/**
 * `{ "today": 0 }`: the current date (in UTC) plus a number of days, as `YYYY-MM-DD`, taken when
 * the statement runs. `{ "column": "enddate", "op": "lt", "value": { "today": 0 } }` is "ended
 * before today".
 */
export const TodaySchema = z.strictObject({
  today: z.number().int().min(-36500).max(36500),
});

/** A comparison on one column: `{ "column": "voided", "op": "eq", "value": 0 }`. */
export const ComparisonSchema = z
  .discriminatedUnion('op', [
    z.strictObject({
      column: ColumnRefSchema,
      op: z.enum(SCALAR_OPS),
      value: z.union([ScalarSchema, TodaySchema]),
    }),
    z.strictObject({
      column: ColumnRefSchema,
      op: z.enum(LIST_OPS),
      value: z.array(ScalarSchema).min(1).max(1000),
    }),
    z.strictObject({ column: ColumnRefSchema, op: z.enum(NULL_OPS) }),
  ])
  .describe('A comparison: { column, op, value }.');

export type Comparison = z.infer<typeof ComparisonSchema>;

/** `{ "persona_id": "id_paciente" }`: a column of the named table -> a column of the row. */
const JoinOnSchema = z
  .record(IdentifierSchema, ColumnRefSchema)
  .refine((on) => Object.keys(on).length >= 1 && Object.keys(on).length <= 5, {
    error: 'on needs one to five column pairs: { "<its column>": "<column of the row>" }',
  });

/**
 * A row filter. Comparisons as above; `exists` / `notExists` require that a row of another table
 * matches (`on` pairs its columns with the row's, `where` filters it, its own plain column
 * names); `anyOf` is true when one of its lists (each ANDed) is. Filters of one list are ANDed.
 * `ne` and `notIn` follow SQL: they never match NULL cells.
 */
export type Filter =
  | Comparison
  | { readonly exists: RelatedRows }
  | { readonly notExists: RelatedRows }
  | { readonly anyOf: readonly (readonly Filter[])[] };

/** The rows `exists` and `notExists` look for. */
export interface RelatedRows {
  readonly table: string;
  readonly on: Readonly<Record<string, string>>;
  readonly where?: readonly Filter[] | undefined;
}

export const FilterSchema: z.ZodType<Filter> = z
  .lazy(() =>
    z.union([
      ComparisonSchema,
      z.strictObject({ exists: RelatedRowsSchema }),
      z.strictObject({ notExists: RelatedRowsSchema }),
      z.strictObject({ anyOf: z.array(z.array(FilterSchema).min(1).max(20)).min(1).max(10) }),
    ]),
  )
  .meta({ id: 'Filter' })
  .describe('A row filter: a comparison, exists, notExists or anyOf.');

const RelatedRowsSchema: z.ZodType<RelatedRows> = z
  .lazy(() =>
    z.strictObject({
      table: IdentifierSchema,
      on: JoinOnSchema,
      where: z.array(FilterSchema).max(20).optional(),
    }),
  )
  .meta({ id: 'RelatedRows' });

export type FilterOp = Comparison['op'];

const FilterListSchema = z.array(FilterSchema).max(50);

/**
 * A lookup: `{ "as": "person", "table": "person", "on": { "person_id": "patient_id" } }`. Its
 * columns are then `person.<column>` everywhere in the mapping. `on` pairs columns of the joined
 * table with columns of the row (the source table, or an earlier join: `person.address_id`);
 * `where` filters the joined table's own rows (plain column names) and belongs to the join, so a
 * `left` join keeps rows that have no match. A join is a lookup: it should match at most one row
 * (the checker warns when its columns are not a unique key). @default kind inner
 */
export const JoinSchema = z.strictObject({
  as: z.string().regex(JOIN_NAME_PATTERN, {
    error: 'a join name is a letter then letters, digits or _, at most 30 characters',
  }),
  table: IdentifierSchema,
  /** `inner` drops rows with no match; `left` keeps them with the join's columns NULL. */
  kind: z.enum(['inner', 'left']).optional(),
  on: JoinOnSchema,
  where: z.array(FilterSchema).max(20).optional(),
});

export type Join = z.infer<typeof JoinSchema>;

const JoinListSchema = z.array(JoinSchema).min(1).max(12);

/**
 * Conditions of a `when` rule or a choice variant, ANDed; evaluated on the row's values after it
 * is read (the same operators as filters, with the same NULL rule).
 */
export const ConditionListSchema = z.array(ComparisonSchema).min(1).max(10);

/** A list of transforms applied left to right. */
export const TransformListSchema = z
  .array(TransformSpecSchema)
  .min(1)
  .max(20)
  .meta({ id: 'TransformList' });

/** `{ "column": "rut_pac", "transform": ["trim"] }`; the bare string `"rut_pac"` is shorthand. */
export const ColumnSourceSchema = z.strictObject({
  column: ColumnRefSchema,
  transform: TransformListSchema.optional(),
});

/** `{ "constant": "official" }`: the same value in every resource. */
export const ConstantSourceSchema = z.strictObject({
  constant: z.union([z.string().min(1).max(1000), z.number(), z.boolean()]),
});

/** `{ "template": "{nom_pac} {ap_pat_pac}" }`: columns joined into one string. */
export const TemplateSourceSchema = z.strictObject({
  template: z.string().min(1).max(500),
  transform: TransformListSchema.optional(),
});

/** A resource type name such as `Patient`. */
export const ResourceTypeSchema = z
  .string()
  .regex(/^[A-Z][A-Za-z]{0,63}$/, { error: 'a resource type looks like Patient' });

/** The inside of a reference source, over a given kind of column. */
function referenceOf<C extends z.ZodType<string>>(column: C) {
  return z.strictObject({
    reference: z.strictObject({
      /** The resource type the column's ids belong to. */
      type: ResourceTypeSchema,
      /** The column holding the target's logical id. */
      column,
      /** A column whose text becomes `display`. @default none */
      display: column.optional(),
    }),
  });
}

/**
 * `{ "reference": { "type": "Patient", "column": "id_paciente" } }`: a foreign key written as a
 * FHIR Reference, `{ "reference": "Patient/<value>" }`, on a Reference element (`subject`,
 * `performer[0]`). The type must be one of the element's allowed targets.
 */
export const ReferenceSourceSchema = referenceOf(ColumnRefSchema);

/**
 * `{ "column": "orden", "direction": "desc" }`. `first` puts rows whose column holds one of its
 * values before all others (`"first": ["SAME-AS"]`), then the direction applies.
 */
export const OrderBySchema = z.strictObject({
  column: ColumnRefSchema,
  /** @default 'asc' */
  direction: z.enum(['asc', 'desc']).optional(),
  first: z.array(ScalarSchema).min(1).max(20).optional(),
});

/** The child table of a one-to-many element. */
export const ChildTableSchema = z.strictObject({
  table: IdentifierSchema,
  /** The child's column that holds the parent's `parentKey` value (by default the parent's id). */
  key: IdentifierSchema,
  /**
   * The parent row's column the child rows hang from: `concept_id` for codings of an obs's
   * concept. @default the parent's id column
   */
  parentKey: ColumnRefSchema.optional(),
  /** Lookups of the child rows; their columns are `<as>.<column>` in the child's elements. */
  joins: JoinListSchema.optional(),
  where: FilterListSchema.optional(),
  /** Item order inside one parent, after the key. @default storage order */
  orderBy: z.array(OrderBySchema).min(1).max(10).optional(),
});

/** An element path such as `name[0].family`; checked against the definitions at compile time. */
export const ElementPathSchema = z.string().regex(ELEMENT_PATH_PATTERN, {
  error: 'an element path is JSON names joined by dots, e.g. name[0].family or telecom',
});

/** A leaf source: a column, a constant, a template or a reference. */
export const LeafSourceSchema = z.union([
  ColumnRefSchema,
  ColumnSourceSchema,
  ConstantSourceSchema,
  TemplateSourceSchema,
  ReferenceSourceSchema,
]);

/**
 * Conditional values: `{ "when": [{ "if": [...], "use": <source> }, ...], "else": <source> }`.
 * The first rule whose conditions all hold gives the value; none holding, `else` does (or
 * nothing). Every branch feeds the same element.
 */
export const WhenSourceSchema = z.strictObject({
  when: z
    .array(z.strictObject({ if: ConditionListSchema, use: LeafSourceSchema }))
    .min(1)
    .max(20),
  else: LeafSourceSchema.optional(),
});

/** What an element of a child row can be: everything except another `rows`. */
export const ChildElementSourceSchema = z.union([LeafSourceSchema, WhenSourceSchema]);

/** `{ "rows": { table, key, ... }, "elements": { ... } }`: one array item per child row. */
export const RowsSourceSchema = z.strictObject({
  rows: ChildTableSchema,
  elements: z.record(ElementPathSchema, ChildElementSourceSchema),
});

/**
 * Inside a `delimited` or `json` element, a value of the current item: `$value` is the item itself
 * (one part of the delimited cell, or one JSON array entry), `$.a.b` a property path into a JSON
 * object item.
 */
export const ItemAccessorSchema = z
  .string()
  .regex(/^\$(value|(\.[A-Za-z_][A-Za-z0-9_]{0,63}){1,8})$/, {
    error: 'an item value is $value or a JSON path such as $.numero or $.contacto.tipo',
  });

/** A row column or an item value. */
const ItemColumnSchema = z.union([IdentifierSchema, ItemAccessorSchema]);

/** What an element of a `delimited` or `json` item can be: item values, row columns, constants. */
export const ItemElementSourceSchema = z.union([
  IdentifierSchema,
  ItemAccessorSchema,
  z.strictObject({ column: ItemColumnSchema, transform: TransformListSchema.optional() }),
  ConstantSourceSchema,
  TemplateSourceSchema,
  referenceOf(ItemColumnSchema),
]);

/** The separator of a delimited cell. */
const SeparatorSchema = z.string().min(1).max(5);

/**
 * `{ "delimited": { "column": "alergias", "separator": ";" }, "elements": { ... } }`: one array
 * item per non-empty part of a delimited cell; `$value` in the elements is the part.
 */
export const DelimitedSourceSchema = z.strictObject({
  delimited: z.strictObject({
    column: IdentifierSchema,
    /** What separates the parts. @default ',' */
    separator: SeparatorSchema.optional(),
  }),
  elements: z.record(ElementPathSchema, ItemElementSourceSchema),
});

/**
 * `{ "json": { "column": "telefonos_json" }, "elements": { "value": "$.numero" } }`: one array
 * item per entry of a JSON array kept in one cell. Text that is not a JSON array gives no items.
 */
export const JsonSourceSchema = z.strictObject({
  json: z.strictObject({ column: IdentifierSchema }),
  elements: z.record(ElementPathSchema, ItemElementSourceSchema),
});

/** What feeds one element. */
export const ElementSourceSchema = z
  .union([
    ColumnRefSchema,
    ColumnSourceSchema,
    ConstantSourceSchema,
    TemplateSourceSchema,
    ReferenceSourceSchema,
    WhenSourceSchema,
    RowsSourceSchema,
    DelimitedSourceSchema,
    JsonSourceSchema,
  ])
  .describe(
    'A column name, or exactly one of column, constant, template, reference, when, rows, delimited or json.',
  );

/** The id column; the bare string `"id_paciente"` means a string id. */
export const IdSchema = z.union([
  IdentifierSchema,
  z.strictObject({
    column: IdentifierSchema,
    /** `integer` lets the gateway refuse non-numeric ids without asking the database. @default 'string' */
    type: z.enum(['integer', 'string']).optional(),
  }),
]);

/** A search parameter code, e.g. `family`, `address-city`, `_id`. */
export const SearchCodeSchema = z
  .string()
  .regex(/^[_a-z][a-z0-9-]{0,63}$/, { error: 'a search parameter code looks like family or _id' });

/**
 * How one search parameter reads the database. Which keys apply depends on the parameter's type
 * in the definitions (string, token, date, reference), so that is checked at compile time.
 */
export const SearchParamSchema = z
  .strictObject({
    /** The column searched (of the source, a join, or with `rows` of the child table). */
    column: ColumnRefSchema.optional(),
    /** Several columns, ORed (family over both surnames; every mapped variant of a choice). */
    columns: z.array(ColumnRefSchema).min(1).max(10).optional(),
    /** The path of a `rows` element: search its child table through `EXISTS`. */
    rows: ElementPathSchema.optional(),
    /** String parameters: `word` also matches the start of any word in the column. @default 'start' */
    match: z.enum(['start', 'word']).optional(),
    /** Token parameters: the code system of the column's codes. */
    system: z.string().min(1).max(500).optional(),
    /**
     * Reference parameters: the resource type the column's ids belong to. Needed only when the
     * parameter has several targets and no reference element reads the same column.
     */
    type: ResourceTypeSchema.optional(),
    /**
     * Token parameters of a fan-out resource: match the item key, or the codings its constants
     * write under the element named like the parameter (`code.coding[0]`), instead of a column.
     */
    fanOutKey: z.literal(true).optional(),
    /** Token parameters: FHIR code -> the database values that mean it. */
    map: z
      .record(
        z.string().min(1).max(200),
        z
          .array(z.union([z.string(), z.number()]))
          .min(1)
          .max(50),
      )
      .optional(),
  })
  .describe('How one search parameter reads the database; which keys apply depends on its type.');

/**
 * The key of a fan-out item: letters, digits and dots, with at most one inner `-` (LOINC codes
 * such as `8302-2`). The item's resource id is `<row id>-<key>`, so keys keep ids valid FHIR ids.
 */
export const FAN_OUT_KEY_PATTERN = /^[A-Za-z0-9.]{1,20}(-[A-Za-z0-9.]{1,20})?$/;

/** A value of `skipWhen`: NULL, a number or a string. */
const SkipValueSchema = z.union([z.null(), z.number(), z.string().max(100)]);

/**
 * One resource of a wide row: `{ "key": "8302-2", "elements": { ... }, "skipColumn": "talla_cm" }`.
 * Its elements are added to the resource mapping's shared `elements`.
 */
export const FanOutItemSchema = z.strictObject({
  key: z.string().regex(FAN_OUT_KEY_PATTERN, {
    error: 'a fan-out key is letters, digits and dots, with at most one inner "-" (8302-2)',
  }),
  /** The item's own elements, on top of the shared ones. Leaf sources only. */
  elements: z.record(ElementPathSchema, ChildElementSourceSchema),
  /** The column whose value decides whether the row has this item at all. @default none */
  skipColumn: ColumnRefSchema.optional(),
  /** Values of `skipColumn` that mean "no item". @default [null, 0, ""] */
  skipWhen: z.array(SkipValueSchema).min(1).max(20).optional(),
});

/** The mapping of one resource type. */
/**
 * `{ "type": "Quantity", "if": [...] }`: one variant of a choice element and when a row takes it.
 * The variant's elements are mapped as usual (`valueQuantity.value`).
 */
export const ChoiceVariantSchema = z.strictObject({
  /** The variant's type as in its element name: `Quantity` for `valueQuantity`. */
  type: z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/, {
    error: 'a variant type looks like Quantity, CodeableConcept, string or dateTime',
  }),
  /** When a row takes this variant; absent: always (a last, default variant). */
  if: ConditionListSchema.optional(),
});

/** A choice element path: `value[x]`, `onset[x]`, `component[0].value[x]`. */
export const CHOICE_PATH_PATTERN =
  /^([a-z][A-Za-z0-9]{0,63}(\[(0|[1-9][0-9]?)\])?\.){0,8}[a-z][A-Za-z0-9]{0,63}\[x\]$/;

export const ResourceMappingSchema = z
  .strictObject({
    table: IdentifierSchema,
    id: IdSchema,
    /** Lookups of the source table, in order; a join's `on` may use earlier joins. */
    joins: JoinListSchema.optional(),
    where: FilterListSchema.optional(),
    /**
     * Choice elements whose variant depends on the row: the first variant whose `if` holds is
     * the row's, and only its elements are written (each resource carries at most one variant).
     */
    choices: z
      .record(
        z.string().regex(CHOICE_PATH_PATTERN, {
          error: 'a choice element is written with [x]: value[x], onset[x], deceased[x]',
        }),
        z.array(ChoiceVariantSchema).min(1).max(10),
      )
      .optional(),
    elements: z.record(ElementPathSchema, ElementSourceSchema),
    /**
     * One wide row -> several resources, one per item (vital signs: height, weight, ...). Each
     * resource's id is `<row id>-<key>`; `elements` are shared by all items. @default none
     */
    fanOut: z.array(FanOutItemSchema).min(1).max(50).optional(),
    search: z.record(SearchCodeSchema, SearchParamSchema).optional(),
  })
  .describe('How one FHIR resource type is read from one table and its lookups.');

/** The whole document. */
export const MappingDocumentSchema = z
  .strictObject({
    /** 2 adds joins, related-row filters, child keys, when rules and choices; 1 stays readable. */
    formatVersion: z.union([z.literal(1), z.literal(2)]),
    resources: z.record(ResourceTypeSchema, ResourceMappingSchema),
  })
  .describe(
    'fhirgate tenant mapping document, format version 2 (1 is read too). See docs/mapping.md.',
  );

export type MappingDocument = z.infer<typeof MappingDocumentSchema>;
export type ResourceMapping = z.infer<typeof ResourceMappingSchema>;
export type ElementSource = z.infer<typeof ElementSourceSchema>;
export type ChildElementSource = z.infer<typeof ChildElementSourceSchema>;
export type LeafSource = z.infer<typeof LeafSourceSchema>;
export type WhenSource = z.infer<typeof WhenSourceSchema>;
export type ChoiceVariant = z.infer<typeof ChoiceVariantSchema>;
export type ColumnSource = z.infer<typeof ColumnSourceSchema>;
export type ConstantSource = z.infer<typeof ConstantSourceSchema>;
export type TemplateSource = z.infer<typeof TemplateSourceSchema>;
export type RowsSource = z.infer<typeof RowsSourceSchema>;
export type ReferenceSource = z.infer<typeof ReferenceSourceSchema>;
export type ItemElementSource = z.infer<typeof ItemElementSourceSchema>;
export type DelimitedSource = z.infer<typeof DelimitedSourceSchema>;
export type JsonSource = z.infer<typeof JsonSourceSchema>;
export type ChildTable = z.infer<typeof ChildTableSchema>;
export type OrderBy = z.infer<typeof OrderBySchema>;
export type IdMapping = z.infer<typeof IdSchema>;
export type SearchParamMapping = z.infer<typeof SearchParamSchema>;
export type FanOutItem = z.infer<typeof FanOutItemSchema>;

/**
 * The JSON Schema (draft 2020-12) of the mapping document, for editors and for
 * `schema/tenant-mapping.schema.json`. It describes the input form: shorthands included.
 */
export function mappingJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(MappingDocumentSchema, { io: 'input' }) as Record<string, unknown>;
}
