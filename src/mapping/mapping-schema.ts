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

/** A literal in a filter or constant. Booleans are bound as 1/0, which every dialect accepts. */
const ScalarSchema = z.union([z.string().max(1000), z.number(), z.boolean()]);

/** The comparison operators that take one value. */
export const SCALAR_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
/** The operators that take a list of values. */
export const LIST_OPS = ['in', 'notIn'] as const;
/** The operators that take no value. */
export const NULL_OPS = ['isNull', 'notNull'] as const;

/**
 * A structured row filter: `{ "column": "voided", "op": "eq", "value": 0 }`. Filters of one list
 * are ANDed. `ne` and `notIn` follow SQL: they never match NULL cells.
 */
export const FilterSchema = z
  .discriminatedUnion('op', [
    z.strictObject({ column: IdentifierSchema, op: z.enum(SCALAR_OPS), value: ScalarSchema }),
    z.strictObject({
      column: IdentifierSchema,
      op: z.enum(LIST_OPS),
      value: z.array(ScalarSchema).min(1).max(1000),
    }),
    z.strictObject({ column: IdentifierSchema, op: z.enum(NULL_OPS) }),
  ])
  .describe('A row filter: { column, op, value }. Filters of one list are ANDed.');

export type Filter = z.infer<typeof FilterSchema>;
export type FilterOp = Filter['op'];

const FilterListSchema = z.array(FilterSchema).max(50);

/** A list of transforms applied left to right. */
export const TransformListSchema = z
  .array(TransformSpecSchema)
  .min(1)
  .max(20)
  .meta({ id: 'TransformList' });

/** `{ "column": "rut_pac", "transform": ["trim"] }`; the bare string `"rut_pac"` is shorthand. */
export const ColumnSourceSchema = z.strictObject({
  column: IdentifierSchema,
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
export const ReferenceSourceSchema = referenceOf(IdentifierSchema);

/** `{ "column": "orden", "direction": "desc" }`. */
export const OrderBySchema = z.strictObject({
  column: IdentifierSchema,
  /** @default 'asc' */
  direction: z.enum(['asc', 'desc']).optional(),
});

/** The child table of a one-to-many element. */
export const ChildTableSchema = z.strictObject({
  table: IdentifierSchema,
  /** The child's foreign-key column that holds the parent's id. */
  key: IdentifierSchema,
  where: FilterListSchema.optional(),
  /** Item order inside one parent, after the key. @default storage order */
  orderBy: z.array(OrderBySchema).min(1).max(10).optional(),
});

/** An element path such as `name[0].family`; checked against the definitions at compile time. */
export const ElementPathSchema = z.string().regex(ELEMENT_PATH_PATTERN, {
  error: 'an element path is JSON names joined by dots, e.g. name[0].family or telecom',
});

/** What an element of a child row can be: everything except another `rows`. */
export const ChildElementSourceSchema = z.union([
  IdentifierSchema,
  ColumnSourceSchema,
  ConstantSourceSchema,
  TemplateSourceSchema,
  ReferenceSourceSchema,
]);

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
    IdentifierSchema,
    ColumnSourceSchema,
    ConstantSourceSchema,
    TemplateSourceSchema,
    ReferenceSourceSchema,
    RowsSourceSchema,
    DelimitedSourceSchema,
    JsonSourceSchema,
  ])
  .describe(
    'A column name, or exactly one of column, constant, template, reference, rows, delimited or json.',
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
    /** The column searched. */
    column: IdentifierSchema.optional(),
    /** Several columns, ORed (family over both surnames). */
    columns: z.array(IdentifierSchema).min(1).max(10).optional(),
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
  skipColumn: IdentifierSchema.optional(),
  /** Values of `skipColumn` that mean "no item". @default [null, 0, ""] */
  skipWhen: z.array(SkipValueSchema).min(1).max(20).optional(),
});

/** The mapping of one resource type. */
export const ResourceMappingSchema = z
  .strictObject({
    table: IdentifierSchema,
    id: IdSchema,
    where: FilterListSchema.optional(),
    elements: z.record(ElementPathSchema, ElementSourceSchema),
    /**
     * One wide row -> several resources, one per item (vital signs: height, weight, ...). Each
     * resource's id is `<row id>-<key>`; `elements` are shared by all items. @default none
     */
    fanOut: z.array(FanOutItemSchema).min(1).max(50).optional(),
    search: z.record(SearchCodeSchema, SearchParamSchema).optional(),
  })
  .describe('How one FHIR resource type is read from one table.');

/** The whole document. */
export const MappingDocumentSchema = z
  .strictObject({
    formatVersion: z.literal(1),
    resources: z.record(ResourceTypeSchema, ResourceMappingSchema),
  })
  .describe('fhirgate tenant mapping document, format version 1. See docs/mapping.md.');

export type MappingDocument = z.infer<typeof MappingDocumentSchema>;
export type ResourceMapping = z.infer<typeof ResourceMappingSchema>;
export type ElementSource = z.infer<typeof ElementSourceSchema>;
export type ChildElementSource = z.infer<typeof ChildElementSourceSchema>;
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
