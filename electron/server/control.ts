/**
 * What makes a running backend an "instance" others can find: its control bridge on the data directory's
 * socket, announced (address + token) in the lock file. The desktop app, `berth serve` and
 * `berth registry` all do this, so CLI commands hand them work instead of writing the directory too.
 */
import type { Backend } from '../app/backend';
import { controlAddress, type DataDirLock } from '../app/data-dir';
import { newToken } from './auth';
import { startControlServer, type BridgeTarget, type RunningServer } from './server';

export function bridgeTarget(backend: Pick<Backend, 'dispatch' | 'services'>): BridgeTarget {
  return {
    dispatch: backend.dispatch,
    subscribe: (listener) => backend.services.events.subscribe(listener),
    dataDir: backend.services.config.dataDir,
  };
}

export async function announceInstance(lock: DataDirLock, backend: Pick<Backend, 'dispatch' | 'services'>, log?: (line: string) => void): Promise<RunningServer> {
  const token = newToken();
  const control = await startControlServer({ target: bridgeTarget(backend), token, path: controlAddress(lock.dir), log });
  lock.update({ control: control.address, token });
  return control;
}
