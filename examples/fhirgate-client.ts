/**
 * A typed fhirgate client in 80 lines: `fetch`, a bearer token and the typed documents that
 * `npm run schema` generates from `examples/operations/*.graphql` into `examples/generated/`.
 * Variables and results are checked by tsc against the gateway's schema; a front end can copy
 * this file or hand the same documents to urql or Apollo, which accept `TypedDocumentNode`.
 *
 *     const client = createFhirgateClient({ url, token: () => session.accessToken });
 *     const { data } = await client.request(PatientByIdDocument, { id: '1' });
 *     data?.Patient?.birthDate; // string | null | undefined
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

/** A GraphQL error as fhirgate sends it: `extensions.code` is always set and stable. */
export interface FhirgateError {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: { readonly code?: string; readonly [key: string]: unknown };
}

/** One response: `data` may be partial when field-level `errors` are present. */
export interface FhirgateResponse<TData> {
  /** HTTP status: 200, or 401/403/503 for request-level failures (see README "Errors"). */
  readonly status: number;
  readonly data?: TData | null;
  readonly errors?: readonly FhirgateError[];
}

export interface FhirgateClientOptions {
  /** The gateway's GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  readonly url: string | URL;
  /** The current access token (Keycloak, or `npm run -s token` for the demo). */
  readonly token: () => string | Promise<string>;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export interface FhirgateClient {
  request<TData, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: TVariables,
  ): Promise<FhirgateResponse<TData>>;
}

export function createFhirgateClient(options: FhirgateClientOptions): FhirgateClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  // Printing is the expensive part of a request on the client; each document is printed once.
  const printed = new WeakMap<object, string>();
  return {
    async request<TData, TVariables extends Record<string, unknown>>(
      document: TypedDocumentNode<TData, TVariables>,
      variables: TVariables,
    ): Promise<FhirgateResponse<TData>> {
      let query = printed.get(document);
      if (query === undefined) {
        query = print(document);
        printed.set(document, query);
      }
      // Always POST: a GET would put the query and its PHI search values into proxy logs.
      const response = await doFetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          authorization: `Bearer ${await options.token()}`,
        },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      try {
        const body = JSON.parse(text) as Omit<FhirgateResponse<TData>, 'status'>;
        return { status: response.status, data: body.data, errors: body.errors };
      } catch {
        // A proxy's HTML page, or an empty 503 while the gateway starts: no GraphQL body.
        return { status: response.status, errors: [{ message: `HTTP ${response.status}` }] };
      }
    },
  };
}
