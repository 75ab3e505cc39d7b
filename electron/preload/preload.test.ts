/**
 * The preload as Electron's sandbox runs it: the built out/preload/index.cjs evaluated as a plain script
 * whose `require` knows only 'electron' (what a sandboxed preload gets). An ES module, a chunk split off
 * or a require of a node_modules package would fail here as it would in the app.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { ipcChannels } from '../../shared/bridge';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = `${root}out/preload/index.cjs`;
const source = fileURLToPath(new URL('./index.ts', import.meta.url));

function ensureBuilt(): string {
  if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) {
    execFileSync(process.execPath, [`${root}node_modules/electron-vite/bin/electron-vite.js`, 'build'], { cwd: root, stdio: 'ignore' });
  }
  return readFileSync(built, 'utf8');
}

describe('sandboxed preload', () => {
  it('is one CommonJS file that exposes exactly the PreloadBridge as window.berth, over its IPC channels', async () => {
    const code = ensureBuilt();
    const exposed: Record<string, Record<string, (...a: unknown[]) => unknown>> = {};
    const invoked: unknown[][] = [];
    const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: Record<string, (...a: unknown[]) => unknown>) => (exposed[key] = api) },
      ipcRenderer: {
        invoke: async (...args: unknown[]) => (invoked.push(args), { ok: true, result: 'pong' }),
        on: (ch: string, l: (...a: unknown[]) => void) => void (listeners.get(ch) ?? listeners.set(ch, new Set()).get(ch)!).add(l),
        removeListener: (ch: string, l: (...a: unknown[]) => void) => void listeners.get(ch)?.delete(l),
      },
      webUtils: { getPathForFile: (f: { name: string }) => `/picked/${f.name}` },
    };
    const sandboxRequire = (id: string) => {
      if (id === 'electron') return electron;
      throw new Error(`a sandboxed preload cannot require "${id}"`);
    };
    const module = { exports: {} };
    runInNewContext(`(function (require, module, exports) {${code}\n})`, {})(sandboxRequire, module, module.exports);

    expect(Object.keys(exposed)).toEqual(['berth']);
    const berth = exposed.berth;
    expect(Object.keys(berth).sort()).toEqual(['call', 'pathForFile', 'startDrag', 'subscribe']);
    await expect(berth.call('images.list', {})).resolves.toEqual({ ok: true, result: 'pong' });
    expect(invoked).toEqual([[ipcChannels.call, 'images.list', {}]]);

    const got: unknown[] = [];
    const off = berth.subscribe((e: unknown) => got.push(e)) as () => void;
    for (const l of listeners.get(ipcChannels.event) ?? []) l({ sender: 'main' }, { type: 'engine.images-changed' });
    off();
    expect(listeners.get(ipcChannels.event)?.size).toBe(0);
    expect(got).toEqual([{ type: 'engine.images-changed' }]);
    expect(berth.pathForFile({ name: 'app.tar' })).toBe('/picked/app.tar');
    // A drag out names the prepared export by id on its own channel; the main process looks up the file.
    await berth.startDrag('0123456789abcdef0123456789abcdef');
    expect(invoked.at(-1)).toEqual([ipcChannels.startDrag, '0123456789abcdef0123456789abcdef']);
  }, 120_000);
});
