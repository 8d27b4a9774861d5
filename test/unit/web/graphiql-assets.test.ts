import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphiqlAssets } from '../../../src/web/graphiql-assets.js';

const manifestPath = createRequire(import.meta.url).resolve('@graphql-yoga/graphiql/package.json');
const installed = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string };
const dist = join(dirname(manifestPath), 'dist');

describe('graphiqlAssets', () => {
  const assets = graphiqlAssets();

  it('names the installed package version in every path', () => {
    expect(assets.version).toBe(installed.version);
    expect(assets.routes.map((r) => r.path).sort()).toEqual(Object.values(assets.urls).sort());
    for (const route of assets.routes) {
      expect(route.path.startsWith(`/graphiql/${installed.version}/`)).toBe(true);
    }
  });

  it('serves each file byte for byte, with its type and a long cache life', async () => {
    for (const route of assets.routes) {
      const res = await route.handle(new Request(`http://gateway${route.path}`));
      expect(res.status).toBe(200);
      const file = route.path.slice(`/graphiql/${installed.version}/`.length);
      expect(await res.text()).toBe(readFileSync(join(dist, file), 'utf8'));
      expect(res.headers.get('content-type')).toBe(
        file.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
      );
      expect(res.headers.get('cache-control')).toContain('immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('answers a second request from memory with the same bytes', async () => {
    const route = assets.routes.find((r) => r.path === assets.urls.css);
    const first = await (await route!.handle(new Request('http://gateway/'))).text();
    const second = await (await route!.handle(new Request('http://gateway/'))).text();
    expect(second).toBe(first);
    expect(first.length).toBeGreaterThan(10_000);
  });
});
