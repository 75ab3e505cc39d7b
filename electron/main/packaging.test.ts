/**
 * Packaging cannot run here (electron-builder downloads Electron), so its config is checked the way
 * electron-builder itself checks it, against its own schema; and the icons it names must exist and be
 * what each platform needs.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root));

describe('electron-builder.yml', () => {
  const yaml = require('js-yaml') as { load(text: string): Record<string, unknown> };
  const config = yaml.load(read('electron-builder.yml').toString()) as {
    productName: string;
    linux: { target: string[]; icon: string };
    mac: { target: string[]; icon: string };
    win: { target: string[]; icon: string };
  };

  it("passes electron-builder's own schema validation", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration(c: unknown, log: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  }, 60_000); // app-builder-lib is big to load

  it('builds AppImage and deb, dmg, nsis, under the product name the data directory uses', () => {
    expect(config.productName).toBe('Berth');
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.win.target).toEqual(['nsis']);
  });

  it('names icons that exist in the right formats', () => {
    const png = read(config.linux.icon);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
    const icns = read(config.mac.icon);
    expect(icns.subarray(0, 4).toString()).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const ico = read(config.win.icon);
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
    expect(ico[6]).toBe(0); // first entry 256×256
  });
});
