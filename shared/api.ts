/**
 * The one API contract between the UI and the backend. Every method is listed once, here (by area);
 * the IPC handlers, the preload object, the HTTP bridge and the renderer client are derived from it.
 */
import type { ClientOf, HandlersOf } from './contract';
import { appMethods } from './api/app';
import { archiveMethods } from './api/archive';
import { engineMethods } from './api/engine';
import { jobMethods } from './api/jobs';
import { registryMethods } from './api/registry';

export const api = {
  ...appMethods,
  ...engineMethods,
  ...jobMethods,
  ...registryMethods,
  ...archiveMethods,
};

export type Api = typeof api;
export type MethodName = keyof Api & string;
export const methodNames = Object.keys(api) as MethodName[];
export const isMethodName = (name: string): name is MethodName => Object.hasOwn(api, name);

/** The object the UI calls (window.berth.call… or the HTTP client). */
export type BerthApi = ClientOf<Api>;
/** What the backend implements. */
export type BerthHandlers = HandlersOf<Api>;

export type { Envelope, CallContext } from './contract';
export type { BerthEvent } from './events';
export * from './errors';
