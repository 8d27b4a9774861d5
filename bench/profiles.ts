/**
 * CPU and allocation profiles of a server child under a scenario's load (`--profile`, `--alloc`;
 * a full run profiles the scenarios that miss), summarized per request.
 */
import { mkdir, readFile } from 'node:fs/promises';
import type { ServerChild } from './children.js';
import { runLoad } from './load.js';
import { ALLOC, log, PROFILE_ALL, QUICK, RESULTS, SETTINGS } from './options.js';
import { type ProfileSummary, summarizeProfileFile } from './profile-summary.js';
import type { Target } from './report.js';

/** A profiled window: its summary and the requests served in it. */
export interface ProfiledRun {
  readonly requests: number;
  readonly summary: ProfileSummary;
}

export interface ScenarioProfile {
  readonly scenario: string;
  readonly gateway: ProfiledRun;
  readonly baseline: ProfiledRun;
}

/** Profiles both servers under the scenario's load when a target missed (full run) or `--profile`. */
export async function profileIfMissed(
  scenario: string,
  gateway: ServerChild,
  baseline: ServerChild,
  clientId: string,
  body: () => string,
  targets: readonly Target[],
  profiles: ScenarioProfile[],
  tokenFor: (clientId: string) => Promise<string>,
): Promise<void> {
  const missed = targets.some((t) => t.scenario === scenario && t.status === 'MISS');
  if (!PROFILE_ALL && !(missed && !QUICK)) {
    return;
  }
  log(`${scenario}: profiling gateway and baseline, ${SETTINGS.profileS} s each`);
  const token = await tokenFor(clientId);
  const load = { body, token: () => token };
  profiles.push({
    scenario,
    gateway: await profileServer(gateway, scenario, load),
    baseline: await profileServer(baseline, scenario, load),
  });
}

/** A CPU profile of one server child under the scenario's load, with the requests it served. */
export async function profileServer(
  child: ServerChild,
  scenario: string,
  load: { body: () => string; token: () => string },
): Promise<ProfiledRun> {
  await mkdir(new URL('./profiles/', RESULTS), { recursive: true });
  const path = new URL(`./profiles/${scenario}-${child.name}.cpuprofile`, RESULTS).pathname;
  const result = await recordUnderLoad(child, 'profile', path, load);
  log(`${scenario} ${child.name}: profile written to ${path}`);
  if (ALLOC && child.name === 'gateway') {
    await allocationProfile(child, scenario, load);
  }
  return { requests: result.requests, summary: await summarizeProfileFile(path, 25) };
}

/**
 * Runs the scenario's load on one child for `profileS` seconds between the probe's `<kind>-start`
 * and `<kind>-stop` (a CPU profile, or an allocation profile), which writes `path`.
 */
export async function recordUnderLoad(
  child: ServerChild,
  kind: 'profile' | 'alloc',
  path: string,
  load: { body: () => string; token: () => string },
): Promise<{ requests: number }> {
  const started = await child.probe({ type: `${kind}-start` });
  if (!started.ok) {
    throw new Error(`${kind}-start failed: ${started.error}`);
  }
  const result = await runLoad({
    url: `${child.baseUrl}/graphql`,
    connections: SETTINGS.connections,
    durationS: SETTINGS.profileS,
    ...load,
  });
  const stopped = await child.probe({ type: `${kind}-stop`, path });
  if (!stopped.ok) {
    throw new Error(`${kind}-stop failed: ${stopped.error}`);
  }
  return result;
}

export interface HeapProfileNode {
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly HeapProfileNode[];
}

/** `--alloc`: bytes allocated per request, by function, under the scenario's load. */
export async function allocationProfile(
  child: ServerChild,
  scenario: string,
  load: { body: () => string; token: () => string },
): Promise<void> {
  const path = new URL(`./profiles/${scenario}-${child.name}.heapprofile`, RESULTS).pathname;
  const result = await recordUnderLoad(child, 'alloc', path, load);
  await logAllocations(path, result.requests, `${scenario} gateway`);
}

/**
 * Prints what an allocation profile (`alloc-start` … `alloc-stop`) recorded over `requests`
 * requests: KiB per request in all, and the 25 functions that allocated most.
 */
export async function logAllocations(path: string, requests: number, label: string): Promise<void> {
  const { head } = JSON.parse(await readFile(path, 'utf8')) as { head: HeapProfileNode };
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/node_modules\//, '').replace(`file://${process.cwd()}/`, '');
    const site = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const c of node.children) {
      walk(c);
    }
  };
  walk(head);
  const perRequest = (bytes: number) => (bytes / Math.max(1, requests) / 1024).toFixed(2);
  log(`${label} allocations: ${perRequest(total)} KiB per request; top sites (KiB/req):`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    log(`  ${perRequest(bytes).padStart(7)}  ${site}`);
  }
}
