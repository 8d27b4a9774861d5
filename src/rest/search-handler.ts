import type { GatewayContext } from '../context.js';
import { gatewayError } from '../errors.js';
import type { FhirJson } from '../fhir/fhir-json.js';
import { parseReference } from '../fhir/local-reference.js';
import { searchParamNotSupported } from '../repository/access-policy.js';
import { resolvePage, toSearchRequest } from '../repository/search-request.js';
import type { BundleEntry, BundleLinks } from './bundle.js';
import { searchsetBundle } from './bundle.js';
import { elementsToBuild, keepElements } from './elements.js';
import type { RestEnvironment } from './rest-environment.js';
import { type IncludeSpec, parseRestSearch } from './search-params.js';

/** Parameters a paging link leaves out: the cursor it sets and the offset the cursor replaces. */
const NOT_IN_LINKS = new Set(['_cursor', '_offset', '_format', '_pretty']);

/**
 * The element of `type` an `_include` parameter reads: its code in camelCase
 * (`general-practitioner` -> `generalPractitioner`), or `subject` for the `patient` parameter of
 * the many types whose `patient` is `subject.where(resolve() is Patient)`.
 */
function referenceElement(env: RestEnvironment, type: string, code: string): string | undefined {
  const camel = code.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  for (const name of code === 'patient' ? [camel, 'subject'] : [camel]) {
    if (env.defs.element(type, name) !== undefined) {
      return name;
    }
  }
  return undefined;
}

function referencesIn(value: unknown): string[] {
  if (Array.isArray(value)) {
    return value.flatMap(referencesIn);
  }
  if (value !== null && typeof value === 'object') {
    const reference = (value as FhirJson)['reference'];
    return typeof reference === 'string' ? [reference] : [];
  }
  return [];
}

/** `_include`: the resources the matches point at, read by id (one statement per type). */
function includedBy(
  ctx: GatewayContext,
  env: RestEnvironment,
  matches: readonly FhirJson[],
  spec: IncludeSpec,
  element: string,
): Promise<(FhirJson | null)[]> {
  const targets = ctx.repository.resource(spec.sourceType).referenceParams.get(spec.code);
  if (targets === undefined) {
    throw searchParamNotSupported(spec.code, spec.sourceType);
  }
  const reads: Promise<FhirJson | null>[] = [];
  for (const resource of matches) {
    for (const reference of referencesIn(resource[element])) {
      const target = parseReference(reference);
      if (
        target !== undefined &&
        targets.includes(target.resourceType) &&
        (spec.targetType === undefined || spec.targetType === target.resourceType) &&
        env.served.has(target.resourceType) &&
        ctx.repository.supports(target.resourceType)
      ) {
        // Started in one tick: every read of one type becomes one statement.
        reads.push(ctx.repository.read(target.resourceType, target.id));
      }
    }
  }
  return Promise.all(reads);
}

