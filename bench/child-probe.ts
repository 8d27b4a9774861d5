/**
 * Preloaded into the benchmark's server children (`node --import tsx --import ./bench/child-probe.ts
 * src/main.ts`), so the real production entry runs unchanged while the parent can still ask it,
 * over the IPC channel, for a heap reading after a forced GC (needs `--expose-gc`) and for a CPU
 * profile of exactly a measurement window. The child also ends itself when the parent goes away
 * (Ctrl-C, crash), so no server outlives a run.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/** What `bench/run.ts` can ask a child. */
export type ProbeCommand =
  | { readonly type: 'heap' }
  | { readonly type: 'profile-start' }
  | { readonly type: 'profile-stop'; readonly path: string };

/** A {@link ProbeCommand} on the wire. */
export type ProbeRequest = ProbeCommand & { readonly id: number };

/** The answer to a {@link ProbeRequest} with the same id. */
export interface ProbeReply {
  readonly id: number;
  readonly ok: boolean;
  readonly memory?: NodeJS.MemoryUsage;
  readonly error?: string;
}

let session: Session | undefined;

async function answer(request: ProbeRequest): Promise<ProbeReply> {
  switch (request.type) {
    case 'heap': {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc === undefined) {
        return { id: request.id, ok: false, error: 'start the child with --expose-gc' };
      }
      // Two passes: the first may only queue finalizers (WeakRefs, FinalizationRegistry).
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      return { id: request.id, ok: true, memory: process.memoryUsage() };
    }
    case 'profile-start': {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      return { id: request.id, ok: true };
    }
    case 'profile-stop': {
      if (session === undefined) {
        return { id: request.id, ok: false, error: 'no profile running' };
      }
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      session = undefined;
      await writeFile(request.path, JSON.stringify(profile));
      return { id: request.id, ok: true };
    }
  }
}

if (process.send !== undefined) {
  process.on('message', (message: ProbeRequest) => {
    void answer(message)
      .catch((err: unknown): ProbeReply => ({ id: message.id, ok: false, error: String(err) }))
      .then((reply) => process.send?.(reply));
  });
  // The parent is gone: stop the way an operator would, so the server closes its pools.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
