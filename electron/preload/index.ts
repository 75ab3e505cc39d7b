/**
 * The preload: exposes the contract to the page as `window.berth` (shared/bridge.ts PreloadBridge). No
 * logic here — every call goes over one IPC channel to the main process, which checks it. Built as
 * CommonJS in one file: the window is sandboxed.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { ipcChannels, type PreloadBridge } from '../../shared/bridge';
import type { BerthEvent } from '../../shared/events';

const bridge: PreloadBridge = {
  call: (method, input) => ipcRenderer.invoke(ipcChannels.call, method, input),
  subscribe(listener) {
    const onEvent = (_e: IpcRendererEvent, event: BerthEvent) => listener(event);
    ipcRenderer.on(ipcChannels.event, onEvent);
    return () => {
      ipcRenderer.removeListener(ipcChannels.event, onEvent);
    };
  },
  pathForFile: (file) => webUtils.getPathForFile(file),
  // Only the id crosses: the main process looks the file up in Berth's export cache (never a path from here).
  startDrag: (exportId) => ipcRenderer.invoke(ipcChannels.startDrag, exportId),
};

contextBridge.exposeInMainWorld('berth', bridge);
