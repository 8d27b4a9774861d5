import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The project's documents: README, docs/, and the READMEs beside the code. */
function documents(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f));
  return [
    join(ROOT, 'README.md'),
    join(ROOT, 'bench', 'README.md'),
    join(ROOT, 'src', 'demo', 'README.md'),
    ...docs,
  ];
}

/** Headings of a Markdown file as GitHub makes anchors of them. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of text.matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = (match[1] as string)
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    anchors.add(slug);
  }
  return anchors;
}

describe('the documents', () => {
  const files = documents();

  it.each(files.map((f) => [relative(ROOT, f), f]))(
    '%s links only to files and headings that exist in the repository',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');
      const broken: string[] = [];
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] as string;
        if (/^(https?:|mailto:)/.test(target)) {
          continue;
        }
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path === '' ? file : join(dirname(file), path);
        if (!resolved.startsWith(ROOT) || !existsSync(resolved)) {
          broken.push(target);
          continue;
        }
        if (anchor !== undefined && resolved.endsWith('.md')) {
          if (!anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) {
            broken.push(target);
          }
        }
      }
      expect(broken).toEqual([]);
    },
  );

  it.each(files.map((f) => [relative(ROOT, f), f]))(
    '%s names no file outside the repository',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');
      for (const outside of ['/work/', 'SECURITY-TESTS.md', 'DESIGN.md', 'STACK.md', 'STYLE.md']) {
        expect(text).not.toContain(outside);
      }
    },
  );

  it('keeps the README short enough to read', () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(320);
  });
});
