/** The local engine's connection: what answered (name, version, API, platform) or why nothing did. */
import { create } from 'zustand';
import type { EngineStatus } from '../../../shared/api/engine';
import { asBerthError, berth } from '../api';

interface EngineState {
  status?: EngineStatus;
  checking: boolean;
  load(refresh?: boolean): Promise<void>;
  set(status: EngineStatus): void;
}

export const useEngine = create<EngineState>((set) => ({
  checking: false,
  async load(refresh) {
    set({ checking: true });
    try {
      set({ status: await berth['engine.status'](refresh ? { refresh: true } : {}) });
    } catch (err) {
      const e = asBerthError(err);
      set({ status: { connected: false, error: e.message } });
    } finally {
      set({ checking: false });
    }
  },
  set: (status) => set({ status }),
}));
