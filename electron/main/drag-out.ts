/**
 * Dragging a prepared export out of the window (issue #4): the page names an export by its id on one IPC
 * channel; the main process finds the archive in Berth's export cache and calls the sender's
 * webContents.startDrag({ file, icon }). A path never comes from the page: the id is looked up
 * (electron/archive/exports.ts), and anything that is not a prepared export's id is refused. The sender is
 * checked like every IPC call (the app's own page only). Electron is imported for types only, so this runs
 * under Node in tests.
 */
import type { IpcMain, IpcMainInvokeEvent, NativeImage } from 'electron';
import { ipcChannels } from '../../shared/bridge';
import type { Envelope } from '../../shared/contract';
import { toErrorInfo } from '../../shared/errors';

export interface DragOutOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  /** Is this URL the app's own page? (security.ts isAppUrl) */
  isTrusted: (url: string) => boolean;
  /** The archive behind an export id; throws a BerthError for anything else (resolvePreparedExport). */
  resolve: (exportId: unknown) => { path: string };
  /** The picture under the pointer while dragging: a bundled asset (resources/). */
  icon: () => NativeImage | string;
  log?: (line: string) => void;
}

export function registerDragOut(opts: DragOutOptions): () => void {
  opts.ipcMain.handle(ipcChannels.startDrag, (event: IpcMainInvokeEvent, exportId: unknown): Envelope<null> => {
    const url = event.senderFrame?.url ?? '';
    if (!opts.isTrusted(url)) {
      opts.log?.(`drag out refused from ${url || 'an unknown frame'}`);
      return { ok: false, error: { code: 'UNAUTHORIZED', message: 'Only the Berth window can drag exports out.' } };
    }
    try {
      const { path } = opts.resolve(exportId);
      event.sender.startDrag({ file: path, icon: opts.icon() });
      return { ok: true, result: null };
    } catch (err) {
      return { ok: false, error: toErrorInfo(err) };
    }
  });
  return () => opts.ipcMain.removeHandler(ipcChannels.startDrag);
}
