#!/usr/bin/env node
// The installed `fhirgate` binary: runs the TypeScript CLI through tsx's API, so neither a build
// step nor a global tsx is needed. src/cli/main.ts sets the exit code itself.
import { tsImport } from 'tsx/esm/api';

await tsImport('../src/cli/main.ts', import.meta.url);
