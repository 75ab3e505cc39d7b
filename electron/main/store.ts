/**
 * Settings through electron-store, behind the KeyValueStore interface (electron/app/settings.ts): only
 * this file knows electron-store (which imports electron and so cannot load under plain Node).
 */
import Store from 'electron-store';
import type { KeyValueStore } from '../app/settings';

export function electronSettingsStore(cwd: string): KeyValueStore {
  // Same folder and file name as `berth serve` uses (<dataDir>/settings.json), so both see one set of settings.
  const store = new Store<Record<string, unknown>>({ cwd, name: 'settings' });
  return {
    get: <T>(key: string) => store.get(key) as T | undefined,
    set: (key, value) => store.set(key, value),
  };
}
