import type { FhirDefinitions } from '../fhir/definitions.js';
import {
  type SearchParamCapability,
  type TypeCapability,
  tenantCapabilities,
} from '../repository/tenant-capabilities.js';
import type { GatewayBuilder } from './builder.js';
import { toArgumentName } from './search-args.js';

/**
 * `tenantCapabilities`: what the caller's tenant serves, from its active mapping, so integrators
 * can ask instead of learning it from `SEARCH_PARAM_NOT_SUPPORTED`. The same data as the REST
 * CapabilityStatement (`GET /fhir/metadata`).
 */
export function registerTenantCapabilities(
  builder: GatewayBuilder,
  defs: FhirDefinitions,
  resourceTypes: readonly string[],
): void {
  const served = new Set(resourceTypes);
  const param = builder.objectRef<SearchParamCapability>('TenantSearchParam').implement({
    description: 'A search parameter the tenant maps for a resource type.',
    fields: (t) => ({
      code: t.exposeString('code', {
        nullable: false,
        description: 'The FHIR code (`birthdate`), as REST takes it.',
      }),
      argument: t.string({
        nullable: false,
        description: 'The GraphQL argument name (`-` written `_`).',
        resolve: (p) => toArgumentName(p.code),
      }),
      type: t.exposeString('type', {
        nullable: false,
        description: 'string, token, date or reference.',
      }),
      modifiers: t.exposeStringList('modifiers', {
        nullable: false,
        description: 'The modifiers it takes (`exact`, `contains`, `missing`).',
      }),
      targets: t.stringList({
        nullable: true,
        description: 'Reference parameters: the types it points at.',
        resolve: (p) => (p.targets === undefined ? null : [...p.targets]),
      }),
    }),
  });
  const type = builder.objectRef<TypeCapability>('TenantResourceCapability').implement({
    description: 'A resource type the tenant serves.',
    fields: (t) => ({
      type: t.exposeString('type', { nullable: false }),
      searchParams: t.field({
        type: [param],
        nullable: false,
        resolve: (c) => [...c.searchParams],
      }),
      searchInclude: t.exposeStringList('searchInclude', {
        nullable: false,
        description: 'REST `_include` values (`Observation:subject:Patient`).',
      }),
      searchRevInclude: t.exposeStringList('searchRevInclude', {
        nullable: false,
        description:
          'REST `_revinclude` values; in GraphQL, the reverse reference fields `XList(_reference: ...)`.',
      }),
    }),
  });
  builder.queryField('tenantCapabilities', (t) =>
    t.field({
      type: [type],
      nullable: false,
      description:
        "The resource types and search parameters of the caller's tenant, from its active mapping.",
      resolve: (_root, _args, ctx) => tenantCapabilities(ctx.repository, defs, served),
    }),
  );
}
