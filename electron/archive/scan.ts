/**
 * The one pass over an image archive: small metadata files (manifest.json, index.json, oci-layout,
 * repositories) are kept in memory under a size cap; every other file streams into a blob sink — the
 * registry's store on import, a hash-and-discard sink for a preview. The pass does not need to know the
 * format up front: in a legacy `docker save` archive manifest.json usually comes last, after the layers.
 */
import { parseDigest } from '../../shared/digest';
import { invalid, readTarEntries, type TarPassOptions, type TarSource } from './tar-entries';

/** Metadata files are small; anything bigger is not what it claims to be. */
export const MAX_METADATA_BYTES = 4 << 20;
const METADATA_FILES = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);

export interface BlobWrite {
  /** The entry's archive path, for messages. */
  path: string;
  size: number;
  /** The digest the archive's path names (OCI `blobs/<alg>/<hex>`, legacy `<hex>.json`): verified while writing. */
  digest?: string;
  /** A legacy layer tar (`<id>/layer.tar`, `<hex>.tar`): the sink may gzip it on the way in. */
  layer: boolean;
}

export interface StoredBlob {
  digest: string;
  size: number;
  /**
   * sha256 of the uncompressed bytes: for a layer, its diff_id. Undefined when the archive itself held the
   * bytes gzip-compressed (docker load accepts such layers): then `uncompressedDigest` finds it on demand.
   */
  diffId?: string;
  /** The stored bytes are gzip: compressed by the sink on request, or already so in the archive. */
  gzipped: boolean;
}

/** Gzip's magic number at the start of a blob. */
export const startsGzip = (chunk: Buffer | undefined) => chunk !== undefined && chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b;

export interface BlobSink {
  write(body: AsyncIterable<Buffer>, info: BlobWrite): Promise<StoredBlob>;
  /** Reads a small blob (a manifest, an index or a config) back; refuses more than `max` bytes. */
  read(digest: string, max: number): Promise<Buffer>;
  /** sha256 of a stored gzip blob's uncompressed bytes; undefined when this sink cannot tell (preview keeps no bytes). */
  uncompressedDigest?(digest: string): Promise<string | undefined>;
}

export interface ArchiveContents {
  compressed: boolean;
  /** Top-level metadata files by name. */
  metadata: Map<string, Buffer>;
  /** Every file that went to the sink, by archive path (links resolved to their target's blob). */
  files: Map<string, StoredBlob>;
  /** Blobs by digest (OCI layout `blobs/` and anything else the sink stored). */
  byDigest: Map<string, StoredBlob>;
}

/** `blobs/sha256/<hex>` → `sha256:<hex>`; `<hex>.json` at the top (legacy config) → `sha256:<hex>`. */
export function digestNamedByPath(path: string): string | undefined {
  const parts = path.split('/');
  if (parts.length === 3 && parts[0] === 'blobs') {
    const digest = `${parts[1]}:${parts[2]}`;
    if (!parseDigest(digest)) throw invalid(`The archive entry "${path}" is in blobs/ but its name is not a sha256 or sha512 digest.`, { entry: path });
    return digest;
  }
  const legacyConfig = /^([a-f0-9]{64})\.json$/.exec(path);
  return legacyConfig ? `sha256:${legacyConfig[1]}` : undefined;
}

/** Legacy v1 metadata that docker save still writes per layer and nothing reads: skipped, like any file
 * that is neither a named blob (`blobs/…`, `<hex>.json`) nor a layer tar (`…/layer.tar`, `<hex>.tar`). */
const isLegacyV1Metadata = (path: string) => /^[^/]+\/(json|VERSION)$/.test(path);
const isLayerTar = (path: string) => /(^|\/)layer\.tar$/.test(path) || /^[a-f0-9]{64}\.tar$/.test(path);

export async function scanArchive(from: TarSource, sink: BlobSink, options: TarPassOptions = {}): Promise<ArchiveContents> {
  const metadata = new Map<string, Buffer>();
  const files = new Map<string, StoredBlob>();
  const byDigest = new Map<string, StoredBlob>();
  const links = new Map<string, string>();

  const { compressed } = await readTarEntries(
    from,
    async (entry) => {
      if (entry.type === 'symlink' || entry.type === 'link') {
        links.set(entry.path, entry.target!);
        return;
      }
      if (METADATA_FILES.has(entry.path)) {
        if (entry.size > MAX_METADATA_BYTES) {
          throw invalid(`The archive's ${entry.path} is ${entry.size} bytes; metadata files are at most ${MAX_METADATA_BYTES} bytes.`, { entry: entry.path });
        }
        const chunks: Buffer[] = [];
        for await (const chunk of entry.body) chunks.push(chunk);
        metadata.set(entry.path, Buffer.concat(chunks));
        return;
      }
      if (isLegacyV1Metadata(entry.path)) return;
      const digest = digestNamedByPath(entry.path);
      const layer = !digest && isLayerTar(entry.path);
      // Files no image format names (README, stray files) are not stored: nothing could reference them.
      if (!digest && !layer) return;
      const stored = await sink.write(entry.body, { path: entry.path, size: entry.size, digest, layer });
      files.set(entry.path, stored);
      byDigest.set(stored.digest, stored);
    },
    options,
  );

  // docker save writes a layer shared by two images once and links the second path to it.
  for (const [path] of links) {
    let target = path;
    for (let hops = 0; links.has(target); hops++) {
      if (hops > 16) throw invalid(`The link "${path}" in the archive is part of a loop.`, { entry: path });
      target = links.get(target)!;
    }
    const blob = files.get(target);
    if (blob) files.set(path, blob);
    // A link to a metadata file or to nothing is left unresolved: if an image needs it, resolving says so.
  }
  return { compressed, metadata, files, byDigest };
}
