/**
 * gzip on every core: the stream is cut into segments, each compressed as its own gzip member on libuv's
 * thread pool (zlib's async API), and the members are emitted in order. A concatenation of gzip members
 * is one valid gzip stream (RFC 1952 §2.2) — Go's compress/gzip (docker, containerd, skopeo), zlib and
 * Node all read it whole — so layers gzip as fast as the cores allow, like pigz, with memory bounded by
 * segment × parallel.
 */
import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export interface ParallelGzipOptions {
  /** Bytes per gzip member (default 1 MiB): deflate's window is 32 KiB, so the ratio loss is negligible. */
  segment?: number;
  /** Members compressing at once (default: the cores, at most 4 — libuv's default pool size). */
  parallel?: number;
  level?: number;
}

export class ParallelGzip extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private queue: Array<Promise<Buffer>> = [];
  private started = false;
  private readonly segment: number;
  private readonly parallel: number;
  private readonly level: number;

  constructor(opts: ParallelGzipOptions = {}) {
    super({ readableHighWaterMark: 1 << 20 });
    this.segment = opts.segment ?? 1 << 20;
    this.parallel = Math.max(1, opts.parallel ?? Math.min(4, availableParallelism()));
    this.level = opts.level ?? 1;
  }

  private cut(): void {
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const member = gzipAsync(data, { level: this.level });
    member.catch(() => {}); // observed when its turn comes
    this.queue.push(member);
    this.started = true;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Emits finished members in order until at most `keep` are in flight. */
  private async drainTo(keep: number): Promise<void> {
    while (this.queue.length > keep) this.push(await this.queue.shift()!);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.segment) return cb();
    this.cut();
    this.drainTo(this.parallel - 1).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    // An empty input still becomes one (empty) gzip member: a valid gzip stream.
    if (this.pendingBytes > 0 || !this.started) this.cut();
    this.drainTo(0).then(() => cb(), cb);
  }
}
