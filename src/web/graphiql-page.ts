import type { GraphiQLOptions } from 'graphql-yoga';
import type { GraphiQLAssetUrls } from './graphiql-assets.js';

/** What the page adds to Yoga's GraphiQL options. */
export interface GraphiQLPageOptions extends GraphiQLOptions {
  /** The first tab's text. Yoga's GraphiQL takes it, though Yoga's option type leaves it out. */
  readonly query?: string;
  /**
   * Forget the tabs GraphiQL kept in the browser's storage, so every load starts from
   * `defaultTabs` and `headers` (the demo's: its prefilled token expires within the hour).
   */
  readonly resetTabs?: boolean;
}

/**
 * The first tab's text when nothing else is configured (in place of Yoga's welcome): how to
 * send a token, since outside the demo GraphiQL opens with no credentials.
 */
export const GRAPHIQL_WELCOME = `# fhirgate: FHIR R4 over GraphQL.
#
# Every request needs an access token from your hospital's Keycloak realm.
# Put it into the Headers tab below, as JSON:
#
#   {"Authorization": "Bearer <your token>"}
#
# Then write a query, for example:
#
#   { PatientList(_count: 5) { id name { family given } } }
#
# and run it with the play button (or Ctrl-Enter).
`;

/** `JSON.stringify` that is safe inside `<script>`: no `</script>`, no `<!--`, no U+2028. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Yoga's GraphiQL page (`graphql-yoga`'s `graphiql-html`), with every asset on the gateway's own
 * origin and no favicon fetch, so the page makes no request that leaves the machine. The editor
 * workers are fetched and handed to Monaco as blob URLs, as Yoga's page does.
 */
export function renderGraphiQLPage(urls: GraphiQLAssetUrls, options: GraphiQLPageOptions): string {
  const { resetTabs = false, ...graphiql } = options;
  const title = graphiql.title ?? 'GraphiQL';
  const workers = {
    editorWorkerService: urls.editorWorker,
    json: urls.jsonWorker,
    graphql: urls.graphqlWorker,
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(urls.css)}">
</head>
<body id="body" class="no-focus-outline">
<noscript>You need to enable JavaScript to run GraphiQL.</noscript>
<div id="root">Loading ${escapeHtml(title)}...</div>
<script>
${resetTabs ? "try { localStorage.removeItem('graphiql:tabState'); localStorage.removeItem('graphiql:query'); } catch {}\n" : ''}const workerUrls = ${scriptJson(workers)};
const workers = {};
function prepareWorkers() {
  return Promise.all(Object.entries(workerUrls).map(async ([label, url]) => {
    const source = await (await fetch(url)).text();
    workers[label] = URL.createObjectURL(new Blob([source], { type: 'application/javascript' }));
  }));
}
self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_id, label) => workers[label] };
</script>
<script src="${escapeHtml(urls.script)}"></script>
<script>
prepareWorkers().finally(() => YogaGraphiQL.renderYogaGraphiQL(root, ${scriptJson(graphiql)}));
</script>
</body>
</html>
`;
}
