/**
 * Writes that finish. A write may take fewer bytes than asked (a nearly full disk): the rest is written
 * again, and a write that takes nothing means there is no space. The blob writers (and so the upload
 * sessions) and the index journal all write through here.
 */
import type { FileHandle } from 'node:fs/promises';

/** Writes every byte of `buffers` at `at` (null: at the file's current end, for files opened to append). */
export async function writevAll(fh: FileHandle, buffers: Buffer[], at: number | null): Promise<void> {
  let rest = buffers;
  let pos = at;
  while (rest.length > 0) {
    const n = (await fh.writev(rest, pos ?? undefined)).bytesWritten;
    if (n === 0) throw Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });
    if (pos !== null) pos += n;
    let total = 0;
    for (const b of rest) total += b.length;
    rest = sliceBuffers(rest, n, total);
  }
}

/** One buffer, written whole. */
export function writeWhole(fh: FileHandle, buf: Buffer, position: number | null): Promise<void> {
  return writevAll(fh, [buf], position);
}

/** The bytes [from, to) of a list of buffers, as views (no copy). */
export function sliceBuffers(buffers: Buffer[], from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const b of buffers) {
    const start = Math.max(from - at, 0);
    const end = Math.min(to - at, b.length);
    if (end > start) out.push(b.subarray(start, end));
    at += b.length;
  }
  return out;
}
