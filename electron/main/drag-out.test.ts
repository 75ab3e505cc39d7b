import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { IpcMainInvokeEvent } from 'electron';
import { ipcChannels } from '../../shared/bridge';
import type { Envelope } from '../../shared/contract';
import { exportsDir, newExportId, resolvePreparedExport } from '../archive/exports';
import { registerDragOut } from './drag-out';
import { isAppUrl } from './security';

const dataDir = mkdtempSync(join(tmpdir(), 'berth-drag-out-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// A prepared export as the cache lays it out (the cache itself is tested in electron/archive/exports.test.ts).
const id = newExportId();
const folder = join(exportsDir(dataDir), id);
mkdirSync(folder, { recursive: true });
writeFileSync(join(folder, 'team-app_v1.tar'), 'archive bytes');
writeFileSync(join(dataDir, 'secret.txt'), 'not for dragging');

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => Envelope;
const origin = { rendererDir: '/opt/Berth/resources/app.asar/out/renderer' };
const appUrl = 'file:///opt/Berth/resources/app.asar/out/renderer/index.html';

function setup() {
  const handlers = new Map<string, Handler>();
  const ipcMain = { handle: (ch: string, h: Handler) => void handlers.set(ch, h), removeHandler: (ch: string) => void handlers.delete(ch) };
  const logs: string[] = [];
  const off = registerDragOut({ ipcMain, isTrusted: (url) => isAppUrl(url, origin), resolve: (x) => resolvePreparedExport(dataDir, x), icon: () => '/bundled/icon.png', log: (l) => logs.push(l) });
  const drags: unknown[] = [];
  const drag = (url: string | undefined, exportId: unknown) => {
    const event = { senderFrame: url === undefined ? null : { url }, sender: { startDrag: (item: unknown) => drags.push(item) } } as unknown as IpcMainInvokeEvent;
    return handlers.get(ipcChannels.startDrag)!(event, exportId);
  };
  return { handlers, off, drag, drags, logs };
}

describe('drag out of the window', () => {
  it('starts a drag of the archive behind a prepared export id, with the bundled icon', () => {
    const { drag, drags } = setup();
    expect(drag(appUrl, id)).toEqual({ ok: true, result: null });
    expect(drags).toEqual([{ file: join(folder, 'team-app_v1.tar'), icon: '/bundled/icon.png' }]);
  });

  it('never takes a path or anything but an export id from the page', () => {
    const { drag, drags } = setup();
    for (const bad of [join(dataDir, 'secret.txt'), '../secret.txt', `${id}/../../secret.txt`, { file: '/etc/passwd' }, 7, '']) {
      expect(drag(appUrl, bad)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    }
    expect(drag(appUrl, newExportId())).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(drags).toEqual([]);
  });

  it("refuses a sender that is not the app's own page, like the call channel does", () => {
    const { drag, drags, logs } = setup();
    for (const url of ['https://evil.example/', 'file:///etc/passwd', '', undefined]) {
      expect(drag(url, id)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    }
    expect(drags).toEqual([]);
    expect(logs).toHaveLength(4);
  });

  it('registers one channel and removes it again', () => {
    const { handlers, off } = setup();
    expect([...handlers.keys()]).toEqual([ipcChannels.startDrag]);
    off();
    expect(handlers.size).toBe(0);
  });
});
