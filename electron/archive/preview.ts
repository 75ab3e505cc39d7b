/**
 * Preview: read the archive once without storing anything. Blobs are hashed and discarded (so a damaged
 * archive is caught before the user commits to an import); small JSON blobs — manifests, indexes,
 * configs — are kept in memory, under a total cap, because resolving the images needs them.
 */
import { stat } from 'node:fs/promises';
import type { ArchiveImage, ArchivePreview } from '../../shared/api/archive';
import { invalid, type TarPassOptions } from './tar-entries';
import { scanArchive, type BlobSink, type BlobWrite, type StoredBlob } from './scan';
import { BlobHasher, blobTooLarge } from './blob-hash';
import { MAX_CONFIG_BYTES, resolveArchive, type ResolvedArchive } from './resolve';

const MAX_CAPTURED_TOTAL = 64 << 20;

export class PreviewSink implements BlobSink {
  private captured = new Map<string, Buffer>();
  private capturedBytes = 0;

  async write(body: AsyncIterable<Buffer>, info: BlobWrite): Promise<StoredBlob> {
    const hasher = new BlobHasher(info);
    const keep = info.size <= MAX_CONFIG_BYTES && this.capturedBytes + info.size <= MAX_CAPTURED_TOTAL;
    let looksJson: boolean | undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of body) {
      if (looksJson === undefined && chunk.length > 0) looksJson = /^\s*[{[]/.test(chunk.subarray(0, 16).toString('latin1'));
      hasher.update(chunk);
      if (keep && looksJson) chunks.push(chunk);
    }
    // A layer the archive holds compressed has no diff_id here: it is checked on import, where the bytes are kept.
    const stored = hasher.finish();
    if (keep && looksJson) {
      this.captured.set(stored.digest, Buffer.concat(chunks));
      this.capturedBytes += stored.size;
    }
    return stored;
  }

  async read(digest: string, max: number): Promise<Buffer> {
    const bytes = this.captured.get(digest);
    if (!bytes) throw invalid(`The blob ${digest} that the archive's metadata names is not JSON or too large to be a manifest or config.`, { digest });
    if (bytes.length > max) throw blobTooLarge(digest, bytes.length, max);
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
