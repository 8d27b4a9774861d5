/**
 * The shared vocabulary of the transform catalogue. A transform is a pure function from one cell
 * value to the next value in its chain; `undefined` means "absent" and ends the chain.
 */

/**
 * One compiled transform step. It receives what the previous step produced (a raw database value
 * for the first step; never `null` or `undefined`, which end the chain before it runs) and returns
 * the next value, or `undefined` for "absent". A transform never throws on bad data: legacy
 * databases are full of it, and a bad cell must cost one element, not the whole resource.
 */
export type TransformFn = (value: unknown) => unknown;

/**
 * What kind of value a transform produces. The compiler checks it against the FHIR element the
 * chain feeds, so `boolean` into `birthDate` is a compile problem instead of a silently dropped
 * value.
 * - `text`: a string the leaf coerces to its primitive type (fits every primitive).
 * - `boolean`, `number`: fit only boolean / integer-or-decimal elements.
 * - `date`: a FHIR date; fits `date`, `dateTime` and string elements.
 * - `dateTime`: a FHIR dateTime; fits `dateTime`, `instant` and string elements.
 * - `HumanName`: a `{ family, given, text }` object; fits only a HumanName element.
 * - `CodeableConcept`: a `{ coding }` object; fits only a CodeableConcept element.
 * - `list`: an array of strings; fits only a primitive array written without an index (`given`),
 *   each item coerced to the element's type.
 */
export type TransformOutput =
  | 'text'
  | 'boolean'
  | 'number'
  | 'date'
  | 'dateTime'
  | 'HumanName'
  | 'CodeableConcept'
  | 'list';
