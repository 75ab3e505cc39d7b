/**
 * The IPC transport: one channel for every call, derived from the contract — never a handler per method.
 * The sender must be the app's own page (checked on every call, by the frame's URL); the method and the
 * input are checked by dispatch against the contract. Events go to the window on one channel.
 * Electron is imported for types only, so this runs under Node in tests.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { ipcChannels } from '../../shared/bridge';
import type { Envelope } from '../../shared/contract';
import type { BerthEvent } from '../../shared/events';
import type { Dispatch } from '../app/dispatch';

export interface IpcOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  dispatch: Dispatch;
  /** Is this URL the app's own page? (security.ts isAppUrl) */
  isTrusted: (url: string) => boolean;
  log?: (line: string) => void;
}

export function registerIpc(opts: IpcOptions): () => void {
  opts.ipcMain.handle(ipcChannels.call, async (event: IpcMainInvokeEvent, method: unknown, input: unknown): Promise<Envelope> => {
    const url = event.senderFrame?.url ?? '';
    if (!opts.isTrusted(url)) {
      opts.log?.(`IPC call refused from ${url || 'an unknown frame'}`);
      return { ok: false, error: { code: 'UNAUTHORIZED', message: 'Calls are accepted only from the Berth window.' } };
    }
    if (typeof method !== 'string') return { ok: false, error: { code: 'UNKNOWN_METHOD', message: 'The method name must be a string.' } };
    return opts.dispatch(method, input, { transport: 'ipc' });
  });
  return () => opts.ipcMain.removeHandler(ipcChannels.call);
}

/** Forward backend events to a window until it goes away. */
export function forwardEvents(subscribe: (l: (e: BerthEvent) => void) => () => void, contents: Pick<WebContents, 'send' | 'isDestroyed' | 'once'>): () => void {
  const unsubscribe = subscribe((event) => {
    if (!contents.isDestroyed()) contents.send(ipcChannels.event, event);
  });
  contents.once('destroyed', unsubscribe);
  return unsubscribe;
}
