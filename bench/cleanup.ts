/**
 * What the benchmark must undo (databases, children, connections): last registered runs first,
 * once, on success, on error or on Ctrl-C.
 */
import { liveChildren } from './children.js';
import { log } from './options.js';

export const cleanups: Array<{ what: string; run: () => Promise<unknown> }> = [];
export let cleaning: Promise<void> | undefined;
export function onCleanup(what: string, run: () => Promise<unknown>): void {
  cleanups.push({ what, run });
}
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.allSettled(liveChildren().map((c) => c.stop()));
    for (const { what, run } of cleanups.reverse()) {
      try {
        await run();
      } catch (err) {
        log(`cleanup "${what}" failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
