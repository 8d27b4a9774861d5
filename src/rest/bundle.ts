import type { FhirJson } from '../fhir/fhir-json.js';

/** One entry of a searchset Bundle. */
export interface BundleEntry {
  readonly resource: FhirJson;
  /** `match`: the search matched it; `include`: an `_include`/`_revinclude`; `outcome`: a note. */
  readonly mode: 'match' | 'include' | 'outcome';
}

/** The paging links of one page, as absolute URLs. */
export interface BundleLinks {
  readonly self: string;
  readonly first?: string;
  readonly previous?: string;
  readonly next?: string;
  readonly last?: string;
}

/**
 * A FHIR R4 `searchset` Bundle: links in the order the spec lists them, `total` only when it
 * was counted, `fullUrl` as `[base]/Type/id`.
 */
export function searchsetBundle(
  baseUrl: string,
  entries: readonly BundleEntry[],
  links: BundleLinks,
  total: number | undefined,
): FhirJson {
  const link = (['self', 'first', 'previous', 'next', 'last'] as const).flatMap((relation) => {
    const url = links[relation];
    return url === undefined ? [] : [{ relation, url }];
  });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(total === undefined ? {} : { total }),
    link,
    ...(entries.length === 0
      ? {}
      : {
          entry: entries.map(({ resource, mode }) => ({
            ...(mode === 'outcome'
              ? {}
              : {
                  fullUrl: `${baseUrl}/${String(resource['resourceType'])}/${String(resource['id'])}`,
                }),
            resource,
            search: { mode },
          })),
        }),
  };
}
