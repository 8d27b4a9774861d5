/**
 * Top self-time functions of a V8 `.cpuprofile` (from `node --cpu-prof` or the child probe), and
 * the same time grouped by package. Run on its own: `npx tsx bench/profile-summary.ts <file> [top]`.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

interface CpuProfileNode {
  readonly id: number;
  readonly children?: readonly number[];
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface SelfTime {
  /** `name (file:line)`, the file relative to the project or the package. */
  readonly label: string;
  readonly selfMs: number;
  readonly percent: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Time not idle and not GC, in percent of the window. */
  readonly busyPercent: number;
  readonly gcPercent: number;
  readonly functions: SelfTime[];
  /** Self time per package (`graphql`, `mysql2`, `src/mapping`, `(node)`, ...). */
  readonly packages: SelfTime[];
  /**
   * Self time per package with Node internals and native code charged to their nearest caller
   * in a package or in the project: who causes the syscalls, the AbortSignals, the crypto.
   */
  readonly attributed: SelfTime[];
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    return url.slice(nm + '/node_modules/'.length);
  }
  const src = url.search(/\/(src|bench|test)\//);
  return src >= 0 ? url.slice(src + 1) : url.replace(/^file:\/\//, '');
}

function packageOf(url: string, functionName: string): string {
  if (url === '') {
    return functionName.startsWith('(') ? functionName : '(native)';
  }
  if (url.startsWith('node:')) {
    return '(node)';
  }
  const path = shortUrl(url);
  const parts = path.split('/');
  if (url.includes('/node_modules/')) {
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
  }
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
}

/**
 * Frames of the benchmark's own probe (stopping the profiler) are not the server's work: the
 * probe runs from the sources or from the bench's compiled build (`child-probe.js`).
 */
const PROBE_URL = /\/bench\/child-probe\.[jt]s$/;

export function summarizeProfile(profile: CpuProfile, top = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    for (const child of n.children ?? []) {
      parent.set(child, n.id);
    }
  }
  const ancestors = function* (id: number): Generator<CpuProfileNode> {
    for (let cur = parent.get(id); cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur);
      if (node !== undefined) {
        yield node;
      }
    }
  };
  const selfUs = new Map<number, number>();
  // `timeDeltas[i]` is the time before sample i; the time sample i stands for is the next delta
  // (as DevTools reads it). The first delta is the wait from the profiler's start to its first
  // sample, no one's work: read the other way, it was charged to whatever the first sample hit.
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  });
  const totalUs = Math.max(1, profile.endTime - profile.startTime);
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  const attributed = new Map<string, number>();
  let idleUs = 0;
  let gcUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) {
      continue;
    }
    const { functionName, url, lineNumber } = node.callFrame;
    if ([node, ...ancestors(id)].some((n) => PROBE_URL.test(n.callFrame.url))) {
      idleUs += us;
      continue;
    }
    if (functionName === '(idle)') {
      idleUs += us;
    }
    if (functionName === '(garbage collector)') {
      gcUs += us;
    }
    const label =
      url === ''
        ? functionName || '(anonymous)'
        : `${functionName || '(anonymous)'} (${shortUrl(url)}:${lineNumber + 1})`;
    fns.set(label, (fns.get(label) ?? 0) + us);
    const pkg = packageOf(url, functionName);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
    let owner = pkg;
    if (url === '' || url.startsWith('node:')) {
      for (const a of ancestors(id)) {
        if (a.callFrame.url !== '' && !a.callFrame.url.startsWith('node:')) {
          owner = packageOf(a.callFrame.url, a.callFrame.functionName);
          break;
        }
      }
    }
    attributed.set(owner, (attributed.get(owner) ?? 0) + us);
  }
  const rank = (m: Map<string, number>, skipIdle: boolean) =>
    [...m]
      .filter(([label]) => !skipIdle || !label.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([label, us]) => ({ label, selfMs: us / 1000, percent: (100 * us) / totalUs }));
  return {
    totalMs: totalUs / 1000,
    busyPercent: (100 * (totalUs - idleUs)) / totalUs,
    gcPercent: (100 * gcUs) / totalUs,
    functions: rank(fns, true),
    packages: rank(pkgs, true),
    attributed: rank(attributed, true),
  };
}

