/**
 * Preview: read the archive once without storing anything. Blobs are hashed and discarded (so a damaged
 * archive is caught before the user commits to an import); small JSON blobs — manifests, indexes,
 * configs — are kept in memory, under a total cap, because resolving the images needs them.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ArchiveImage, ArchivePreview } from '../../shared/api/archive';
import { invalid, type TarPassOptions } from './tar-entries';
import { scanArchive, startsGzip, type BlobSink, type BlobWrite, type StoredBlob } from './scan';
import { MAX_CONFIG_BYTES, resolveArchive, type ResolvedArchive } from './resolve';

const MAX_CAPTURED_TOTAL = 64 << 20;

/** The digest algorithm a digest string names (sha256 unless it says sha512). */
export const algorithmOf = (digest: string | undefined) => (digest?.startsWith('sha512:') ? 'sha512' : 'sha256');

export function digestMismatch(info: BlobWrite, actual: string) {
  return invalid(`The archive entry ${info.path} is damaged: its content hashes to ${actual}, not the digest its name promises.`, {
    entry: info.path,
    expected: info.digest,
    actual,
  });
}

export class PreviewSink implements BlobSink {
  private captured = new Map<string, Buffer>();
  private capturedBytes = 0;

  async write(body: AsyncIterable<Buffer>, info: BlobWrite): Promise<StoredBlob> {
    const algorithm = algorithmOf(info.digest);
    const hash = createHash(algorithm);
    // A layer's diff_id is always sha256; compute it only when the blob is hashed with something else.
    const diffHash = algorithm === 'sha256' ? undefined : createHash('sha256');
    const keep = info.size <= MAX_CONFIG_BYTES && this.capturedBytes + info.size <= MAX_CAPTURED_TOTAL;
    let first = true;
    let looksJson = false;
    let gzipped = false;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      if (first && chunk.length > 0) {
        looksJson = /^\s*[{[]/.test(chunk.subarray(0, 16).toString('latin1'));
        gzipped = startsGzip(chunk);
        first = false;
      }
      hash.update(chunk);
      diffHash?.update(chunk);
      size += chunk.length;
      if (keep && looksJson) chunks.push(chunk);
    }
    const digest = `${algorithm}:${hash.digest('hex')}`;
    if (info.digest && digest !== info.digest) throw digestMismatch(info, digest);
    if (keep && looksJson) {
      this.captured.set(digest, Buffer.concat(chunks));
      this.capturedBytes += size;
    }
    // A layer the archive holds compressed: its diff_id is checked on import, where the bytes are kept.
    if (gzipped) return { digest, size, gzipped };
    return { digest, size, diffId: diffHash ? `sha256:${diffHash.digest('hex')}` : digest, gzipped };
  }

  async read(digest: string, max: number): Promise<Buffer> {
    const bytes = this.captured.get(digest);
    if (!bytes) throw invalid(`The blob ${digest} that the archive's metadata names is not JSON or too large to be a manifest or config.`, { digest });
    if (bytes.length > max) throw invalid(`The blob ${digest} is ${bytes.length} bytes; a manifest or config is at most ${max}.`, { digest });
    return bytes;
  }
}

/** What the UI shows before an import: images, names, platforms, layers and sizes. */
export function describeArchive(resolved: ResolvedArchive, archiveSize: number): ArchivePreview {
  const images: ArchiveImage[] = resolved.images.map((img) => ({
    tags: img.names,
    digest: img.root.digest,
    digestPreserved: img.digestPreserved,
    mediaType: img.root.mediaType,
    size: img.size,
    platforms: img.platforms.map((p) => ({
      platform: p.platform,
      digest: p.manifestDigest,
      configDigest: p.config.digest,
      created: p.created,
      layers: p.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size })),
      size: p.size,
      config: p.summary,
    })),
  }));
  return { format: resolved.format, compressed: resolved.compressed, images, size: archiveSize };
}

export async function previewArchive(file: string, options: TarPassOptions = {}): Promise<ArchivePreview> {
  const sink = new PreviewSink();
  const contents = await scanArchive(file, sink, options);
  const resolved = await resolveArchive(contents, sink);
  return describeArchive(resolved, (await stat(file)).size);
}
