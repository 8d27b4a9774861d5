/**
 * How long one step (a child process, a wait for a log line, a poll) may take before a test calls
 * it hung. Not a speed budget: a step that takes 2 s on an idle machine can take 40 s on a loaded
 * 2-core one, so tests wait for conditions and this only keeps a real hang from stalling the run.
 * Passing tests never wait for it. The same figure is vitest's per-test timeout (vitest.config.ts).
 */
export const HANG_BACKSTOP_MS = 300_000;
