#!/usr/bin/env node
// The installed `fhirgate` binary. An image or package built with `npm run build` has dist/ and no
// src/: it runs the compiled CLI with plain node. A checkout runs the TypeScript sources through
// tsx's API, so no build step is needed while developing (and a stale dist/ is never run).
// The CLI sets the exit code itself.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../src/cli/main.ts', import.meta.url))) {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport('../src/cli/main.ts', import.meta.url);
} else {
  await import('../dist/cli/main.js');
}
