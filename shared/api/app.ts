/** The app itself: what it is, where its data lives, its settings. */
import { z } from 'zod';
import { method } from '../contract';

export interface AppInfo {
  version: string;
  /** 'desktop' inside Electron, 'serve' for `berth serve` in a browser */
  mode: 'desktop' | 'serve';
  dataDir: string;
  platform: string;
}

export interface Settings {
  registry: {
    host: string;
    port: number;
    /** Start the embedded registry with the app. */
    autoStart: boolean;
  };
}

export const settingsInput = z
  .object({
    registry: z
      .object({
        host: z.string().min(1).max(255),
        port: z.number().int().min(1).max(65535),
        autoStart: z.boolean(),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

export const appMethods = {
  'app.info': method(z.object({}).strict()).returns<AppInfo>(),
  'settings.get': method(z.object({}).strict()).returns<Settings>(),
  'settings.update': method(settingsInput).returns<Settings>(),
};
