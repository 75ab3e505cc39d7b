/**
 * The UI's one way to the backend. The client is derived from the contract's method list — no code per
 * method — and turns error envelopes into BerthError, so views act on `err.code`. Which transport is in
 * use (Electron IPC or the HTTP bridge) is decided here and nowhere else.
 */
import { methodNames, type BerthApi } from '../../../shared/api';
import type { PreloadBridge } from '../../../shared/bridge';
import { BerthError, type ErrorInfo } from '../../../shared/errors';
import { httpTransport, takeToken } from './http';
import { ipcTransport } from './ipc';
import type { Transport } from './transport';

export function createClient(transport: Transport): BerthApi {
  const client: Record<string, (input?: unknown) => Promise<unknown>> = {};
  for (const method of methodNames) {
    client[method] = async (input?: unknown) => {
      const env = await transport.call(method, input ?? {});
      if (!env.ok) throw BerthError.from(env.error);
      return env.result;
    };
  }
  return client as unknown as BerthApi;
}

/** Anything caught (an envelope error, a rejected upload, a thrown Error) as a BerthError. */
export function asBerthError(err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) return BerthError.from(err as ErrorInfo);
  return new BerthError('INTERNAL', err instanceof Error ? err.message : String(err));
}

declare global {
  interface Window {
    berth?: PreloadBridge;
  }
}

export function pickTransport(): Transport {
  if (typeof window !== 'undefined' && window.berth) return ipcTransport(window.berth);
  return httpTransport(takeToken());
}