export async function summarizeProfileFile(path: string, top = 20): Promise<ProfileSummary> {
  return summarizeProfile(JSON.parse(await readFile(path, 'utf8')) as CpuProfile, top);
}

/**
 * Markdown of a gateway profile beside the baseline's, both in CPU microseconds per request
 * (self time divided by requests served in the window), so the two windows compare even when
 * they served different numbers of requests.
 */
export function formatComparison(
  title: string,
  gateway: { readonly requests: number; readonly summary: ProfileSummary },
  baseline: { readonly requests: number; readonly summary: ProfileSummary },
  top = 20,
): string {
  const perReq = (ms: number, requests: number) => (1000 * ms) / Math.max(1, requests);
  const busy = (r: typeof gateway) =>
    perReq((r.summary.totalMs * r.summary.busyPercent) / 100, r.requests);
  const side = (pick: (s: ProfileSummary) => SelfTime[]) => {
    const rows = new Map<string, { g: number; b: number }>();
    for (const p of pick(gateway.summary)) {
      rows.set(p.label, { g: perReq(p.selfMs, gateway.requests), b: 0 });
    }
    for (const p of pick(baseline.summary)) {
      const entry = rows.get(p.label) ?? { g: 0, b: 0 };
      entry.b = perReq(p.selfMs, baseline.requests);
      rows.set(p.label, entry);
    }
    return [...rows]
      .sort((a, b) => b[1].g - a[1].g)
      .slice(0, top)
      .map(([label, v]) => `| ${label} | ${v.g.toFixed(0)} | ${v.b.toFixed(0)} |`);
  };
  return [
    `#### ${title}`,
    '',
    `CPU per request (busy time / requests): gateway ${busy(gateway).toFixed(0)} µs (${gateway.requests} requests in ${(gateway.summary.totalMs / 1000).toFixed(1)} s, GC ${gateway.summary.gcPercent.toFixed(1)} %), baseline ${busy(baseline).toFixed(0)} µs (${baseline.requests} requests, GC ${baseline.summary.gcPercent.toFixed(1)} %).`,
    '',
    '| package (self time) | gateway µs/req | baseline µs/req |',
    '|---|---:|---:|',
    ...side((s) => s.packages),
    '',
    '| package (Node internals and native code charged to the calling package) | gateway µs/req | baseline µs/req |',
    '|---|---:|---:|',
    ...side((s) => s.attributed),
    '',
    '| gateway function (self) | µs/req | % of window |',
    '|---|---:|---:|',
    ...gateway.summary.functions
      .slice(0, top)
      .map(
        (f) =>
          `| \`${f.label}\` | ${perReq(f.selfMs, gateway.requests).toFixed(1)} | ${f.percent.toFixed(1)} |`,
      ),
    '',
  ].join('\n');
}

/** Markdown lines of a summary. */
export function formatSummary(title: string, s: ProfileSummary): string {
  const lines = [
    `#### ${title}`,
    '',
    `window ${(s.totalMs / 1000).toFixed(1)} s, busy ${s.busyPercent.toFixed(0)} %, GC ${s.gcPercent.toFixed(1)} %`,
    '',
    '| self % | self ms | function |',
    '|---:|---:|---|',
    ...s.functions.map(
      (f) => `| ${f.percent.toFixed(1)} | ${f.selfMs.toFixed(0)} | \`${f.label}\` |`,
    ),
    '',
    '| self % | package |',
    '|---:|---|',
    ...s.packages.map((p) => `| ${p.percent.toFixed(1)} | ${p.label} |`),
    '',
  ];
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(formatSummary(file, await summarizeProfileFile(file, Number(top ?? 25))));
}
