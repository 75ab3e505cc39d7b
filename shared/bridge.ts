/**
 * How the contract travels. Both transports carry the same Envelope; only the wire differs.
 *
 * Electron IPC: the preload exposes `window.berth` (PreloadBridge). One channel carries every call; the
 * main process checks the method against the contract and the sender against the app's own window.
 *
 * HTTP bridge (`berth serve`, and the control socket the CLI uses to hand work to a running instance):
 *   POST {apiPrefix}/call/<method>   body: JSON input          → 200 + Envelope (401 + Envelope without the token)
 *   GET  {apiPrefix}/events          server-sent events, each `data:` line one BerthEvent (JSON)
 *   PUT  {apiPrefix}/uploads?name=F  body: the file's bytes     → Envelope<{ uploadId, size }> (archive import from a browser)
 * Every request carries the per-run token: `Authorization: Bearer <token>`, or `?token=` where a header
 * cannot be set (EventSource). The URL `berth serve` prints carries the token in the fragment (#token=…),
 * which the browser never sends to the server; the UI keeps it in sessionStorage.
 */
import type { Envelope } from './contract';
import type { MethodName } from './api';
import type { BerthEvent } from './events';

export const ipcChannels = {
  call: 'berth:call',
  event: 'berth:event',
} as const;

export const apiPrefix = '/api';
export const tokenParam = 'token';

export interface PreloadBridge {
  call(method: MethodName, input: unknown): Promise<Envelope>;
  subscribe(listener: (event: BerthEvent) => void): () => void;
  /** The filesystem path of a dropped or picked File (Electron only), so the backend reads it directly. */
  pathForFile(file: File): string;
}
