import type { GatewayContext } from '../context.js';
import { gatewayError } from '../errors.js';
import { elementsToBuild, keepElements } from './elements.js';
import { budgetedResponse } from './fhir-response.js';

const ELEMENT = /^[a-z][A-Za-z0-9]{0,63}$/;

/** HTTP validators from what the mapping put in `meta` (a version or an updated-at column). */
function validators(meta: unknown): Record<string, string> {
  if (meta === null || typeof meta !== 'object') {
    return {};
  }
  const { versionId, lastUpdated } = meta as Record<string, unknown>;
  const headers: Record<string, string> = {};
  if (typeof versionId === 'string' && /^[A-Za-z0-9\-.]{1,64}$/.test(versionId)) {
    headers['etag'] = `W/"${versionId}"`;
  }
  if (typeof lastUpdated === 'string') {
    const at = new Date(lastUpdated);
    if (!Number.isNaN(at.getTime())) {
      headers['last-modified'] = at.toUTCString();
    }
  }
  return headers;
}

/** `GET [type]/[id]`: the resource, or 404. `_elements` works as in a search. */
export async function readInstance(
  ctx: GatewayContext,
  resourceType: string,
  id: string,
  params: URLSearchParams,
): Promise<Response> {
  ctx.repository.resource(resourceType);
  const raw = params.get('_elements');
  const elements =
    raw === null
      ? undefined
      : raw
          .split(',')
          .map((e) => e.trim())
          .filter((e) => e !== '');
  if (elements?.some((e) => !ELEMENT.test(e))) {
    throw gatewayError('BAD_USER_INPUT', '_elements takes element names.', {
      argument: '_elements',
    });
  }
  if (elements !== undefined) {
    ctx.repository.selectElements(new Map([[resourceType, elementsToBuild(elements, [])]]));
  }
  const resource = await ctx.repository.read(resourceType, id);
  if (resource === null) {
    // The id is not echoed: it is whatever the client typed.
    throw gatewayError('RESOURCE_NOT_FOUND', `The ${resourceType} was not found.`);
  }
  return budgetedResponse(
    ctx.repository.work,
    elements === undefined ? resource : keepElements(resource, elements),
    200,
    validators(resource['meta']),
  );
}
