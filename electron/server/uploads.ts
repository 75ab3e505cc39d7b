/**
 * Files a browser sends to `berth serve` (PUT /api/uploads): streamed to `<dataDir>/uploads-bridge/<uuid>`
 * without buffering, so an archive of any size goes through with flat memory. Bytes land in `<uuid>.part`
 * and are renamed only when complete (and equal to Content-Length when one was sent): a torn upload never
 * becomes visible. The archive service maps `{ uploadId }` to the file with `resolveUpload`.
 */
import { createWriteStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { BerthError } from '../../shared/errors';
import { publishFile } from '../app/atomic';

export const uploadsDirName = 'uploads-bridge';
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function uploadsDir(dataDir: string): string {
  return join(dataDir, uploadsDirName);
}

/** The path of an upload; the id must be a uuid (the only ids the bridge hands out), never a path. */
export function uploadPath(dataDir: string, uploadId: string): string {
  if (!uuidPattern.test(uploadId)) throw new BerthError('INVALID_INPUT', `"${uploadId}" is not an upload id (expected a uuid from PUT /api/uploads).`);
  return join(uploadsDir(dataDir), uploadId);
}

/** The path of a finished upload, or NOT_FOUND when there is none by that id. */
export function resolveUpload(dataDir: string, uploadId: string): string {
  const path = uploadPath(dataDir, uploadId);
  try {
    if (statSync(path).isFile()) return path;
  } catch {
    // fall through
  }
  throw new BerthError('NOT_FOUND', `No uploaded file with id ${uploadId}; upload it again.`);
}

export async function receiveUpload(body: Readable, dataDir: string, expectedSize: number | undefined, signal?: AbortSignal): Promise<{ uploadId: string; size: number }> {
  const dir = uploadsDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const uploadId = randomUUID();
  const final = join(dir, uploadId);
  const part = `${final}.part`;
  let size = 0;
  try {
    body.on('data', (chunk: Buffer) => (size += chunk.length));
    await pipeline(body, createWriteStream(part, { flags: 'wx', mode: 0o600 }), { signal });
    if (expectedSize !== undefined && size !== expectedSize) {
      throw new BerthError('INVALID_INPUT', `The upload ended after ${size} of ${expectedSize} bytes; send it again.`);
    }
    await publishFile(part, final);
    return { uploadId, size };
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
}

/** Uploads nobody imported within a day are forgotten (called when a bridge starts). */
export function removeOldUploads(dataDir: string, maxAgeMs = 24 * 3600_000): void {
  const dir = uploadsDir(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > maxAgeMs) rmSync(path, { force: true });
    } catch {
      // raced with another cleanup
    }
  }
}
