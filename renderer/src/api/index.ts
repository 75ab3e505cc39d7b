/**
 * The app-wide client and transport. The transport is picked on first use (not at import), so modules
 * that import the client also load under Node in unit tests.
 */
import { createClient, pickTransport } from './client';
import type { Transport } from './transport';

let picked: Transport | undefined;
const current = (): Transport => (picked ??= pickTransport());

export const transport: Transport = {
  get kind() {
    return current().kind;
  },
  call: (method, input) => current().call(method, input),
  subscribe: (listener, onOpen, onLost) => current().subscribe(listener, onOpen, onLost),
  sendFile: (file, onProgress, signal) => current().sendFile(file, onProgress, signal),
};
export const berth = createClient(transport);
export { asBerthError } from './client';
export type { FileSource, UploadProgress } from './transport';
