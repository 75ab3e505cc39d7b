/**
 * A blob sink that spools to plain files in a private directory: for turning one archive into another
 * (the engine's `docker save` into an OCI archive) without the registry. Each blob is hashed while it is
 * written and then named by its digest, so the writer can stream it back by digest. The directory lives
 * beside the output, on the same disk, and is removed whole when the conversion ends, however it ends.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobHasher, blobTooLarge, gunzipDigest } from './blob-hash';
import type { BlobSink, BlobWrite, StoredBlob } from './scan';
import type { OpenBlob } from './writer';

export class SpoolSink implements BlobSink {
  private incoming = 0;

  constructor(
    readonly dir: string,
    private readonly signal?: AbortSignal,
  ) {}

  private path(digest: string): string {
    return join(this.dir, digest.replace(':', '-'));
  }

  async write(body: AsyncIterable<Buffer>, info: BlobWrite): Promise<StoredBlob> {
    const hasher = new BlobHasher(info);
    const tmp = join(this.dir, `incoming-${this.incoming++}`);
    const hashed = async function* () {
      for await (const chunk of body) {
        hasher.update(chunk);
        yield chunk;
      }
    };
    await pipeline(Readable.from(hashed(), { objectMode: false }), createWriteStream(tmp, { highWaterMark: 1 << 20 }), { signal: this.signal });
    const stored = hasher.finish();
    // Content-addressed: a second copy of the same blob replaces the first with identical bytes.
    await rename(tmp, this.path(stored.digest));
    return stored;
  }

  async read(digest: string, max: number): Promise<Buffer> {
    const { size } = await stat(this.path(digest));
    if (size > max) throw blobTooLarge(digest, size, max);
    return readFile(this.path(digest));
  }

  uncompressedDigest(digest: string): Promise<string> {
    return gunzipDigest(createReadStream(this.path(digest)), digest, this.signal);
  }

  /** The writer's view: a spooled blob by digest, streamed from its file. */
  readonly open: OpenBlob = async (digest) => {
    const { size } = await stat(this.path(digest));
    return { size, stream: createReadStream(this.path(digest), { highWaterMark: 1 << 20 }) };
  };
}
