import type { GatewayContext } from '../context.js';
import { gatewayError } from '../errors.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { FhirJson } from '../fhir/fhir-json.js';
import type { ListLimits } from '../repository/search-request.js';
import type { ResultPage } from '../repository/tenant-repository.js';
import type { GatewayBuilder } from './builder.js';
import type { ConnectionRef } from './connection.js';
import type { FhirTypeRefs } from './fhir-types.js';
import { connectionPage } from './resources.js';
import {
  assertWhole,
  pagingArgs,
  type SearchArgument,
  searchArgumentsOf,
  searchFieldArgs,
  toArgumentName,
  toListPage,
  toParsedSearch,
} from './search-args.js';

/** Everything one reverse-reference field needs at request time. */
interface ReverseField {
  /** The searched type (`Observation`). */
  readonly resourceType: string;
  /** The type of the parent whose id the references must hold (`Patient`). */
  readonly targetType: string;
  /** Reference parameter codes of `resourceType` that R4 allows to point at `targetType`. */
  readonly codes: ReadonlySet<string>;
  readonly searchArgs: readonly SearchArgument[];
  readonly limits: ListLimits;
}

/**
 * The `_reference` code of a reverse field, checked: the caller's tenant must map the source type
 * (else its error), and the code must point at the parent's type.
 */
function referenceCode(
  args: Record<string, unknown>,
  ctx: GatewayContext,
  field: ReverseField,
): string {
  const { resourceType, targetType } = field;
  ctx.repository.resource(resourceType);
  const code = String(args['_reference']);
  if (!field.codes.has(code)) {
    throw gatewayError(
      'BAD_USER_INPUT',
      `_reference ${toArgumentName(code)} of ${resourceType} cannot point at a ${targetType}.`,
      { argument: '_reference' },
    );
  }
  return code;
}

function reverseList(
  parent: FhirJson,
  args: Record<string, unknown>,
  ctx: GatewayContext,
  field: ReverseField,
): Promise<FhirJson[]> | FhirJson[] {
  const { resourceType, targetType, limits } = field;
  const code = referenceCode(args, ctx, field);
  const page = toListPage(args, limits);
  const whole = typeof args['_count'] !== 'number';
  if (page.offset + page.count > limits.maxCount + (whole ? 1 : 0)) {
    throw gatewayError(
      'BAD_USER_INPUT',
      `In a reverse reference list, _offset + _count must be at most ${limits.maxCount}.`,
      { argument: '_offset', max: limits.maxCount },
    );
  }
  const search = toParsedSearch(resourceType, field.searchArgs, args);
  const id = parent['id'];
  if (typeof id !== 'string') {
    return [];
  }
  // Called before any await, so every parent at this nesting level joins one batch. Offsets are
  // applied per parent after the fact: the batch statement pages each parent from its start.
  return ctx.repository
    .searchByReference({ search, code, targetType, countPerTarget: page.offset + page.count }, id)
    .then((list) => {
      const own = page.offset === 0 ? list : list.slice(page.offset);
      return assertWhole(own, args, limits) as FhirJson[];
    });
}

function reverseConnection(
  parent: FhirJson,
  args: Record<string, unknown>,
  ctx: GatewayContext,
  field: ReverseField,
): Promise<ResultPage> | null {
  const { resourceType, targetType, limits } = field;
  const code = referenceCode(args, ctx, field);
  const id = parent['id'];
  if (typeof id !== 'string') {
    return null;
  }
  const lookup = {
    search: toParsedSearch(resourceType, field.searchArgs, args),
    code,
    targetType,
  };
  // Cursors are bound to this parent: its id is part of the key they are checked against.
  const keyed = { ...lookup.search, key: ctx.repository.referenceSearchKey(lookup, id) };
  const page = connectionPage(args, keyed, limits);
  return ctx.repository.searchPageByReference(lookup, id, page, limits);
}

/**
 * Adds the reverse references of the HL7 FHIR GraphQL page: inside each resource type T, a field
 * `RList(_reference: <param>, <R's search parameters>, _count, _offset, _sort)` for every served
 * type R with a reference search parameter that R4 allows to point at T (inside `Patient`:
 * `ObservationList(_reference: subject)`, `ConditionList(_reference: patient)`). `_reference`
 * is an enum per R (`Observation_reference_param`), values written as GraphQL names
 * (`based_on` for `based-on`). The lists of all parents at one nesting level are read by one
 * batched statement (per request DataLoader keyed by R, parameter and arguments).
 */
export function registerReverseReferences(
  builder: GatewayBuilder,
  refs: FhirTypeRefs,
  connections: ReadonlyMap<string, ConnectionRef>,
  defs: FhirDefinitions,
  limits: ListLimits,
): void {
  const served = new Set(refs.resourceTypes);
  for (const resourceType of refs.resourceTypes) {
    const params = defs
      .searchParams(resourceType)
      .filter((p) => p.type === 'reference' && (p.targets ?? []).some((t) => served.has(t)));
    if (params.length === 0) {
      continue;
    }
    const referenceParam = builder.enumType(`${resourceType}_reference_param`, {
      description: `Reference search parameters of ${resourceType}, for \`_reference\`.`,
      values: Object.fromEntries(
        params.map((p) => [
          toArgumentName(p.code),
          {
            value: p.code,
            description: `\`${p.code}\`: points at ${(p.targets ?? []).filter((t) => served.has(t)).join(', ')}.`,
          },
        ]),
      ),
    });
    const allArgs = searchArgumentsOf(defs, resourceType);
    for (const targetType of refs.resourceTypes) {
      const codes = new Set(
        params.filter((p) => (p.targets ?? []).includes(targetType)).map((p) => p.code),
      );
      if (codes.size === 0) {
        continue;
      }
      const field: ReverseField = {
        resourceType,
        targetType,
        codes,
        searchArgs: allArgs,
        limits,
      };
      builder.objectField(refs.resource(targetType), `${resourceType}List`, (t) =>
        t.field({
          type: [refs.resource(resourceType)],
          nullable: { list: true, items: false },
          description: `${resourceType} resources whose \`_reference\` parameter points at this ${targetType}; the other arguments are those of \`Query.${resourceType}List\`.`,
          args: {
            _reference: t.arg({
              type: referenceParam,
              required: true,
              description: `Which reference of ${resourceType} must point at this ${targetType}: ${[...codes].map(toArgumentName).join(', ')}.`,
            }),
            ...searchFieldArgs(t.arg, allArgs, limits, { describe: false }),
          },
          resolve: (parent, args, ctx) =>
            reverseList(parent, args as Record<string, unknown>, ctx, field),
        }),
      );
      const connection = connections.get(resourceType);
      if (connection !== undefined) {
        builder.objectField(refs.resource(targetType), `${resourceType}Connection`, (t) =>
          t.field({
            type: connection,
            nullable: true,
            description: `The ${resourceType} resources of \`${resourceType}List(_reference: ...)\`, page by page, with cursors and a total (paging and sort arguments only).`,
            args: {
              _reference: t.arg({ type: referenceParam, required: true }),
              // Paging and sort only: the search arguments again on every pair would put the
              // printed schema past what a browser introspects comfortably (see schema.test.ts).
              ...pagingArgs(t.arg, limits),
              cursor: t.arg.string({ required: false }),
              _cursor: t.arg.string({ required: false }),
            },
            resolve: (parent, args, ctx) =>
              reverseConnection(parent, args as Record<string, unknown>, ctx, field),
          }),
        );
      }
    }
  }
}
