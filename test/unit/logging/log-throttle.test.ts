import { describe, expect, it } from 'vitest';
import { createLogThrottle } from '../../../src/logger.js';

describe('createLogThrottle', () => {
  it('lets one line per key and interval through, carrying how many it stood for', () => {
    const throttle = createLogThrottle(1000);
    expect(throttle.due('a', 0)).toBe(0);
    expect(throttle.due('a', 10)).toBeUndefined();
    expect(throttle.due('a', 999)).toBeUndefined();
    // Another key has its own interval.
    expect(throttle.due('b', 500)).toBe(0);
    expect(throttle.due('a', 1000)).toBe(2);
    expect(throttle.due('a', 1001)).toBeUndefined();
    expect(throttle.due('a', 2500)).toBe(1);
  });
});
