/**
 * The per-file TypeScript transpile that test runs and the benchmark run their child processes
 * from: plain `node` on the output instead of `node --import tsx` on the sources. Every start is
 * cheaper, and the code runs as `tsc` emits it (tsx's esbuild keeps function names by wrapping
 * each closure in a `__name` call, a property definition per closure made: in a benchmark that is
 * work the shipped build does not do). tsconfig's `isolatedModules` and `verbatimModuleSyntax`
 * make the per-file transpile emit what `tsc` emits; `compiled.int.test.ts` checks the real build.
 */
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

/** Transpiles one TypeScript file to `out` (ES2023 modules, as the build emits). */
export function transpileFile(source: string, out: string): void {
  const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
    fileName: source,
    compilerOptions: {
      target: ts.ScriptTarget.ES2023,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
    },
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, outputText);
}

/**
 * Transpiles every `.ts` file under `from` into the same place under `to` (`.js`), and copies
 * the other files (data read beside the code: the R4 extract, the demo's mappings), as the
 * build does.
 */
export function transpileTree(from: string, to: string): void {
  for (const file of readdirSync(from, { recursive: true, encoding: 'utf8' })) {
    const source = join(from, file);
    if (!statSync(source).isFile()) {
      continue;
    }
    if (file.endsWith('.ts')) {
      transpileFile(source, join(to, file.replace(/\.ts$/, '.js')));
    } else {
      mkdirSync(dirname(join(to, file)), { recursive: true });
      copyFileSync(source, join(to, file));
    }
  }
}
