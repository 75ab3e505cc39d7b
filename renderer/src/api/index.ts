/** The app-wide client and transport, created once at start-up. */
import { createClient, pickTransport } from './client';

export const transport = pickTransport();
export const berth = createClient(transport);
export { asBerthError } from './client';
export type { FileSource, UploadProgress } from './transport';
