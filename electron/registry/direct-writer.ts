/**
 * Blob bytes written with O_DIRECT (Linux): straight from aligned buffers of ours to the disk, bypassing
 * the page cache.
 *
 * Why: Berth makes every blob durable before it answers (DESIGN rule 6), so the disk write is paid within
 * the push either way. Through the page cache it is paid twice: the kernel first copies every byte into
 * freshly allocated cache pages (about 1 s of system CPU per GiB on the 2-core VM we measure on, up to 4 s
 * when those pages are cold in the hypervisor), then writes them back. With O_DIRECT the device reads our
 * buffers directly and the copy, the page allocation and the write-back bookkeeping disappear; the
 * closing fdatasync only has metadata left. Databases make the same trade for the same reason. The first
 * CACHED_HEAD bytes of a blob still go through the cache, so a layer pulled right after its push is
 * served from memory.
 *
 * O_DIRECT needs the buffer address, the file offset and the length aligned to the device's logical
 * block. Buffers come from a WebAssembly.Memory, whose base is page-aligned (Node's own Buffers are not:
 * malloc hands out 16-byte alignment). Writes start at an aligned offset and carry whole blocks; the last
 * partial block of a request goes through the ordinary file handle, so the file never holds a padded
 * tail, not even for a moment. Where O_DIRECT is refused (another OS, a filesystem without it, a buffer
 * the kernel does not like) the writer falls back to ordinary writes and says nothing: same bytes, same
 * guarantees, the old speed.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Hash } from 'node:crypto';
import { Writable } from 'node:stream';
import { MAX_DELIVERY, type BodySink } from './body-front';
import { sliceBuffers, writevAll } from './write-all';

/** Covers the logical block size of every disk in use (512 or 4096 bytes). */
export const ALIGN = 4096;
/** One buffer; a write carries up to SLABS_PER_WRITER - 1 of them while the last one fills. */
const SLAB = 2 << 20;
const SLABS_PER_WRITER = 4;
/**
 * The first bytes of every blob still go through the page cache: a layer pushed is often pulled right
 * away (a local cluster, a test job), and a blob the kernel holds is served from memory instead of the
 * disk. Past this, the copy costs more than the cache is worth. A multiple of SLAB.
 */
export const CACHED_HEAD = 64 << 20;
/** Uploads written directly at once; more fall back to ordinary writes (memory stays bounded: 8 × 8 MiB). */
const MAX_WRITERS = 8;

/** O_DIRECT exists here (Linux) and nobody turned it off (BERTH_DIRECT_IO=0, for A/B measurements). */
export const directIoAvailable = constants.O_DIRECT !== undefined && process.env.BERTH_DIRECT_IO !== '0';

/** A writer's buffers: SLABS_PER_WRITER aligned slabs of SLAB bytes. */
export interface SlabSet {
  slabs: Buffer[];
  release(): void;
}

let memory: WebAssembly.Memory | undefined;
const freeSets: number[] = [];

/** Aligned slabs for one writer, or undefined when MAX_WRITERS are busy. Memory is reserved on first use. */
export function takeSlabs(): SlabSet | undefined {
  if (!memory) {
    const bytes = MAX_WRITERS * SLABS_PER_WRITER * SLAB;
    memory = new WebAssembly.Memory({ initial: bytes / 65536, maximum: bytes / 65536 }); // never grows: growing would detach our views
    for (let i = MAX_WRITERS - 1; i >= 0; i--) freeSets.push(i);
  }
  const index = freeSets.pop();
  if (index === undefined) return undefined;
  const base = index * SLABS_PER_WRITER * SLAB;
  const slabs = Array.from({ length: SLABS_PER_WRITER }, (_, i) => Buffer.from(memory!.buffer, base + i * SLAB, SLAB));
  let released = false;
  return {
    slabs,
    release: () => {
      if (released) return;
      released = true;
      freeSets.push(index);
    },
  };
}

/** Opens `path` a second time for direct writes; undefined where the OS or filesystem refuses O_DIRECT. */
export async function openDirect(path: string): Promise<FileHandle | undefined> {
  if (!directIoAvailable) return undefined;
  try {
    return await open(path, constants.O_WRONLY | constants.O_DIRECT);
  } catch {
    return undefined;
  }
}

interface Pending {
  chunk: Buffer;
  offset: number;
  cb: (err?: Error | null) => void;
}

