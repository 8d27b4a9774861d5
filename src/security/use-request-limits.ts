import type { Plugin } from 'graphql-yoga';
import { type ErrorCode, httpStatusOf, operationOutcomeFor } from '../errors.js';

/** Largest request body accepted. @default 65536 (64 KiB) */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** The GraphQL error shape every failure has: a stable code and its FHIR OperationOutcome. */
function reject(code: ErrorCode, message: string): Response {
  const status = httpStatusOf(code) ?? 400;
  const resource = operationOutcomeFor(code, message, status);
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code, resource } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

/**
 * HTTP rules for the GraphQL endpoint, checked before anything is parsed: a JSON body only (form
 * and multipart posts are the CSRF vectors a browser sends cross-site without a preflight), with
 * a declared length at most `maxBodyBytes` (Yoga has no body limit of its own). A body longer
 * than its declared length is cut by Node's HTTP parser, so the declared length bounds what is read.
 */
export function useRequestLimits(options: {
  readonly graphqlEndpoint: string;
  readonly maxBodyBytes?: number;
}): Plugin {
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return {
    onRequest({ request, url, endResponse }) {
      if (url.pathname !== options.graphqlEndpoint || request.method !== 'POST') {
        return;
      }
      const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json' && type !== 'application/graphql-response+json') {
        endResponse(
          reject('UNSUPPORTED_MEDIA_TYPE', 'GraphQL requests must be sent as application/json.'),
        );
        return;
      }
      const declared = request.headers.get('content-length');
      if (declared === null || !/^\d{1,12}$/.test(declared)) {
        endResponse(
          reject('LENGTH_REQUIRED', 'GraphQL requests must declare their Content-Length.'),
        );
        return;
      }
      if (Number(declared) > max) {
        endResponse(reject('PAYLOAD_TOO_LARGE', `Request bodies are limited to ${max} bytes.`));
      }
    },
  };
}
