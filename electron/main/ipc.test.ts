import { describe, expect, it } from 'vitest';
import type { IpcMainInvokeEvent } from 'electron';
import { methodNames } from '../../shared/api';
import { ipcChannels } from '../../shared/bridge';
import type { Envelope } from '../../shared/contract';
import type { BerthEvent } from '../../shared/events';
import { createDispatch, type Dispatch } from '../app/dispatch';
import { EventBus } from '../app/events';
import { forwardEvents, registerIpc } from './ipc';
import { isAppUrl } from './security';

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<Envelope>;

/** Stands in for Electron's ipcMain: records what the main process registers. */
function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  return {
    handlers,
    handle: (channel: string, h: Handler) => void handlers.set(channel, h),
    removeHandler: (channel: string) => void handlers.delete(channel),
  };
}

const origin = { rendererDir: '/opt/Berth/resources/app.asar/out/renderer' };
const appFrame = { senderFrame: { url: 'file:///opt/Berth/resources/app.asar/out/renderer/index.html' } } as IpcMainInvokeEvent;

function setup(dispatch: Dispatch) {
  const ipcMain = fakeIpcMain();
  const off = registerIpc({ ipcMain, dispatch, isTrusted: (url) => isAppUrl(url, origin) });
  return { ipcMain, off, invoke: (event: IpcMainInvokeEvent, method: unknown, input: unknown) => ipcMain.handlers.get(ipcChannels.call)!(event, method, input) };
}

describe('IPC transport', () => {
  it('registers one channel that carries every method of the contract (no per-method handlers)', async () => {
    const seen: string[] = [];
    const { ipcMain, invoke } = setup(async (method, _input, ctx) => {
      seen.push(`${ctx.transport}:${method}`);
      return { ok: true, result: method };
    });
    expect([...ipcMain.handlers.keys()]).toEqual([ipcChannels.call]);
    for (const m of methodNames) expect(await invoke(appFrame, m, {})).toEqual({ ok: true, result: m });
    expect(seen).toEqual(methodNames.map((m) => `ipc:${m}`));
  });

  it('validates through the contract: unknown methods and bad input come back as envelopes', async () => {
    const { invoke } = setup(createDispatch({} as never));
    expect(await invoke(appFrame, 'nope.nothing', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    const bad = await invoke(appFrame, 'images.inspect', { id: 42 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(bad.ok === false && bad.error.message).toMatch(/images.inspect: id: /);
    expect(await invoke(appFrame, 7, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
  });

  it("refuses calls from any frame that is not the app's own page", async () => {
    let called = false;
    const { invoke } = setup(async () => ((called = true), { ok: true, result: null }));
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'file:///opt/Berth/resources/app.asar/out/renderer/../../x.html', '']) {
      const event = { senderFrame: { url } } as IpcMainInvokeEvent;
      expect(await invoke(event, 'app.info', {})).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    }
    expect(await invoke({ senderFrame: null } as unknown as IpcMainInvokeEvent, 'app.info', {})).toMatchObject({ ok: false });
    expect(called).toBe(false);
  });

  it('unregisters its one channel', () => {
    const { ipcMain, off } = setup(async () => ({ ok: true, result: null }));
    off();
    expect(ipcMain.handlers.size).toBe(0);
  });

  it('forwards backend events to the window until it is destroyed', () => {
    const bus = new EventBus();
    const sent: unknown[] = [];
    let destroyed = false;
    let onDestroyed: (() => void) | undefined;
    const contents = {
      send: (channel: string, e: BerthEvent) => void sent.push([channel, e]),
      isDestroyed: () => destroyed,
      once: (_name: string, cb: () => void) => ((onDestroyed = cb), contents),
    };
    forwardEvents((l) => bus.subscribe(l), contents as never);
    bus.publish({ type: 'engine.images-changed' });
    destroyed = true;
    onDestroyed!();
    bus.publish({ type: 'engine.images-changed' });
    expect(sent).toEqual([[ipcChannels.event, { type: 'engine.images-changed' }]]);
  });
});