/** `GET [type]?...` and `POST [type]/_search`: a searchset Bundle. */
export async function searchType(
  ctx: GatewayContext,
  env: RestEnvironment,
  resourceType: string,
  params: URLSearchParams,
  baseUrl: string,
): Promise<FhirJson> {
  ctx.repository.resource(resourceType);
  const rest = parseRestSearch(resourceType, params, env.defs);
  ctx.audit.search = true;
  const includeElements = rest.include.map((spec) => {
    const element = referenceElement(env, resourceType, spec.code);
    if (element === undefined) {
      throw searchParamNotSupported(spec.code, resourceType);
    }
    return { spec, element };
  });
  for (const spec of rest.revinclude) {
    if (spec.targetType !== undefined && spec.targetType !== resourceType) {
      throw gatewayError(
        'BAD_USER_INPUT',
        `_revinclude must point at ${resourceType}, the searched type.`,
        { argument: '_revinclude' },
      );
    }
    if (!(env.defs.searchParam(spec.sourceType, spec.code)?.targets ?? []).includes(resourceType)) {
      throw gatewayError(
        'BAD_USER_INPUT',
        `_revinclude names a parameter that cannot point at ${resourceType}.`,
        { argument: '_revinclude' },
      );
    }
  }
  if (rest.elements !== undefined) {
    ctx.repository.selectElements(
      new Map([
        [
          resourceType,
          elementsToBuild(
            rest.elements,
            includeElements.map((i) => i.element),
          ),
        ],
      ]),
    );
  }

  const link = (extra: Record<string, string>): string => {
    const out = new URLSearchParams();
    for (const [name, value] of params) {
      if (!NOT_IN_LINKS.has(name) && !(name in extra)) {
        out.append(name, value);
      }
    }
    for (const [name, value] of Object.entries(extra)) {
      out.append(name, value);
    }
    const query = out.toString();
    return `${baseUrl}/${resourceType}${query === '' ? '' : `?${query}`}`;
  };
  const selfParams: Record<string, string> = {};
  if (rest.cursor !== undefined) {
    selfParams['_cursor'] = rest.cursor;
  } else if (rest.offset !== undefined) {
    selfParams['_offset'] = String(rest.offset);
  }

  if (rest.summaryCount) {
    const total = await ctx.repository.count(resourceType, rest.search.query);
    return searchsetBundle(baseUrl, [], { self: link(selfParams) }, total);
  }

  const page = resolvePage(
    { cursor: rest.cursor, count: rest.count, offset: rest.offset },
    rest.search,
    env.limits,
  );
  const cap = env.limits.maxCount;
  // The request's resource budget, as for a GraphQL operation: checked on the worst case
  // before any statement. Each match may bring one resource per single-valued `_include`
  // element, `cap` per repeating one, and `cap` per `_revinclude`.
  const perMatch =
    1 +
    includeElements.reduce(
      (sum, { element }) =>
        sum + (env.defs.element(resourceType, element)?.array === true ? cap : 1),
      0,
    ) +
    rest.revinclude.length * cap;
  const worst = page.count * perMatch;
  if (env.maxResources !== undefined && worst > env.maxResources) {
    throw gatewayError(
      'QUERY_TOO_COSTLY',
      `This search could return ${worst} resources with its includes; at most ${env.maxResources} are allowed per request. Lower _count or drop an _include or _revinclude.`,
    );
  }
  // A heavy search waits for its tenant's heavy-request slot.
  const admitted = ctx.repository.work.admit(worst);
  if (admitted !== undefined) {
    await admitted;
  }
  const result = await ctx.repository.searchPage(rest.search, page, {
    limits: env.limits,
    withTotal: rest.total,
  });
  const matches = result.resources;

  // Every include and reverse include is started before any is awaited: one statement per type.
  const included = includeElements.map(({ spec, element }) =>
    includedBy(ctx, env, matches, spec, element),
  );
  const reverse = rest.revinclude.map((spec) =>
    Promise.all(
      matches.map((m) =>
        ctx.repository.searchByReference(
          {
            search: toSearchRequest(spec.sourceType, [], []),
            code: spec.code,
            targetType: resourceType,
            countPerTarget: cap,
          },
          String(m['id']),
        ),
      ),
    ),
  );
  const includes = (await Promise.all(included)).flat();
  const reverseLists = (await Promise.all(reverse)).flat();
  const total = rest.total ? await result.total() : undefined;
  const last = rest.total ? await result.last() : null;

  const seen = new Set(matches.map((m) => `${resourceType}/${String(m['id'])}`));
  const entries: BundleEntry[] = matches.map((m) => ({
    resource: rest.elements === undefined ? m : keepElements(m, rest.elements),
    mode: 'match',
  }));
  for (const resource of [...includes, ...reverseLists.flat()]) {
    if (resource === null) {
      continue;
    }
    const key = `${String(resource['resourceType'])}/${String(resource['id'])}`;
    if (!seen.has(key)) {
      seen.add(key);
      entries.push({ resource, mode: 'include' });
    }
  }
  if (reverseLists.some((list) => list.length >= cap)) {
    entries.push({
      mode: 'outcome',
      resource: {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'warning',
            code: 'too-costly',
            details: {
              text: `_revinclude returned at most ${cap} resources per matched resource.`,
            },
          },
        ],
      },
    });
  }
  const count = String(page.count);
  const links: BundleLinks = {
    self: link(selfParams),
    ...(result.first === null ? {} : { first: link({ _count: count, _cursor: result.first }) }),
    ...(result.previous === null
      ? {}
      : { previous: link({ _count: count, _cursor: result.previous }) }),
    ...(result.next === null ? {} : { next: link({ _count: count, _cursor: result.next }) }),
    ...(last === null ? {} : { last: link({ _count: count, _cursor: last }) }),
  };
  return searchsetBundle(baseUrl, entries, links, total);
}
