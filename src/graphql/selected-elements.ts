import {
  BREAK,
  type DocumentNode,
  type GraphQLSchema,
  isUnionType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import type { ElementSelection } from '../mapping/compiled-resource.js';

/**
 * Elements every resource is built with whatever the query selects: the audit trail names the
 * patient a resource is about from `subject` or `patient` (`src/audit/reads.ts`).
 */
const ALWAYS_BUILT = ['subject', 'patient'] as const;

/** Resource type -> the top-level elements one operation document selects on it. */
export type DocumentElements = ReadonlyMap<string, ElementSelection>;

const byDocument = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, DocumentElements>>();

/**
 * For each resource type, the fields a document selects on it anywhere: in every operation and
 * fragment, whatever path reaches the type (a search, a reference's `resource`, a reverse list).
 * One set per type for the whole document, so a resource the request's loader caches is built
 * with everything any field of the request reads from it. `@skip`/`@include` are ignored (a
 * superset). A type the document never selects fields on has no entry: its resources are built
 * whole. Computed once per parsed document (Yoga reuses the document of a repeated query) and
 * cached with it; the sets are the keys the mapping caches its filtered element lists by.
 */
export function selectedElements(
  schema: GraphQLSchema,
  document: DocumentNode,
  resourceTypes: ReadonlySet<string>,
): DocumentElements {
  let cache = byDocument.get(schema);
  if (cache === undefined) {
    cache = new WeakMap();
    byDocument.set(schema, cache);
  }
  const cached = cache.get(document);
  if (cached !== undefined) {
    return cached;
  }
  const found = new Map<string, Set<string>>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (parent === null || parent === undefined || !resourceTypes.has(parent.name)) {
          return;
        }
        let fields = found.get(parent.name);
        if (fields === undefined) {
          fields = new Set(ALWAYS_BUILT);
          found.set(parent.name, fields);
        }
        fields.add(node.name.value);
      },
    }),
  );
  const result: DocumentElements = found;
  cache.set(document, result);
  return result;
}

/** The resource types a schema serves: the members of its `Resource` union. */
export function resourceTypesOf(schema: GraphQLSchema): ReadonlySet<string> {
  const union = schema.getType('Resource');
  return new Set(isUnionType(union) ? union.getTypes().map((t) => t.name) : []);
}

const followingByDocument = new WeakMap<DocumentNode, boolean>();

/**
 * Whether a document selects `resource` on a `Reference` anywhere: only then does a request read
 * a resource by id after a search or a reverse list returned it, so only then is it worth keeping
 * what those returned (`TenantRepository.keepReads`). Cached per parsed document.
 */
export function followsReferences(schema: GraphQLSchema, document: DocumentNode): boolean {
  const cached = followingByDocument.get(document);
  if (cached !== undefined) {
    return cached;
  }
  let follows = false;
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        if (node.name.value === 'resource' && typeInfo.getParentType()?.name === 'Reference') {
          follows = true;
          return BREAK;
        }
        return undefined;
      },
    }),
  );
  followingByDocument.set(document, follows);
  return follows;
}
