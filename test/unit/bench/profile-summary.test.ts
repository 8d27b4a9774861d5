import { describe, expect, it } from 'vitest';
import { summarizeProfile } from '../../../bench/profile-summary.js';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

// root -> build (src/mapping) ; root -> answer (the bench's compiled probe) -> dispatch
const nodes = [
  { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 5] },
  { id: 2, callFrame: frame('build', 'file:///tmp/fhirgate-bench-build-x/src/mapping/build.js') },
  {
    id: 3,
    callFrame: frame('answer', 'file:///tmp/fhirgate-bench-build-x/bench/child-probe.js'),
    children: [4],
  },
  { id: 4, callFrame: frame('dispatch', '') },
  { id: 5, callFrame: frame('(garbage collector)', '') },
];

describe('summarizeProfile', () => {
  it('charges each sample the time until the next one, never the wait before the first', () => {
    const summary = summarizeProfile({
      nodes,
      // The first sample comes 180 ms after the start; each sample stands for the gap after it.
      samples: [2, 5, 2, 2],
      timeDeltas: [180_000, 1_000, 9_000, 1_000],
      startTime: 0,
      endTime: 191_000,
    });
    const ms = (label: string) => summary.functions.find((f) => f.label.startsWith(label))?.selfMs;
    // build: the gaps after samples 0 and 2 (9 ms is the collector's pause after sample 1).
    expect(ms('build')).toBe(2);
    expect(ms('(garbage collector)')).toBe(9);
    expect(summary.gcPercent).toBeCloseTo((100 * 9_000) / 191_000, 5);
  });

  it("counts the bench's own probe as idle, from the sources or the compiled build", () => {
    for (const url of [
      'file:///tmp/fhirgate-bench-build-x/bench/child-probe.js',
      'file:///work/main/bench/child-probe.ts',
    ]) {
      const summary = summarizeProfile({
        nodes: nodes.map((n) => (n.id === 3 ? { ...n, callFrame: frame('answer', url) } : n)),
        samples: [2, 4, 2],
        timeDeltas: [0, 1_000, 50_000],
        startTime: 0,
        endTime: 51_000,
      });
      expect(summary.functions.map((f) => f.label)).not.toContain('dispatch');
      expect(summary.busyPercent).toBeCloseTo((100 * 1_000) / 51_000, 5);
    }
  });
});
