/** Small helpers the engine's integration tests share. */
import type { BerthError } from '../../shared/errors';

/** Polls `fn` every 50 ms until it returns something truthy; fails with `what` after `ms`. */
export async function waitFor<T>(fn: () => T | undefined, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<BerthError> {
  try {
    await p;
  } catch (err) {
    return err as BerthError;
  }
  throw new Error('expected the call to fail');
}
