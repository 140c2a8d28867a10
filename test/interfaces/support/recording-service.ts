// Wraps any TaskServiceApi (the fake, or the real one once the stack runs in these tests) and
// records the calls that reach it, so a test can say "the service was never called".
import type { TaskServiceApi } from '../../../src/client/task-service-types';

export interface Recorded {
  service: TaskServiceApi;
  calls: { method: string; args: unknown[] }[];
}

export function recordCalls(inner: TaskServiceApi): Recorded {
  const calls: Recorded['calls'] = [];
  const service = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push({ method: String(prop), args });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { service, calls };
}
