/**
 * One streaming pass over a tar archive (plain or gzip-compressed), with the safety rules an image archive
 * must pass before any of its bytes are trusted: entry paths are relative and stay inside the archive, links
 * point inside it, no path appears twice, and the entry count is capped. Bodies are handed to the caller
 * as they stream; nothing is buffered here. Errors come out as ARCHIVE_INVALID with words a person can act on.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { BerthError } from '../../shared/errors';

/** Image archives have a few entries per layer; far more means this is not one (or is a tar bomb). */
export const MAX_ENTRIES = 10_000;
const READ_CHUNK = 1 << 20;

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'link';

export interface TarEntry {
  /** Normalised archive path: relative, '/'-separated, no '.' or '..' parts. */
  path: string;
  type: TarEntryType;
  size: number;
  /** Links: the normalised archive path the link resolves to. */
  target?: string;
  /** The entry's bytes (files only). Consume it or leave it: what is left is drained. */
  body: AsyncIterable<Buffer>;
}

export interface TarPassOptions {
  signal?: AbortSignal;
  /** Compressed bytes read from the file so far (the archive's own size is the natural total). */
  onRead?: (bytes: number) => void;
  maxEntries?: number;
}

export const invalid = (message: string, detail?: unknown) => new BerthError('ARCHIVE_INVALID', message, detail);

