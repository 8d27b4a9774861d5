import { rmSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';
import { transpileTree } from '../../scripts/transpile-sources.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by this file's global `setup`: the root of this run's {@link buildSources}. */
    testBuild: string;
  }
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A transpiled copy of `src/`, laid out as the image has it; `remove` deletes it. */
export interface TestBuild {
  readonly root: string;
  remove(): Promise<void>;
}

/**
 * Transpiles `src/` once per integration run into `<tmp>/dist/`, beside links to the checkout's
 * `package.json`, `schema/` and `node_modules/`, so `dist/` finds what it reads exactly as in the
 * image. The CLI and gateway processes the tests start run from here with plain `node`: each
 * start then costs less than half the CPU time of `node --import tsx` on the sources (the suite
 * starts over a hundred). See `scripts/transpile-sources.ts`.
 */
export async function buildSources(): Promise<TestBuild> {
  const root = await mkdtemp(join(tmpdir(), 'fhirgate-test-build-'));
  const removeOnExit = () => rmSync(root, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  transpileTree(join(ROOT, 'src'), join(root, 'dist'));
  for (const link of ['package.json', 'schema', 'node_modules']) {
    symlinkSync(join(ROOT, link), join(root, link));
  }
  return {
    root,
    async remove() {
      process.removeListener('exit', removeOnExit);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Vitest global setup of the integration project: one build per run, removed at the end. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const build = await buildSources();
  project.provide('testBuild', build.root);
  return () => build.remove();
}

/** The compiled entry point of this run's build: `main` (the gateway) or `cli/main` (`fhirgate`). */
export function compiledEntry(entry: 'main' | 'cli/main'): string {
  return join(inject('testBuild'), 'dist', `${entry}.js`);
}
