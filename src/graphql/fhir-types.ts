import type {
  FieldMap,
  InputFieldMap,
  ObjectFieldBuilder,
  ObjectRef,
  UnionRef,
} from '@pothos/core';
import type { ComplexTypeDef, ElementDef, PrimitiveTypeDef } from '../fhir/definition-types.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { FhirJson } from '../fhir/fhir-json.js';
import type { BuilderTypes, GatewayBuilder } from './builder.js';
import { compileListFhirPath } from './list-fhirpath.js';
import { filterListItems, LIST_FHIRPATH_ARG, listFilterNames } from './list-field-args.js';

/** A generated FHIR object type (resource, datatype or backbone element) over FHIR JSON. */
export type FhirObjectRef = ObjectRef<BuilderTypes, FhirJson>;

/** The `Resource` union: any of the requested resource types, told apart by `resourceType`. */
export type ResourceUnionRef = UnionRef<BuilderTypes, FhirJson, FhirJson>;

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
  /** The requested resource types, in request order. */
  readonly resourceTypes: readonly string[];
  /**
   * `union Resource = Patient | Practitioner | ...` over the requested resource types: the type
   * of `contained` and of `Reference.resource`, as on the HL7 FHIR GraphQL page.
   */
  readonly resourceUnion: ResourceUnionRef;
}

/** GraphQL names: `/^[_A-Za-z][_0-9A-Za-z]*$/`, and `__` is reserved for introspection. */
const GRAPHQL_NAME = /^(?!__)[_A-Za-z][_0-9A-Za-z]*$/;

/** The element type of `contained`: any resource, exposed as the `Resource` union. */
const CONTAINED_RESOURCE_TYPE = 'Resource';

type FhirFieldBuilder = ObjectFieldBuilder<BuilderTypes, FhirJson>;

/**
 * Registers one Pothos object type per FHIR type reachable from `resourceTypes`, with fields named
 * exactly as the FHIR JSON elements and the default `parent[name]` reading, since the mapping
 * engine produces FHIR JSON. Every field is nullable, whatever the element's cardinality, so a
 * mapping that cannot fill a required element yields `null` instead of failing the whole
 * resource. Primitive-extension shadow elements (`_birthDate`) are not exposed. Repeating
 * complex elements take the list arguments of the HL7 FHIR GraphQL page (`name(use: "official",
 * _count: 1)`); `contained` is a list of the `Resource` union, limited to the requested types.
 */
export function registerFhirTypes(
  builder: GatewayBuilder,
  defs: FhirDefinitions,
  resourceTypes: readonly string[],
): FhirTypeRefs {
  const refs = new Map<string, FhirObjectRef>();
  const requested = new Set<string>();
  // Assigned once every requested resource is registered; field thunks read it in toSchema().
  let resourceUnion: ResourceUnionRef | undefined;
  const unionRef = (): ResourceUnionRef => {
    if (resourceUnion === undefined) {
      throw new Error('registerFhirTypes: the Resource union is not built yet');
    }
    return resourceUnion;
  };

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
      refs.set(typeName, implementObjectType(builder, defs, def, refs, unionRef, requested));
      for (const element of def.elements) {
        if (!isContained(element) && !defs.isPrimitive(element.type) && !refs.has(element.type)) {
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
  const members = [...requested].map((type) => refs.get(type) as FhirObjectRef);
  resourceUnion = builder.unionType('Resource', {
    description: 'Any resource type this gateway serves; select one with `... on Patient { }`.',
    types: members,
    // The JSON of a resource names its type; the object types are one per resource type.
    resolveType: (resource) => String(resource['resourceType']),
  });

  return {
    resource: (resourceType) => {
      if (!requested.has(resourceType)) {
        throw new Error(`registerFhirTypes: resource type "${resourceType}" was not requested`);
      }
      return register(resourceType);
    },
    objectType: register,
    typeNames: () => [...refs.keys()],
    resourceTypes: [...requested],
    resourceUnion,
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
  resourceUnion: () => ResourceUnionRef,
  requested: ReadonlySet<string>,
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
        fields[element.name] = isContained(element)
          ? containedField(t, resourceUnion(), requested, element)
          : elementField(t, defs, refs, def, element);
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
    if (element.array) {
      const filterNames = listFilterNames(defs, defs.complexType(type.name));
      // Undescribed: they repeat on every list field, and their meaning is the same everywhere
      // (items whose child equals the value and that `fhirpath` holds for; then skip `_offset`,
      // keep `_count`).
      const args: InputFieldMap = {
        _count: t.arg.int({ required: false }),
        _offset: t.arg.int({ required: false }),
        [LIST_FHIRPATH_ARG]: t.arg.string({ required: false }),
      };
      for (const name of filterNames) {
        args[name] = t.arg.string({ required: false });
      }
      const read = readElement<readonly FhirJson[]>(element.name);
      const compile = (expression: string) => compileListFhirPath(defs, type.name, expression);
      return t.field({
        type: [ref],
        nullable: { list: true, items: false },
        description,
        args,
        resolve: (parent, listArgs) =>
          filterListItems(read(parent), listArgs as Record<string, unknown>, filterNames, compile),
      });
    }
    return t.field({
      type: ref,
      nullable: true,
      description,
      ...elementRead<FhirJson>(element.name),
    });
  }
  const scalar = toFhirScalar(type);
  return element.array
    ? t.field({
        type: [scalar],
        nullable: { list: true, items: false },
        description,
        ...elementRead<readonly (boolean | number | string)[]>(element.name),
      })
    : t.field({
        type: scalar,
        nullable: true,
        description,
        ...elementRead<boolean | number | string>(element.name),
      });
}

/**
 * The default resolver, typed: the mapping engine emits FHIR JSON that follows the definitions,
 * so an element's value already has the shape its field declares. For list filters and the like.
 */
function readElement<T>(name: string): (parent: FhirJson) => T | null {
  return (parent) => (parent[name] ?? null) as T | null;
}

/**
 * A field that only reads its element (the field's name is the element's), marked as Pothos marks
 * the fields it exposes: Pothos then leaves the schema's field without a resolver. graphql-jit
 * reads such a property inline; with a resolver it calls it with a fresh resolve info and response
 * path for every value of every resource (about half the bytes a large read allocated, and the
 * collector's pauses with them). `readElement` stays the declared resolver for Pothos's types.
 */
function elementRead<T>(name: string) {
  return { extensions: { pothosExposedField: name }, resolve: readElement<T>(name) };
}

/**
 * `contained` as `[Resource!]`. Contained resources of a type the schema does not serve are left
 * out: the union could not name them.
 */
function containedField(
  t: FhirFieldBuilder,
  resourceUnion: ResourceUnionRef,
  requested: ReadonlySet<string>,
  element: ElementDef,
): FieldMap[string] {
  const read = readElement<readonly FhirJson[]>(element.name);
  return t.field({
    type: [resourceUnion],
    nullable: { list: true, items: false },
    description: element.short,
    resolve: (parent) =>
      read(parent)?.filter((r) => requested.has(String(r['resourceType']))) ?? null,
  });
}

function isContained(element: ElementDef): boolean {
  return element.type === CONTAINED_RESOURCE_TYPE;
}

function assertGraphQLName(name: string, where: string): void {
  if (!GRAPHQL_NAME.test(name)) {
    throw new Error(`registerFhirTypes: ${where} is not a valid GraphQL name`);
  }
}
