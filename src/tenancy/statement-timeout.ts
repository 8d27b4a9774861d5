import { type IDefaultPolicyContext, type IPolicy, TaskCancelledError } from 'cockatiel';

const NO_EVENTS: IPolicy['onSuccess'] & IPolicy['onFailure'] = () => ({ dispose() {} });

/**
 * The time limit of one tenant statement, as a cockatiel policy: cockatiel's aggressive
 * `timeout` (a `TaskCancelledError` once `ms` have passed, whether or not the statement has
 * returned, and its signal aborted so the pool destroys the connection) without what that policy
 * builds around every statement (a derived controller watched through an event object, a
 * `Promise.race` and the executor's success and failure events, which nothing here listens to):
 * a tenth of a small read's time went to it. Innermost in the tenant's policy, so a timeout
 * counts toward the breaker.
 */
export function statementTimeout(ms: number): IPolicy<IDefaultPolicyContext> {
  return {
    _altReturn: undefined as never,
    onSuccess: NO_EVENTS,
    onFailure: NO_EVENTS,
    execute<T>(
      fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T,
      parent?: AbortSignal,
    ): Promise<T> {
      const controller = new AbortController();
      const { signal } = controller;
      if (parent?.aborted === true) {
        controller.abort();
      }
      return new Promise<T>((resolve, reject) => {
        let settled = false;
        const onParentAbort = () => controller.abort();
        const settle = () => {
          settled = true;
          clearTimeout(timer);
          parent?.removeEventListener('abort', onParentAbort);
        };
        const timer = setTimeout(() => {
          if (settled) {
            return;
          }
          settle();
          controller.abort();
          reject(new TaskCancelledError(`Operation timed out after ${ms}ms`));
        }, ms);
        if (parent !== undefined && !parent.aborted) {
          parent.addEventListener('abort', onParentAbort, { once: true });
        }
        let running: PromiseLike<T> | T;
        try {
          running = fn({ signal });
        } catch (err) {
          settle();
          reject(err);
          return;
        }
        Promise.resolve(running).then(
          (value) => {
            if (!settled) {
              settle();
              resolve(value);
            }
          },
          (err: unknown) => {
            if (!settled) {
              settle();
              reject(err);
            }
          },
        );
      });
    },
  };
}
