import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Pothos and Yoga load graphql's CommonJS build; without this Vite would hand test files the
    // .mjs build and graphql would refuse the second copy ("Duplicate graphql modules").
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    // Vitest's default is one worker less than the cores: a single worker on a 2-core machine, where
    // most integration files wait on MariaDB and child processes. One per core, at most 4 (MariaDB's
    // default max_connections is 151). VITEST_MAX_WORKERS overrides it.
    maxWorkers: Math.min(Math.max(availableParallelism(), 2), 4),
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Backstops against a hang, not speed budgets: tests wait for conditions, and a loaded
          // 2-core machine runs some many times slower than an idle one. HANG_BACKSTOP_MS in
          // test/helpers/backstop.ts is the same figure.
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts', 'test/helpers/test-build.ts'],
          // Copies console output into the run's capture dir for the final canary scan.
          setupFiles: ['test/helpers/capture-console.ts'],
          // Backstops against a hang, as above.
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
