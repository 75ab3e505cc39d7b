/** The Electron transport: the preload's `window.berth` (shared/bridge.ts PreloadBridge). */
import type { PreloadBridge } from '../../../shared/bridge';
import type { Transport } from './transport';

export function ipcTransport(bridge: PreloadBridge): Transport {
  return {
    kind: 'ipc',
    call: (method, input) => bridge.call(method, input),
    subscribe(listener, onOpen) {
      const off = bridge.subscribe(listener);
      onOpen?.();
      return off;
    },
    // The backend reads the dropped file from disk itself: no bytes cross IPC.
    async sendFile(file, onProgress) {
      const path = bridge.pathForFile(file);
      if (!path) throw { code: 'INVALID_INPUT', message: `"${file.name}" has no path on disk; save it to a file first.` };
      onProgress({ loaded: file.size, total: file.size });
      return { path };
    },
    // The main process finds the file by the export's id; the page never names a path.
    exportOut: { kind: 'drag', startDrag: (exportId) => bridge.startDrag(exportId) },
  };
}
