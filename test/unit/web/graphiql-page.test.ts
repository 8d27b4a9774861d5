import { describe, expect, it } from 'vitest';
import { graphiqlAssets } from '../../../src/web/graphiql-assets.js';
import { GRAPHIQL_WELCOME, renderGraphiQLPage } from '../../../src/web/graphiql-page.js';
import { graphiqlOptionsIn } from '../../helpers/graphiql-options.js';

const { urls } = graphiqlAssets();

describe('renderGraphiQLPage', () => {
  it('loads every script, style and worker from the gateway itself', () => {
    const html = renderGraphiQLPage(urls, { title: 'fhirgate' });
    const referenced = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(referenced).toEqual(['data:,', urls.css, urls.script]);
    for (const url of Object.values(urls)) {
      expect(url).toMatch(/^\/graphiql\/\d+\.\d+\.\d+\//);
      expect(html).toContain(url);
    }
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('hands the options to GraphiQL as JSON that cannot close the script', () => {
    const query = '# </script><script>alert(1)</script> & <!--';
    const html = renderGraphiQLPage(urls, { title: 'fhirgate', query, headers: '{"a": "\u2028"}' });
    expect(html).not.toContain('</script><script>alert');
    expect(html).not.toContain('<!--');
    expect(graphiqlOptionsIn(html)).toEqual({
      title: 'fhirgate',
      query,
      headers: '{"a": "\u2028"}',
    });
  });

  it('escapes the title in the HTML', () => {
    const html = renderGraphiQLPage(urls, { title: '<b>x</b>' });
    expect(html).toContain('<title>&#60;b&#62;x&#60;/b&#62;</title>');
  });

  it('forgets stored tabs only when asked, and does not pass resetTabs on to GraphiQL', () => {
    const plain = renderGraphiQLPage(urls, { title: 'fhirgate' });
    expect(plain).not.toContain('localStorage');
    const reset = renderGraphiQLPage(urls, { title: 'fhirgate', resetTabs: true });
    expect(reset).toContain("localStorage.removeItem('graphiql:tabState')");
    expect(graphiqlOptionsIn(reset)).not.toHaveProperty('resetTabs');
  });

  it('has a welcome that shows the header in the JSON form GraphiQL accepts', () => {
    const line = /\{"Authorization": "Bearer <your token>"\}/.exec(GRAPHIQL_WELCOME)?.[0];
    expect(line).toBeDefined();
    expect(JSON.parse(line as string)).toEqual({ Authorization: 'Bearer <your token>' });
  });
});
