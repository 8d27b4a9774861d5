import { describe, expect, it } from 'vitest';
import { homeRoute } from '../../../src/web/home-page.js';

const HTML = { accept: 'text/html,application/xhtml+xml' };

describe('homeRoute', () => {
  it('sends a browser to GraphiQL when it is on', async () => {
    const route = homeRoute({
      graphqlEndpoint: '/graphql',
      graphiql: true,
      metrics: false,
      demo: true,
    });
    expect(route.path).toBe('/');
    const res = await route.handle(new Request('http://gateway/', { headers: HTML }));
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/graphql');
  });

  it('gives other clients a page that links GraphiQL and the health endpoints', async () => {
    const route = homeRoute({
      graphqlEndpoint: '/graphql',
      graphiql: true,
      metrics: true,
      demo: false,
    });
    const res = await route.handle(new Request('http://gateway/'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await res.text();
    for (const href of ['/graphql', '/healthz', '/readyz', '/metrics']) {
      expect(page).toContain(`href="${href}"`);
    }
    expect(page).toContain('docs/');
    expect(page).not.toContain('demo token');
  });

  it('links no GraphiQL and no /metrics when they are off', async () => {
    const route = homeRoute({
      graphqlEndpoint: '/graphql',
      graphiql: false,
      metrics: false,
      demo: false,
    });
    const res = await route.handle(new Request('http://gateway/', { headers: HTML }));
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).not.toContain('href="/graphql"');
    expect(page).not.toContain('href="/metrics"');
    expect(page).toContain('POST /graphql');
  });
});
