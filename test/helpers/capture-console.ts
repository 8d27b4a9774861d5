import { format } from 'node:util';
import { captureSink } from './log-capture.js';

/**
 * Vitest setup file of the integration project: copies everything a test worker writes through
 * `console.*` into the run's capture directory, so the final canary scan covers console output
 * too (SECURITY-TESTS 70f, 70h). The console keeps working as before.
 */
const sink = captureSink('console');
for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  // biome-ignore lint/suspicious/noConsole: this file exists to wrap the console.
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    sink.write(format(...args));
    original(...args);
  };
}
