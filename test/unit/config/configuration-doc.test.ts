import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_DOC, renderConfigurationDoc } from '../../../scripts/config-reference.js';
import { EnvSchema } from '../../../src/config.js';

describe('docs/configuration.md', () => {
  it('is what `npm run docs:config` generates from the schema (run it after changing src/config.ts)', () => {
    expect(readFileSync(CONFIGURATION_DOC, 'utf8')).toBe(renderConfigurationDoc());
  });

  it('lists every variable of the schema once, with its default', () => {
    const doc = renderConfigurationDoc();
    for (const name of Object.keys(EnvSchema.shape)) {
      expect(doc.split(`| \`${name}\` |`), name).toHaveLength(2);
    }
    expect(doc).toContain('| `PORT` | `4000` |');
    expect(doc).toContain('| `FHIRGATE_GRAPHIQL` | `true` |');
    expect(doc).toContain('| `FHIRGATE_ENCRYPTION_KEY` | required outside the demo |');
  });
});
