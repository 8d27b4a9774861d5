import type { FhirRole } from '../auth/principal.js';
import type { GraphiQLPageOptions } from '../web/graphiql-page.js';
import { mintDemoToken } from './demo-issuer.js';
import { GRAPHIQL_EXAMPLES } from './graphiql-examples.js';
import { HOSPITAL_A } from './hospitals.js';

/** The tenant and roles of the token GraphiQL opens with in demo mode. */
export const DEMO_GRAPHIQL_TENANT = HOSPITAL_A.clientId;
export const DEMO_GRAPHIQL_ROLES: readonly FhirRole[] = ['fhir-read', 'fhir-admin'];

/**
 * GraphiQL's page in demo mode: a fresh demo token for hospital-a in the headers of every tab (in
 * the JSON form GraphiQL's Headers editor takes), a welcome and the example queries. A token is
 * minted for each page load, since one lives at most an hour. Only `main.ts` in demo mode uses
 * this: with a configured deployment the page holds nothing.
 */
export function demoGraphiQLOptions(dataDir: string): () => Promise<GraphiQLPageOptions> {
  return async () => {
    const token = await mintDemoToken({
      dataDir,
      tenant: DEMO_GRAPHIQL_TENANT,
      roles: DEMO_GRAPHIQL_ROLES,
      subject: 'graphiql-demo-user',
    });
    const headers = JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2);
    const [first] = GRAPHIQL_EXAMPLES;
    return {
      // Yoga puts `query` into the first tab (its own welcome text when absent).
      ...(first === undefined ? {} : { query: first.query }),
      headers,
      defaultTabs: GRAPHIQL_EXAMPLES.map((example) => ({
        query: example.query,
        variables: example.variables ?? null,
        headers,
      })),
      defaultEditorToolsVisibility: 'headers',
      resetTabs: true,
    };
  };
}
