import type { Plugin } from 'graphql-yoga';

/** Largest request body accepted. @default 65536 (64 KiB) */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

function reject(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
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
          reject(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            'GraphQL requests must be sent as application/json.',
          ),
        );
        return;
      }
      const declared = request.headers.get('content-length');
      if (declared === null || !/^\d{1,12}$/.test(declared)) {
        endResponse(
          reject(411, 'LENGTH_REQUIRED', 'GraphQL requests must declare their Content-Length.'),
        );
        return;
      }
      if (Number(declared) > max) {
        endResponse(
          reject(413, 'PAYLOAD_TOO_LARGE', `Request bodies are limited to ${max} bytes.`),
        );
      }
    },
  };
}
