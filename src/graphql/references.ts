import type { GatewayContext } from '../context.js';
import { gatewayError } from '../errors.js';
import type { FhirJson } from '../fhir/fhir-json.js';
import { parseReference } from '../fhir/local-reference.js';
import { resourceNotSupported } from '../repository/access-policy.js';
import type { GatewayBuilder } from './builder.js';
import type { FhirTypeRefs } from './fhir-types.js';

/**
 * The resource a reference points at. Synchronous when the request already holds it (a search or
 * an earlier level loaded it), else through the request's `byId` loader. Throws (or rejects)
 * with the client's error.
 */
function resolveReference(
  reference: FhirJson,
  args: { optional?: boolean | null; type?: string | null },
  ctx: GatewayContext,
  served: ReadonlySet<string>,
): FhirJson | null | Promise<FhirJson | null> {
  const target = parseReference(reference['reference']);
  if (target === undefined) {
    return null;
  }
  // `type` filters, it does not assert: a reference to another type is simply not followed.
  if (args.type != null && args.type !== target.resourceType) {
    return null;
  }
  const optional = args.optional === true;
  if (!served.has(target.resourceType) || !ctx.repository.supports(target.resourceType)) {
    if (optional) {
      return null;
    }
    throw resourceNotSupported(target.resourceType);
  }
  const known = ctx.repository.known(target.resourceType, target.id);
  if (known !== undefined) {
    return existing(known, target.resourceType, optional);
  }
  // Every reference of one type at one nesting level lands in the same batch: one statement.
  return ctx.repository
    .read(target.resourceType, target.id)
    .then((found) => existing(found, target.resourceType, optional));
}

/** `resource`, unless it is missing and the reference is not optional: then REFERENCE_NOT_FOUND. */
function existing(
  resource: FhirJson | null,
  resourceType: string,
  optional: boolean,
): FhirJson | null {
  if (resource === null && !optional) {
    // The id is not echoed: it came from the tenant's data.
    throw gatewayError('REFERENCE_NOT_FOUND', `The referenced ${resourceType} does not exist.`, {
      resourceType,
    });
  }
  return resource;
}

/**
 * Adds `Reference.resource(optional:, type:)` as the HL7 FHIR GraphQL page defines it: the
 * referenced resource, typed as the `Resource` union (`resource { ... on Patient { id } }`).
 * Relative `Type/id` references are read through the request's repository (its by-id loaders), so all the
 * references of one type at one nesting level cost one statement. `type` only follows references
 * to that type. A reference the gateway cannot read (a type the tenant does not map, a resource
 * that does not exist) is an error, or null with `optional: true`; one it cannot follow at all
 * (absolute, contained, versioned) is null.
 */
export function registerReferenceResolution(builder: GatewayBuilder, refs: FhirTypeRefs): void {
  const served = new Set(refs.resourceTypes);
  const resourceType = builder.enumType('ResourceType', {
    description: 'The resource types this gateway serves.',
    values: refs.resourceTypes,
  });
  builder.objectField(refs.objectType('Reference'), 'resource', (t) =>
    t.field({
      type: refs.resourceUnion,
      nullable: true,
      description:
        'The referenced resource, for a relative `Type/id` reference; null for absolute or contained references.',
      args: {
        optional: t.arg.boolean({
          required: false,
          description:
            'When true, a reference that cannot be resolved gives null instead of an error.',
        }),
        type: t.arg({
          type: resourceType,
          required: false,
          description: 'Only follow the reference when it points at this resource type.',
        }),
      },
      resolve: (reference, args, ctx) => resolveReference(reference, args, ctx, served),
    }),
  );
}