/** Gzip's magic number: the first two bytes of every gzip member. */
export async function isGzipFile(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Normalises a tar entry name, refusing what could escape an extraction directory or means different
 * things on different systems: absolute paths, drive letters, `..`, backslashes and NUL.
 */
export function normaliseEntryPath(raw: string): string {
  if (raw.includes('\0')) throw invalid(`The archive has an entry name containing a NUL byte; it is not a valid image archive.`);
  if (raw.includes('\\')) throw invalid(`The archive entry "${raw}" contains a backslash; image archives use "/" only.`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) {
    throw invalid(`The archive entry "${raw}" has an absolute path; image archives hold relative paths only.`, { entry: raw });
  }
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw invalid(`The archive entry "${raw}" climbs out of the archive with "..".`, { entry: raw });
  return parts.join('/');
}

/** Where a link points, as an archive path; refuses targets outside the archive. */
function linkTarget(entryPath: string, header: Header): string {
  const raw = header.linkname ?? '';
  const kind = header.type === 'symlink' ? 'symbolic link' : 'hard link';
  if (!raw) throw invalid(`The ${kind} "${entryPath}" has no target.`);
  if (raw.startsWith('/') || raw.includes('\0') || raw.includes('\\')) {
    throw invalid(`The ${kind} "${entryPath}" points outside the archive (${raw}).`, { entry: entryPath, target: raw });
  }
  // Symlinks are relative to their own directory; hard links name another entry from the archive's root.
  const joined = header.type === 'symlink' ? posix.join(posix.dirname(entryPath), raw) : posix.normalize(raw);
  if (joined === '..' || joined.startsWith('../') || joined === '.' || joined === '') {
    throw invalid(`The ${kind} "${entryPath}" points outside the archive (${raw}).`, { entry: entryPath, target: raw });
  }
  return normaliseEntryPath(joined);
}

/** Node and zlib errors → a message about the archive, not about our plumbing. */
export function describeReadError(err: unknown, compressed: boolean): BerthError {
  if (err instanceof BerthError) return err;
  const e = err as NodeJS.ErrnoException & { name?: string };
  if (e?.name === 'AbortError') return new BerthError('CANCELLED', 'Cancelled');
  const msg = String(e?.message ?? err);
  if (e?.code === 'ENOENT') return new BerthError('NOT_FOUND', `The archive file does not exist: ${e.path ?? ''}`);
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return new BerthError('INVALID_INPUT', `Berth may not read the archive file (${e.code}): ${e.path ?? ''}`);
  if (e?.code === 'EISDIR') return new BerthError('INVALID_INPUT', 'The archive path is a directory; choose a .tar or .tar.gz file.');
  if (e?.code?.startsWith('Z_') || /unexpected end of file|incorrect header check|invalid (block type|distance|stored block)/i.test(msg)) {
    return /unexpected end of file/i.test(msg)
      ? invalid('The gzip-compressed archive ends early: the file is truncated. Copy or download it again.')
      : invalid(`The archive looks gzip-compressed but its data is corrupt (${msg}).`);
  }
  if (/unexpected end of data/i.test(msg)) return invalid('The archive ends in the middle of an entry: the file is truncated. Copy or save it again.');
  if (/invalid tar header|header exceeds|invalid header/i.test(msg)) {
    return invalid(`This is not a tar archive${compressed ? ' inside the gzip compression' : ''}: expected the output of \`docker save\`, \`skopeo copy … docker-archive:\` or an OCI image layout in a tar.`);
  }
  return new BerthError('INTERNAL', `Reading the archive failed: ${msg}`);
}

/**
 * Where the tar comes from: a file (plain or gzip, told by its first bytes), or a stream of a plain tar
 * — e.g. the engine's `docker save`, read as it arrives so the archive never lands on disk whole.
 */
export type TarSource = string | { stream: NodeJS.ReadableStream };

/**
 * Reads the archive once, calling `onEntry` for each entry in order. The returned promise settles when the
 * whole archive was read and every handler finished; the first error (bad entry, bad data, handler
 * failure, cancel) stops the read.
 */
export async function readTarEntries(
  from: TarSource,
  onEntry: (entry: TarEntry) => Promise<void>,
  options: TarPassOptions = {},
): Promise<{ compressed: boolean; entries: number }> {
  const compressed =
    typeof from === 'string'
      ? await isGzipFile(from).catch((err) => {
          throw describeReadError(err, false);
        })
      : false;
  const maxEntries = options.maxEntries ?? MAX_ENTRIES;
  const source = (typeof from === 'string' ? createReadStream(from, { highWaterMark: READ_CHUNK }) : from.stream) as Readable;
  let read = 0;
  const counter = new PassThrough({ highWaterMark: READ_CHUNK });
  counter.on('data', (chunk: Buffer) => {
    read += chunk.length;
    options.onRead?.(read);
  });
  const extract = tarExtract();
  const stages: NodeJS.ReadWriteStream[] = compressed ? [createGunzip({ chunkSize: 256 * 1024 })] : [];
  const piping = pipeline([source, counter, ...stages, extract] as unknown as [Readable, ...NodeJS.ReadWriteStream[]], {
    signal: options.signal,
  });
  piping.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"

  const seen = new Set<string>();
  let entries = 0;
  try {
    for await (const entry of extract) {
      options.signal?.throwIfAborted();
      const header = entry.header;
      if (++entries > maxEntries) {
        throw invalid(`The archive has more than ${maxEntries.toLocaleString('en')} entries; image archives hold a few per layer, so this is not an image archive.`, { maxEntries });
      }
      const path = normaliseEntryPath(header.name);
      const type = header.type as string | undefined;
      if (type === 'directory') {
        await drain(entry as unknown as AsyncIterable<Buffer>);
        continue;
      }
      if (type !== 'file' && type !== 'contiguous-file' && type !== 'symlink' && type !== 'link') {
        throw invalid(`The archive entry "${path}" is a ${type ?? 'special file'}; image archives hold only files, directories and links.`, { entry: path });
      }
      if (path === '') throw invalid('The archive has a file entry with an empty name.');
      if (seen.has(path)) throw invalid(`The archive holds "${path}" twice; which copy is meant is ambiguous, so it is refused.`, { entry: path });
      seen.add(path);
      const linkish = type === 'symlink' || type === 'link';
      const e: TarEntry = {
        path,
        type: linkish ? type : 'file',
        size: linkish ? 0 : (header.size ?? 0),
        target: linkish ? linkTarget(path, header) : undefined,
        body: entry as unknown as AsyncIterable<Buffer>,
      };
      await onEntry(e);
      await drain(entry as unknown as AsyncIterable<Buffer>);
    }
    await piping;
  } catch (err) {
    extract.destroy();
    source.destroy();
    await piping.catch(() => {});
    if (options.signal?.aborted) throw options.signal.reason ?? new BerthError('CANCELLED', 'Cancelled');
    throw describeReadError(err, compressed);
  }
  return { compressed, entries };
}

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) void _; // skip the rest of the entry
}
