/** The app itself: version, data directory, mode, settings. */
import { create } from 'zustand';
import type { AppInfo, Settings } from '../../../shared/api/app';
import { asBerthError, berth } from '../api';
import type { ErrorInfo } from '../../../shared/errors';

interface AppState {
  info?: AppInfo;
  settings?: Settings;
  error?: ErrorInfo;
  load(): Promise<void>;
  updateSettings(patch: { registry?: Partial<Settings['registry']> }): Promise<Settings>;
}

export const useApp = create<AppState>((set) => ({
  async load() {
    try {
      const [info, settings] = await Promise.all([berth['app.info']({}), berth['settings.get']({})]);
      set({ info, settings, error: undefined });
    } catch (err) {
      set({ error: asBerthError(err).toInfo() });
    }
  },
  async updateSettings(patch) {
    const settings = await berth['settings.update'](patch);
    set({ settings });
    return settings;
  },
}));
