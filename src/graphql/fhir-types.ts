import type { FieldMap, ObjectFieldBuilder, ObjectRef } from '@pothos/core';
import type { ComplexTypeDef, ElementDef, PrimitiveTypeDef } from '../fhir/definition-types.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { FhirJson, GatewayBuilder, GatewaySchemaTypes } from './builder.js';

/** The builder's schema types, with the defaults Pothos adds to `GatewaySchemaTypes`. */
type BuilderTypes = PothosSchemaTypes.ExtendDefaultTypes<GatewaySchemaTypes>;

/** A generated FHIR object type (resource, datatype or backbone element) over FHIR JSON. */
export type FhirObjectRef = ObjectRef<BuilderTypes, FhirJson>;

/** The GraphQL scalar a FHIR primitive is exposed as. */
export type FhirScalar = 'Boolean' | 'Float' | 'Int' | 'String';

/** The generated FHIR object types, for the query layer to use as field types. */
export interface FhirTypeRefs {
  /** The object type of one of the requested resource types; throws for any other name. */
  resource(resourceType: string): FhirObjectRef;
  /**
   * The object type of a datatype, backbone element or resource, registering it (and what it
   * reaches) on first use. Call before `builder.toSchema()`.
   */
  objectType(name: string): FhirObjectRef;
  /** Names of the object types registered so far, in registration order. */
  typeNames(): readonly string[];
}

/** GraphQL names: `/^[_A-Za-z][_0-9A-Za-z]*$/`, and `__` is reserved for introspection. */
const GRAPHQL_NAME = /^(?!__)[_A-Za-z][_0-9A-Za-z]*$/;

/**
 * The element type of `contained`. Exposing it needs a polymorphic `Resource` union over every
 * resource type (issue 3), so `contained` is left out of the schema for now.
 */
const CONTAINED_RESOURCE_TYPE = 'Resource';

type FhirFieldBuilder = ObjectFieldBuilder<BuilderTypes, FhirJson>;

/**
 * Registers one Pothos object type per FHIR type reachable from `resourceTypes`, with fields named
 * exactly as the FHIR JSON elements and the default `parent[name]` reading, since the mapping
 * engine produces FHIR JSON. Every field is nullable, whatever the element's cardinality, so a
 * mapping that cannot fill a required element yields `null` instead of failing the whole
 * resource. Primitive-extension shadow elements (`_birthDate`) are not exposed.
 */
export function registerFhirTypes(
  builder: GatewayBuilder,
  defs: FhirDefinitions,
  resourceTypes: readonly string[],
): FhirTypeRefs {
  const refs = new Map<string, FhirObjectRef>();
  const requested = new Set<string>();

  // A worklist instead of recursion: datatypes refer to each other in cycles
  // (Identifier.assigner -> Reference.identifier -> Identifier), and Extension nests itself.
  const register = (name: string): FhirObjectRef => {
    const pending = [name];
    while (pending.length > 0) {
      const typeName = pending.pop() as string;
      if (refs.has(typeName)) {
        continue;
      }
      const def = defs.complexType(typeName);
      refs.set(typeName, implementObjectType(builder, defs, def, refs));
      for (const element of def.elements) {
        if (isExposed(element) && !defs.isPrimitive(element.type) && !refs.has(element.type)) {
          pending.push(element.type);
        }
      }
    }
    return refs.get(name) as FhirObjectRef;
  };

  for (const resourceType of resourceTypes) {
    if (!defs.isResourceType(resourceType)) {
      throw new Error(`registerFhirTypes: "${resourceType}" is not a resource type of the extract`);
    }
    requested.add(resourceType);
    register(resourceType);
  }

  return {
    resource: (resourceType) => {
      if (!requested.has(resourceType)) {
        throw new Error(`registerFhirTypes: resource type "${resourceType}" was not requested`);
      }
      return register(resourceType);
    },
    objectType: register,
    typeNames: () => [...refs.keys()],
  };
}

/** The GraphQL scalar of a FHIR primitive, from its JSON representation. */
export function toFhirScalar(primitive: PrimitiveTypeDef): FhirScalar {
  if (primitive.json === 'boolean') {
    return 'Boolean';
  }
  if (primitive.json === 'number') {
    return primitive.integer === true ? 'Int' : 'Float';
  }
  return 'String';
}

function implementObjectType(
  builder: GatewayBuilder,
  defs: FhirDefinitions,
  def: ComplexTypeDef,
  refs: ReadonlyMap<string, FhirObjectRef>,
): FhirObjectRef {
  assertGraphQLName(def.name, def.name);
  for (const element of def.elements) {
    assertGraphQLName(element.name, `${def.name}.${element.name}`);
  }
  return builder.objectRef<FhirJson>(def.name).implement({
    description: def.description,
    // Runs during toSchema(), after registerFhirTypes has registered every reachable type.
    fields: (t) => {
      // The object type fixes the resource type, so there is nothing to read from the JSON.
      const fields: FieldMap =
        def.kind === 'resource'
          ? { resourceType: t.string({ nullable: false, resolve: () => def.name }) }
          : {};
      for (const element of def.elements) {
        if (isExposed(element)) {
          fields[element.name] = elementField(t, defs, refs, def, element);
        }
      }
      return fields;
    },
  });
}

function elementField(
  t: FhirFieldBuilder,
  defs: FhirDefinitions,
  refs: ReadonlyMap<string, FhirObjectRef>,
  owner: ComplexTypeDef,
  element: ElementDef,
): FieldMap[string] {
  // `nullable` is spelled out on every field so the builder's default cannot change the schema.
  const description = element.short;
  const type = defs.type(element.type);
  if (type === undefined) {
    throw new Error(`registerFhirTypes: ${owner.name}.${element.name} has unknown type`);
  }
  if (type.kind !== 'primitive') {
    const ref = refs.get(type.name);
    if (ref === undefined) {
      throw new Error(`registerFhirTypes: ${type.name} was not registered`);
    }
    return element.array
      ? t.field({
          type: [ref],
          nullable: { list: true, items: false },
          description,
          resolve: readElement<readonly FhirJson[]>(element.name),
        })
      : t.field({
          type: ref,
          nullable: true,
          description,
          resolve: readElement<FhirJson>(element.name),
        });
  }
  const scalar = toFhirScalar(type);
  return element.array
    ? t.field({
        type: [scalar],
        nullable: { list: true, items: false },
        description,
        resolve: readElement<readonly (boolean | number | string)[]>(element.name),
      })
    : t.field({
        type: scalar,
        nullable: true,
        description,
        resolve: readElement<boolean | number | string>(element.name),
      });
}

/**
 * The default resolver, typed: the mapping engine emits FHIR JSON that follows the definitions,
 * so an element's value already has the shape its field declares.
 */
function readElement<T>(name: string): (parent: FhirJson) => T | null {
  return (parent) => (parent[name] ?? null) as T | null;
}

function isExposed(element: ElementDef): boolean {
  return element.type !== CONTAINED_RESOURCE_TYPE;
}

function assertGraphQLName(name: string, where: string): void {
  if (!GRAPHQL_NAME.test(name)) {
    throw new Error(`registerFhirTypes: ${where} is not a valid GraphQL name`);
  }
}
