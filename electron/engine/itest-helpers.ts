/** Small helpers the engine's tests share. */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BerthError } from '../../shared/errors';

/** Makes `name` the current docker context of `home` (as `docker context use` would), pointing at `host`. */
export function useDockerContext(home: string, name: string, host: string): void {
  const meta = join(home, '.docker', 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
  mkdirSync(meta, { recursive: true });
  writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ currentContext: name }));
  writeFileSync(join(meta, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }));
}

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
