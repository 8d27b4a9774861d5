import type { Route } from '../gateway.js';

export interface HomePageOptions {
  /** The GraphQL endpoint; linked as GraphiQL when `graphiql` is on. */
  readonly graphqlEndpoint: string;
  readonly graphiql: boolean;
  /** Whether `/metrics` is served on this port. */
  readonly metrics: boolean;
  readonly demo: boolean;
}

/**
 * `GET /`: a browser that opens the bare address goes to GraphiQL when it is on; anything else
 * (a client without `text/html`, or GraphiQL off) gets a small page naming the endpoints. It
 * holds no data and needs no token.
 */
export function homeRoute(options: HomePageOptions): Route {
  const page = renderHomePage(options);
  return {
    method: 'GET',
    path: '/',
    handle(request) {
      const html = (request.headers.get('accept') ?? '').includes('text/html');
      if (html && options.graphiql) {
        return new Response(null, { status: 302, headers: { location: options.graphqlEndpoint } });
      }
      return new Response(page, {
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'x-content-type-options': 'nosniff',
        },
      });
    },
  };
}

export function renderHomePage(options: HomePageOptions): string {
  const endpoint = options.graphqlEndpoint;
  const items = [
    options.graphiql
      ? `<li><a href="${endpoint}">GraphiQL</a>: explore the API in the browser${options.demo ? ' (demo token prefilled)' : ''}</li>`
      : `<li><code>POST ${endpoint}</code>: the GraphQL API (GraphiQL is off)</li>`,
    '<li><a href="/healthz">/healthz</a>: the process is up</li>',
    '<li><a href="/readyz">/readyz</a>: the registry answers (what a load balancer asks)</li>',
    ...(options.metrics ? ['<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>'] : []),
  ];
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>fhirgate</title><link rel="icon" href="data:,"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>fhirgate</h1>
<p>A GraphQL gateway serving FHIR R4 from each hospital's own database.</p>
<ul>
${items.join('\n')}
</ul>
<p>Documentation: <code>README.md</code> and <code>docs/</code> in the fhirgate repository
(<code>docs/api.md</code> for the API, <code>docs/operations.md</code> for running it).</p>
</body>
</html>
`;
}
