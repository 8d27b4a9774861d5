import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { clientAddress, type TrustedProxies } from '../security/client-address.js';
import { extendContext, factsOf } from './request-facts.js';

export interface RequestOriginOptions {
  readonly graphqlEndpoint: string;
  /** The FHIR REST base (`/fhir`); absent: no REST paths. */
  readonly fhirBase?: string;
  /**
   * Paths under `fhirBase` that a request without an `Authorization` header may reach
   * unauthenticated (the server-level CapabilityStatement); a request with one is checked.
   */
  readonly anonymousPaths?: ReadonlySet<string>;
  /** GraphiQL's HTML page is served (it holds no data; every operation it sends needs a token). */
  readonly graphiql: boolean;
  /** Proxies whose `X-Forwarded-For` names the client (`client-address.ts`). */
  readonly trustedProxies: TrustedProxies;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The socket peer of a request served by Node (Yoga's server context holds `req`). */
function peerAddress(serverContext: unknown): string | undefined {
  const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
  return req?.socket?.remoteAddress;
}

function wantsGraphiQL(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

/**
 * The first of the plugins in front of Yoga, for the GraphQL endpoint and the FHIR base: gives
 * the request the gateway's own id (a client could otherwise give two requests one audit id),
 * keeps a well-formed `X-Request-Id` as a correlation id, finds the client address, and says
 * whether the request needs a token. An authenticated request's answer carries the id (refusals
 * carry it from `refusal-response.ts`).
 */
export function useRequestOrigin(options: RequestOriginOptions): Plugin {
  const { fhirBase } = options;
  return {
    onRequest({ request, url, serverContext }) {
      const isGraphql = url.pathname === options.graphqlEndpoint;
      const isFhir =
        fhirBase !== undefined &&
        (url.pathname === fhirBase || url.pathname.startsWith(`${fhirBase}/`));
      if (!isGraphql && !isFhir) {
        return;
      }
      const headerId = request.headers.get('x-request-id');
      const source = clientAddress(
        peerAddress(serverContext),
        request.headers.get('x-forwarded-for'),
        options.trustedProxies,
      );
      const anonymous =
        (isGraphql && options.graphiql && wantsGraphiQL(request)) ||
        (isFhir &&
          options.anonymousPaths?.has(url.pathname) === true &&
          request.headers.get('authorization') === null);
      extendContext(serverContext, {
        origin: {
          requestId: randomUUID(),
          ...(headerId !== null && REQUEST_ID.test(headerId) ? { correlationId: headerId } : {}),
          ...(source === undefined ? {} : { source }),
          needsToken: !anonymous,
        },
      });
    },
    onResponse({ response, serverContext }) {
      const { origin, tenantSelection } = factsOf(serverContext);
      if (origin !== undefined && tenantSelection !== undefined) {
        response.headers.set('x-request-id', origin.requestId);
      }
    },
  };
}
