import type { ObjectRef } from '@pothos/core';
import type { FhirJson } from '../fhir/fhir-json.js';
import type { ResultPage } from '../repository/tenant-repository.js';
import type { BuilderTypes, GatewayBuilder } from './builder.js';
import type { FhirObjectRef } from './fhir-types.js';

/** The GraphQL type of one resource type's connection (`PatientConnection`). */
export type ConnectionRef = ObjectRef<BuilderTypes, ResultPage>;

/** The `mode` of every edge: the search matched it (FHIR `Bundle.entry.search.mode`). */
const MATCH = 'match';

/**
 * Registers `XConnection` and `XEdge` for one resource type, shaped as on the HL7 FHIR GraphQL
 * page: `count offset pagesize first previous next last edges { mode score resource }`.
 */
export function registerConnectionType(
  builder: GatewayBuilder,
  resourceType: string,
  resource: FhirObjectRef,
): ConnectionRef {
  const edge = builder.objectRef<FhirJson>(`${resourceType}Edge`).implement({
    description: `One ${resourceType} of a ${resourceType}Connection page.`,
    fields: (t) => ({
      mode: t.string({
        nullable: true,
        description: 'Why the resource is in the result: always `match` here.',
        resolve: () => MATCH,
      }),
      score: t.float({
        nullable: true,
        description: 'Relevance; null, since the gateway does not rank results.',
        resolve: () => null,
      }),
      resource: t.field({ type: resource, nullable: true, resolve: (r) => r }),
    }),
  });
  return builder.objectRef<ResultPage>(`${resourceType}Connection`).implement({
    description: `One page of a ${resourceType} search, with cursors to the pages around it.`,
    fields: (t) => ({
      count: t.int({
        nullable: true,
        description: 'How many resources match the search. Selecting it costs one COUNT query.',
        resolve: (page) => page.total(),
      }),
      offset: t.exposeInt('offset', { nullable: true }),
      pagesize: t.exposeInt('pagesize', { nullable: true }),
      first: t.exposeString('first', {
        nullable: true,
        description: 'Cursor of the first page; pass it as `_cursor`.',
      }),
      previous: t.exposeString('previous', {
        nullable: true,
        description: 'Cursor of the page before this one; null on the first page.',
      }),
      next: t.exposeString('next', {
        nullable: true,
        description: 'Cursor of the page after this one; null on the last page.',
      }),
      last: t.string({
        nullable: true,
        description: 'Cursor of the last page. Selecting it costs one COUNT query.',
        resolve: (page) => page.last(),
      }),
      edges: t.field({
        type: [edge],
        nullable: { list: true, items: false },
        resolve: (page) => page.resources,
      }),
    }),
  });
}