/**
 * The direct-I/O twin of HashingFileWriter, with the same contract: bytes are hashed as they are accepted,
 * `position` is where the file ends once the writer has settled, a write error sets `failed` (the data
 * must then be thrown away), and a source that is merely cut off leaves file and hash agreeing — whatever
 * was accepted is written out first, then the writer reports the error.
 *
 * Chunks are copied into the current slab (one memcpy, in JavaScript); a full slab joins the queue; one
 * writev at a time drains the queue (writes to one file are serialized by the kernel anyway, and
 * concurrent ones only spin on its lock). When every slab is queued or being written, the chunk waits:
 * that is the backpressure, and memory stays at SLABS_PER_WRITER × SLAB.
 */
export class DirectFileWriter extends Writable implements BodySink {
  position: number;
  failed = false;
  /** Where the next slab goes in the file (aligned while we write directly). */
  private fileAt: number;
  private free: Buffer[];
  private slab?: Buffer;
  private fill = 0;
  private queue: Array<{ slab: Buffer; length: number }> = [];
  private writing = false;
  private pending?: Pending;
  private error?: Error;
  private idle: Array<() => void> = [];
  /** accept() said "full": call onRoom once a delivery fits again. */
  private full = false;
  /** Set by whoever feeds accept() (RequestBody.resume). */
  onRoom?: () => void;
  /** Bytes that went to the disk directly (the rest went through the page cache). */
  directBytes = 0;
  /** Cleared when the kernel refuses a direct write (EINVAL): the rest goes through the page cache. */
  private directOk = true;
  /** File offset from which writes go direct (before it: the cached head). */
  private readonly directFrom: number;

