/**
 * The gateway's `Dockerfile`, parsed (no Docker engine here): multi-stage, the final stage runs
 * as a non-root user in production mode, nothing secret is baked in, and `.dockerignore` keeps
 * local state and secrets out of the build context.
 */
import { describe, expect, it } from 'vitest';
import { type DockerInstruction, parseDockerfile, readRepoFile } from './deploy-files.js';

const instructions = parseDockerfile();

/** Instructions grouped by stage, keyed by the stage's `AS` name. */
function stages(all: readonly DockerInstruction[]): Map<string, DockerInstruction[]> {
  const out = new Map<string, DockerInstruction[]>();
  let current: DockerInstruction[] | undefined;
  for (const instruction of all) {
    if (instruction.keyword === 'FROM') {
      const name = /\sAS\s+(\S+)$/i.exec(instruction.args)?.[1] ?? `stage-${out.size}`;
      current = [instruction];
      out.set(name, current);
    } else {
      current?.push(instruction);
    }
  }
  return out;
}

const byStage = stages(instructions);
const runtime = [...byStage.values()].at(-1) ?? [];

describe('Dockerfile', () => {
  it('parses into instructions, continuation lines joined', () => {
    expect(instructions.length).toBeGreaterThan(10);
    const copy = parseDockerfile('FROM a AS b\n# note\nRUN one \\\n  && two\nUSER x\n');
    expect(copy.map((i) => [i.keyword, i.args])).toEqual([
      ['FROM', 'a AS b'],
      ['RUN', 'one && two'],
      ['USER', 'x'],
    ]);
  });

  it('is multi-stage: a build stage compiles, the runtime copies only its output', () => {
    expect([...byStage.keys()]).toEqual(['build', 'runtime']);
    for (const from of instructions.filter((i) => i.keyword === 'FROM')) {
      // A pinned Node 24 LTS base, never `latest`.
      expect(from.args).toMatch(/^node:24\.\d+-bookworm-slim AS /);
    }
    const build = byStage.get('build') ?? [];
    const runs = build.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /npm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /npm run build/.test(r) && /npm prune --omit=dev/.test(r))).toBe(true);
    // GraphiQL's static files stay, the tree they were built from goes.
    expect(
      runs.some(
        (r) =>
          /npm uninstall --no-save .*@graphql-yoga\/graphiql/.test(r) &&
          /cp -r \/tmp\/graphiql\/package\.json \/tmp\/graphiql\/dist node_modules\/@graphql-yoga\/graphiql\//.test(
            r,
          ),
      ),
    ).toBe(true);
    const fromBuild = runtime
      .filter((i) => i.keyword === 'COPY' && i.args.startsWith('--from=build '))
      .map((i) => i.args);
    expect(fromBuild).toEqual([
      '--from=build /app/node_modules ./node_modules',
      '--from=build /app/dist ./dist',
    ]);
    // The runtime has no compiler toolchain and no TypeScript sources.
    expect(runtime.some((i) => /g\+\+|build-essential/.test(i.args))).toBe(false);
    expect(runtime.some((i) => i.keyword === 'COPY' && /\bsrc\b/.test(i.args))).toBe(false);
  });

  it('runs the final stage as a non-root user', () => {
    const users = runtime.filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const last = users.at(-1)?.args.split(':')[0];
    expect(last).not.toMatch(/^(root|0)$/);
    // Nothing after USER switches back or runs as root.
    const afterUser = runtime.slice(runtime.indexOf(users.at(-1) as DockerInstruction) + 1);
    expect(afterUser.filter((i) => i.keyword === 'RUN' || i.keyword === 'USER')).toEqual([]);
  });

  it('starts the compiled dist/main.js with plain node in production mode, on all interfaces', () => {
    const env = runtime
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toContain('NODE_ENV=production');
    expect(env).toContain('HOST=0.0.0.0');
    expect(runtime.at(-1)).toMatchObject({
      keyword: 'CMD',
      args: '["node", "dist/main.js"]',
    });
    expect(runtime.some((i) => i.keyword === 'HEALTHCHECK' && i.args.includes('/healthz'))).toBe(
      true,
    );
  });

  it('bakes in no secret: no key, password or token in ENV or ARG, no .env copied', () => {
    for (const i of instructions.filter((x) => x.keyword === 'ENV' || x.keyword === 'ARG')) {
      expect(i.args, `line ${i.line}`).not.toMatch(
        /KEY|SECRET|PASSWORD|TOKEN|REGISTRY_URL|DATABASE_URL/i,
      );
    }
    for (const i of instructions.filter((x) => x.keyword === 'COPY' || x.keyword === 'ADD')) {
      expect(i.args, `line ${i.line}`).not.toMatch(/\.env\b|\.fhirgate|\s\.\s/);
    }
    expect(instructions.some((i) => i.keyword === 'ADD')).toBe(false);
  });

  it('has a .dockerignore that keeps local state and secrets out of the build context', () => {
    const ignored = readRepoFile('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const entry of ['.git', 'node_modules', '.fhirgate', '.env', '.env.*', 'test']) {
      expect(ignored).toContain(entry);
    }
    // Everything the image copies is still in the context.
    const copied = runtime
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const path of copied) {
      expect(ignored, path).not.toContain(path.split('/')[0]);
    }
  });
});
