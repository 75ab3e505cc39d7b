/**
 * App settings behind a tiny get/set interface. The desktop app backs it with electron-store
 * (electron/main); under plain Node (CLI, `berth serve`, tests) a JSON file written atomically.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Settings } from '../../shared/api/app';
import { writeFileAtomicSync } from './atomic';

export interface KeyValueStore {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
}

export const defaultSettings: Settings = {
  registry: { host: '127.0.0.1', port: 5000, autoStart: true },
};

export class JsonFileStore implements KeyValueStore {
  private data: Record<string, unknown>;
  constructor(private readonly file: string) {
    try {
      this.data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      this.data = {};
    }
  }
  get<T>(key: string): T | undefined {
    return this.data[key] as T | undefined;
  }
  set(key: string, value: unknown): void {
    this.data[key] = value;
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileAtomicSync(this.file, JSON.stringify(this.data, null, 2));
  }
}

export class MemoryStore implements KeyValueStore {
  private data = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  set(key: string, value: unknown): void {
    this.data.set(key, value);
  }
}

export function readSettings(store: KeyValueStore): Settings {
  const saved = store.get<Partial<Settings>>('settings') ?? {};
  return { registry: { ...defaultSettings.registry, ...(saved.registry ?? {}) } };
}

export function updateSettings(store: KeyValueStore, patch: { registry?: Partial<Settings['registry']> }): Settings {
  const current = readSettings(store);
  const next: Settings = { registry: { ...current.registry, ...(patch.registry ?? {}) } };
  store.set('settings', next);
  return next;
}