  constructor(
    private readonly fh: FileHandle,
    /** The same file opened with O_DIRECT; the writer closes it when it ends. */
    private readonly direct: FileHandle,
    private readonly slabs: SlabSet,
    readonly hash: Hash,
    start: number,
    private readonly onBytes?: (total: number) => void,
    cachedHead = CACHED_HEAD,
  ) {
    super({ highWaterMark: 1 << 20 });
    if (start % ALIGN !== 0) throw new Error('DirectFileWriter must start at an aligned offset');
    this.position = start;
    this.fileAt = start;
    this.directFrom = start + cachedHead;
    this.free = [...slabs.slabs];
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.error) return cb(this.error);
    this.hash.update(chunk);
    this.position += chunk.length;
    this.take({ chunk, offset: 0, cb });
  }

  /**
   * The fast path from a RequestBody (see BodySink): hash and copy during the call. Says "full" while a
   * whole delivery would not fit in the free slabs, so a delivery never has to wait for a slab; if one
   * does anyway, its rest is copied aside and written once a slab frees up.
   */
  accept(view: Buffer): boolean {
    if (this.error || this.destroyed || this.writableEnded) return true; // the request is failing: drop
    this.hash.update(view);
    this.position += view.length;
    this.take({ chunk: view, offset: 0, cb: () => undefined });
    if (this.pending && this.pending.chunk === view) this.pending = { ...this.pending, chunk: Buffer.from(view) };
    if (this.room() >= MAX_DELIVERY) return true;
    this.full = true;
    return false;
  }

  /** Bytes that fit before a slab must be written out. */
  private room(): number {
    return this.free.length * SLAB + (this.slab ? this.slab.length - this.fill : 0);
  }

  /** Copies a chunk into slabs; parks it when none is free (resumed by the next finished write). */
  private take(p: Pending): void {
    while (p.offset < p.chunk.length) {
      if (!this.slab) {
        this.slab = this.free.pop();
        if (!this.slab) {
          this.pending = p;
          return;
        }
      }
      const n = p.chunk.copy(this.slab, this.fill, p.offset);
      this.fill += n;
      p.offset += n;
      if (this.fill === this.slab.length) this.enqueue();
    }
    p.cb();
  }

  private enqueue(): void {
    if (!this.slab) return;
    if (this.fill > 0) this.queue.push({ slab: this.slab, length: this.fill });
    else this.free.push(this.slab);
    this.slab = undefined;
    this.fill = 0;
    this.drain();
  }

  private drain(): void {
    if (this.writing) return;
    if (this.error) {
      // Nothing more reaches the file after a failed write; give the slabs back and let waiters go.
      for (const b of this.queue.splice(0)) this.free.push(b.slab);
    }
    if (this.queue.length === 0) {
      for (const wake of this.idle.splice(0)) wake();
      return;
    }
    this.writing = true;
    const batch = this.queue.splice(0);
    const at = this.fileAt;
    const buffers = batch.map((b) => b.slab.subarray(0, b.length));
    let length = 0;
    for (const b of buffers) length += b.length;
    this.writeBatch(buffers, length, at)
      .then(
        () => {
          this.fileAt = at + length;
          this.onBytes?.(this.fileAt);
        },
        (err: Error) => {
          this.failed = true;
          this.error = err;
        },
      )
      .finally(() => {
        this.writing = false;
        for (const b of batch) this.free.push(b.slab);
        const p = this.pending;
        this.pending = undefined;
        if (p && this.error) p.cb(this.error);
        else if (p) this.take(p);
        this.drain();
        if (this.full && (this.error || this.room() >= MAX_DELIVERY)) {
          this.full = false;
          this.onRoom?.();
        }
      });
  }

  /**
   * The cached head goes through the page cache; past it whole blocks go direct and a partial last block
   * (only at the end of a request) through the page cache. A direct write refused with EINVAL is retried
   * through the page cache, and so is the rest.
   */
  private async writeBatch(buffers: Buffer[], length: number, at: number): Promise<void> {
    if (!this.directOk || at < this.directFrom) {
      // The cached head (or no O_DIRECT any more): through the page cache, up to where direct writes begin.
      const cached = this.directOk ? Math.min(length, this.directFrom - at) : length;
      await writevAll(this.fh, sliceBuffers(buffers, 0, cached), at);
      if (cached === length) return;
      buffers = sliceBuffers(buffers, cached, length);
      at += cached;
      length -= cached;
    }
    const aligned = length - (length % ALIGN);
    if (aligned > 0) {
      try {
        await writevAll(this.direct, sliceBuffers(buffers, 0, aligned), at);
        this.directBytes += aligned;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        this.directOk = false;
        await writevAll(this.fh, buffers, at);
        return;
      }
    }
    if (aligned < length) await writevAll(this.fh, sliceBuffers(buffers, aligned, length), at + aligned);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.afterAll(() => {
      this.letGo();
      cb(this.error);
    });
  }

  /**
   * A cut-off source: what was accepted is still written out (a parked chunk included, it was hashed
   * already), so file and hash agree and the upload can resume; then the error is reported.
   */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.pending) this.pending.cb = () => undefined;
    this.afterAll(() => {
      this.letGo();
      cb(err);
    });
  }

  /** The slabs go back to the pool and the second handle is closed (the caller's own handle stays open). */
  private letGo(): void {
    this.slabs.release();
    this.direct.close().catch(() => undefined);
  }

  /** Runs `fn` once every accepted byte is written (or a write failed): the parked chunk, then the partial slab. */
  private afterAll(fn: () => void): void {
    if (this.pending || this.writing || this.queue.length > 0) {
      this.idle.push(() => this.afterAll(fn));
      return;
    }
    if (this.slab && this.fill > 0 && !this.error) {
      this.enqueue();
      this.afterAll(fn);
      return;
    }
    fn();
  }

  /** Makes every byte written so far durable. */
  async flush(): Promise<void> {
    await this.fh.datasync();
  }

  /** Resolves once no write is in flight any more (after success or destruction). */
  async settled(): Promise<void> {
    if (!this.closed && this.destroyed) await new Promise((r) => this.once('close', r));
    await new Promise<void>((r) => this.afterAll(r));
  }
}

/**
 * A DirectFileWriter for `path` (already open as `fh`) from byte `start`, or undefined when this write
 * cannot or should not go direct: an unaligned start (a resumed upload), a blob that fits in the cached
 * head, no O_DIRECT here, or every slab set busy.
 */
export async function openDirectWriter(path: string, fh: FileHandle, hash: Hash, start: number, expectedSize?: number, onBytes?: (total: number) => void): Promise<DirectFileWriter | undefined> {
  if (!directIoAvailable || start % ALIGN !== 0 || (expectedSize !== undefined && expectedSize <= CACHED_HEAD)) return undefined;
  const slabs = takeSlabs();
  if (!slabs) return undefined;
  const direct = await openDirect(path);
  if (!direct) {
    slabs.release();
    return undefined;
  }
  return new DirectFileWriter(fh, direct, slabs, hash, start, onBytes);
}
