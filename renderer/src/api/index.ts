/**
 * The app-wide client and transport. The transport is picked on first use (not at import), so modules
 * that import the client also load under Node in unit tests.
 */
import { createClient, pickTransport } from './client';
import type { Transport } from './transport';

let picked: Transport | undefined;
const current = (): Transport => (picked ??= pickTransport());

// A missing or stale token (a bookmarked URL, a restarted `berth serve`) fails every call the same way;
// the shell says so once instead of every view reporting it.
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export const transport: Transport = {
  get kind() {
    return current().kind;
  },
  async call(method, input) {
    const env = await current().call(method, input);
    if (!env.ok && env.error.code === 'UNAUTHORIZED') for (const l of unauthorizedListeners) l();
    return env;
  },
  // When the event stream drops, one cheap call tells why: after `berth serve` restarts, the old token is
  // refused (EventSource gives up on a 401 without saying so), and the call's UNAUTHORIZED shows the
  // "open the new URL" banner instead of an endless "Reconnecting…".
  subscribe: (listener, onOpen, onLost) =>
    current().subscribe(listener, onOpen, () => {
      onLost?.();
      void transport.call('app.info', {});
    }),
  sendFile: (file, onProgress, signal) => current().sendFile(file, onProgress, signal),
  get exportOut() {
    return current().exportOut;
  },
};
export const berth = createClient(transport);
export { asBerthError } from './client';
export type { ExportOut, FileSource, UploadProgress } from './transport';
