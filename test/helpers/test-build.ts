import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';

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
 * starts over a hundred). tsconfig's `isolatedModules` and `verbatimModuleSyntax` make
 * the per-file transpile emit what `tsc` emits; `compiled.int.test.ts` checks the real build.
 */
export async function buildSources(): Promise<TestBuild> {
  const root = await mkdtemp(join(tmpdir(), 'fhirgate-test-build-'));
  const removeOnExit = () => rmSync(root, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  const src = join(ROOT, 'src');
  for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
    const source = join(src, file);
    if (!statSync(source).isFile()) {
      continue;
    }
    const out = join(root, 'dist', file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(out), { recursive: true });
    if (!file.endsWith('.ts')) {
      // Data read beside the code (the R4 extract, the demo's mappings), as the build copies it.
      copyFileSync(source, out);
      continue;
    }
    const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2023,
        module: ts.ModuleKind.ESNext,
        verbatimModuleSyntax: true,
      },
    });
    writeFileSync(out, outputText);
  }
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
