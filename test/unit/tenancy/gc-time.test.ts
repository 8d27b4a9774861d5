import { describe, expect, it } from 'vitest';
import { gcPauseMs } from '../../../src/tenancy/gc-time.js';

describe('the garbage collector clock', () => {
  it("counts the collector's pauses of this process, read on a later turn of the loop", async () => {
    const before = gcPauseMs();
    const deadline = performance.now() + 20_000;
    let kept = 0;
    // Garbage until a collection has been reported (young-generation ones come within megabytes).
    while (gcPauseMs() === before && performance.now() < deadline) {
      kept += Array.from({ length: 50_000 }, (_, i) => ({ i, text: `n${i}` })).length;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(kept).toBeGreaterThan(0);
    expect(gcPauseMs()).toBeGreaterThan(before);
  });
});
