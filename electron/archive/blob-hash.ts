/**
 * Hashing a blob while its bytes flow, shared by every sink (preview, registry import, export spool): the
 * digest the archive's path promises is checked, and a layer's diff_id (sha256 of its uncompressed bytes)
 * comes out of the same pass when it can.
 */
import { createHash, type Hash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { invalid } from './tar-entries';
import { startsGzip, type BlobWrite, type StoredBlob } from './scan';

/** The digest algorithm a digest string names (sha256 unless it says sha512). */
export const algorithmOf = (digest: string | undefined) => (digest?.startsWith('sha512:') ? 'sha512' : 'sha256');

export function digestMismatch(info: BlobWrite, actual: string) {
  return invalid(`The archive entry ${info.path} is damaged: its content hashes to ${actual}, not the digest its name promises.`, {
    entry: info.path,
    expected: info.digest,
    actual,
  });
}

/** A blob read back as a manifest, index or config that is bigger than such a document may be. */
export function blobTooLarge(digest: string, size: number, max: number) {
  return invalid(`The blob ${digest} is ${size} bytes; a manifest or config is at most ${max}.`, { digest });
}

/** Feed it every chunk of one blob, in order; `finish` checks the promised digest and describes the blob. */
export class BlobHasher {
  private readonly hash: Hash;
  /** A layer's diff_id is always sha256; computed apart only when the blob is hashed with something else. */
  private readonly diffHash: Hash | undefined;
  size = 0;
  /** Undefined until the first byte: whether the blob starts with gzip's magic number. */
  gzipped: boolean | undefined;

  constructor(private readonly info: BlobWrite) {
    const algorithm = algorithmOf(info.digest);
    this.hash = createHash(algorithm);
    this.diffHash = algorithm === 'sha256' ? undefined : createHash('sha256');
  }

  update(chunk: Buffer): void {
    if (this.gzipped === undefined && chunk.length > 0) this.gzipped = startsGzip(chunk);
    this.hash.update(chunk);
    this.diffHash?.update(chunk);
    this.size += chunk.length;
  }

  finish(): StoredBlob {
    const digest = `${algorithmOf(this.info.digest)}:${this.hash.digest('hex')}`;
    if (this.info.digest && digest !== this.info.digest) throw digestMismatch(this.info, digest);
    // A blob the archive holds gzip-compressed: its diff_id is the digest of what it decompresses to,
    // found on demand (uncompressedDigest) where the bytes are kept.
    if (this.gzipped) return { digest, size: this.size, gzipped: true };
    return { digest, size: this.size, diffId: this.diffHash ? `sha256:${this.diffHash.digest('hex')}` : digest, gzipped: false };
  }
}

/** sha256 of what a gzip stream decompresses to: a compressed layer's diff_id. */
export async function gunzipDigest(stream: NodeJS.ReadableStream, digest: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const gunzip = createGunzip();
  gunzip.on('data', (c: Buffer) => hash.update(c));
  try {
    await pipeline(stream, gunzip, { signal });
  } catch (err) {
    throw invalid(`A compressed layer in the archive (${digest}) does not decompress: ${(err as Error).message}.`, { digest });
  }
  return `sha256:${hash.digest('hex')}`;
}
