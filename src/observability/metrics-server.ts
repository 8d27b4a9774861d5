import { createServer, type Server } from 'node:http';
import type { Route } from '../gateway.js';

/**
 * A listener of its own for `/metrics` (`FHIRGATE_METRICS_PORT`), so scrapes can stay on a port
 * only the monitoring network reaches. It serves the given routes and answers 404 otherwise.
 */
export function createMetricsServer(routes: readonly Route[]): Server {
  const table = new Map(routes.map((r) => [r.path, r]));
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = table.get(path);
    if (route === undefined || req.method !== route.method) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not-found"}');
      return;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') {
        headers.set(name, value);
      }
    }
    Promise.resolve(route.handle(new Request(`http://metrics${path}`, { headers })))
      .then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      })
      .catch(() => {
        if (!res.headersSent) {
          res.writeHead(500);
        }
        res.end();
      });
  });
}
