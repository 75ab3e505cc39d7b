/**
 * From what the pass found to images: which manifests and indexes to store (children first), which blobs
 * they reference, and what each image is called. Every reference is checked against the archive: a
 * missing layer, a size that disagrees with its descriptor, or a layer whose bytes do not hash to the
 * config's diff_id makes the archive invalid, with the path or digest named.
 *
 * OCI layout (skopeo/podman oci-archive, Docker 25+ `docker save`): the archive carries the original
 * manifests, so their digests are preserved. Legacy docker-archive: Berth builds a Docker schema 2 manifest
 * from the config and the layers as stored.
 */
import { isDigest } from '../../shared/digest';
import { MediaType, ManifestError, formatPlatform, isIndexType, parseManifest, type Descriptor } from '../../shared/media-types';
import { parseNormalizedReference } from '../../shared/reference';
import { createHash } from 'node:crypto';
import { invalid, normaliseEntryPath } from './tar-entries';
import type { ArchiveContents, BlobSink, StoredBlob } from './scan';

/**
 * Most manifests (with repeats) one walk of indexes may visit — an archive's on import, an image's on
 * export (writer.ts): far above any real multi-arch image.
 */
export const MAX_MANIFEST_VISITS = 10_000;

export const MAX_MANIFEST_BYTES = 4 << 20;
export const MAX_CONFIG_BYTES = 16 << 20;
/** Docker schema 2 layer media types for what Berth stores from a legacy archive. */
export const DockerLayer = {
  tar: 'application/vnd.docker.image.rootfs.diff.tar',
  gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** The OCI equivalents, for manifests Berth builds in OCI form (engine exports to an OCI archive, as Docker 25+ writes them). */
export const OciLayer = {
  tar: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface ResolveOptions {
  /**
   * The form of the manifests Berth builds for a legacy docker-archive: 'docker' (schema 2, what the
   * registry import stores; the default) or 'oci' (image manifest with OCI media types). The config bytes
   * and the layers are the archive's either way, so the image ID and every layer digest are unchanged.
   */
  build?: 'docker' | 'oci';
}

export type ArchiveFormat = 'docker-archive' | 'oci-archive' | 'docker-oci';

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export interface ConfigSummary {
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
}

export interface PlatformImage {
  /** 'linux/amd64'; 'unknown' for artifacts without an image config. */
  platform: string;
  manifestDigest: string;
  config: Descriptor;
  layers: Descriptor[];
  created?: string;
  summary?: ConfigSummary;
  size: number;
}

export interface ResolvedImage {
  /** Names the archive gives this image: 'alpine:3.20', 'docker.io/library/alpine:3.20', or a bare tag. */
  names: string[];
  root: ManifestRecord;
  /** True when the root manifest is the archive's own (OCI layout); false when Berth built it. */
  digestPreserved: boolean;
  platforms: PlatformImage[];
  size: number;
  /** This image's manifests and indexes, children first (the root last). */
  manifests: ManifestRecord[];
  /** Configs and layers its manifests reference. */
  blobs: string[];
  /** A referrer (signature, SBOM): the digest of the manifest it refers to. */
  subject?: string;
}

export interface ResolvedArchive {
  format: ArchiveFormat;
  compressed: boolean;
  images: ResolvedImage[];
  /** Every manifest and index to store, children before the indexes that name them. */
  manifests: ManifestRecord[];
  /** Every blob (configs and layers) the manifests reference, by digest. */
  blobs: Map<string, StoredBlob>;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid(`The archive's ${what} is not valid JSON.`);
  }
}

export function detectFormat(contents: ArchiveContents): ArchiveFormat {
  const { metadata } = contents;
  if (metadata.has('index.json')) return metadata.has('manifest.json') ? 'docker-oci' : 'oci-archive';
  if (metadata.has('manifest.json')) return 'docker-archive';
  throw invalid(
    'This tar is not an image archive: it has neither manifest.json (docker save) nor index.json (OCI image layout).',
  );
}

export async function resolveArchive(contents: ArchiveContents, sink: BlobSink, options: ResolveOptions = {}): Promise<ResolvedArchive> {
  const format = detectFormat(contents);
  const out: ResolvedArchive = { format, compressed: contents.compressed, images: [], manifests: [], blobs: new Map() };
  if (format === 'docker-archive') await resolveLegacy(contents, sink, out, options.build ?? 'docker');
  else await resolveLayout(contents, sink, out);
  if (out.images.length === 0) throw invalid('The archive holds no images.');
  return out;
}

function summariseConfig(doc: unknown): { platform: string; created?: string; summary: ConfigSummary; diffIds: string[] } {
  if (!isObject(doc)) throw invalid('An image config in the archive is not a JSON object.');
  const c = isObject(doc.config) ? doc.config : {};
  const rootfs = isObject(doc.rootfs) ? doc.rootfs : {};
  return {
    platform: formatPlatform({
      os: typeof doc.os === 'string' ? doc.os : 'unknown',
      architecture: typeof doc.architecture === 'string' ? doc.architecture : 'unknown',
      variant: typeof doc.variant === 'string' ? doc.variant : undefined,
    }),
    created: typeof doc.created === 'string' ? doc.created : undefined,
    summary: {
      entrypoint: strings(c.Entrypoint),
      cmd: strings(c.Cmd),
      env: strings(c.Env),
      workingDir: typeof c.WorkingDir === 'string' ? c.WorkingDir : '',
    },
    diffIds: strings(rootfs.diff_ids),
  };
}

const isImageConfig = (mediaType: string) => mediaType === MediaType.ociConfig || mediaType === MediaType.dockerConfig;

// ---- legacy docker-archive -------------------------------------------------------------------------

interface LegacyEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function parseLegacyManifest(bytes: Buffer): LegacyEntry[] {
  const doc = parseJson(bytes, 'manifest.json');
  if (!Array.isArray(doc)) throw invalid('The archive\'s manifest.json is not a list of images.');
  return doc.map((e, i) => {
    if (!isObject(e) || typeof e.Config !== 'string' || !Array.isArray(e.Layers) || e.Layers.some((l) => typeof l !== 'string')) {
      throw invalid(`Image ${i + 1} in the archive's manifest.json lacks "Config" or "Layers".`);
    }
    return { Config: e.Config, RepoTags: strings(e.RepoTags), Layers: e.Layers as string[] };
  });
}

async function resolveLegacy(contents: ArchiveContents, sink: BlobSink, out: ResolvedArchive, build: 'docker' | 'oci'): Promise<void> {
  const types =
    build === 'oci'
      ? { manifest: MediaType.ociManifest, config: MediaType.ociConfig, layer: OciLayer }
      : { manifest: MediaType.dockerManifest, config: MediaType.dockerConfig, layer: DockerLayer };
  const entries = parseLegacyManifest(contents.metadata.get('manifest.json')!);
  const fileAt = (path: string, role: string): StoredBlob => {
    const blob = contents.files.get(normaliseEntryPath(path));
    if (!blob) {
      throw invalid(`The archive's manifest.json names ${role} "${path}", which is not in the archive (or is not where docker save, skopeo and podman put ${role === 'the layer' ? 'layers: …/layer.tar, <digest>.tar, blobs/sha256/…' : 'configs: <digest>.json, blobs/sha256/…'}).`, { entry: path });
    }
    return blob;
  };
  const seenRoots = new Set<string>();
  for (const entry of entries) {
    const configBlob = fileAt(entry.Config, 'the config');
    const configBytes = await sink.read(configBlob.digest, MAX_CONFIG_BYTES);
    const info = summariseConfig(parseJson(configBytes, `config ${entry.Config}`));
    const layers = entry.Layers.map((p) => fileAt(p, 'the layer'));
    if (info.diffIds.length !== layers.length) {
      throw invalid(`The image config ${entry.Config} lists ${info.diffIds.length} layers but manifest.json names ${layers.length}.`);
    }
    for (const [i, layer] of layers.entries()) {
      // A layer the archive holds gzip-compressed: its diff_id is the digest of what it decompresses to.
      const diffId = layer.diffId ?? (await sink.uncompressedDigest?.(layer.digest));
      if (diffId !== undefined && diffId !== info.diffIds[i]) {
        throw invalid(`Layer ${entry.Layers[i]} does not match the image config: its content hashes to ${diffId}, the config expects ${info.diffIds[i]}. The archive is damaged.`, {
          entry: entry.Layers[i],
          actual: diffId,
          expected: info.diffIds[i],
        });
      }
    }
    const config: Descriptor = { mediaType: types.config, digest: configBlob.digest, size: configBlob.size };
    const layerDescriptors: Descriptor[] = layers.map((l) => ({ mediaType: l.gzipped ? types.layer.gzip : types.layer.tar, digest: l.digest, size: l.size }));
    const manifest = { schemaVersion: 2, mediaType: types.manifest, config, layers: layerDescriptors };
    const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
    const root: ManifestRecord = { digest: sha256(bytes), mediaType: types.manifest, bytes };
    for (const b of [configBlob, ...layers]) out.blobs.set(b.digest, b);
    if (!seenRoots.has(root.digest)) out.manifests.push(root);
    seenRoots.add(root.digest);
    const size = configBlob.size + layers.reduce((n, l) => n + l.size, 0);
    out.images.push({
      names: entry.RepoTags,
      root,
      digestPreserved: false,
      manifests: [root],
      blobs: [configBlob.digest, ...new Set(layers.map((l) => l.digest))],
      size,
      platforms: [{ platform: info.platform, manifestDigest: root.digest, config, layers: layerDescriptors, created: info.created, summary: info.summary, size }],
    });
  }
}

// ---- OCI image layout (oci-archive, Docker 25+ docker save) ----------------------------------------

async function resolveLayout(contents: ArchiveContents, sink: BlobSink, out: ResolvedArchive): Promise<void> {
  const layoutFile = contents.metadata.get('oci-layout');
  if (layoutFile) {
    const layout = parseJson(layoutFile, 'oci-layout');
    if (!isObject(layout) || layout.imageLayoutVersion !== '1.0.0') {
      throw invalid('The archive\'s oci-layout file does not declare imageLayoutVersion 1.0.0.');
    }
  }
  const index = parseJson(contents.metadata.get('index.json')!, 'index.json');
  if (!isObject(index) || index.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
    throw invalid('The archive\'s index.json is not an OCI image index (schemaVersion 2 with a "manifests" list).');
  }
  let top;
  try {
    top = parseManifest(contents.metadata.get('index.json')!.toString('utf8'), MediaType.ociIndex, isDigest);
  } catch (err) {
    throw invalid(`The archive's index.json is invalid: ${(err as Error).message}`);
  }
  const blobFor = (d: Descriptor, what: string): StoredBlob => {
    const blob = contents.byDigest.get(d.digest);
    if (!blob) throw invalid(`The archive names ${what} ${d.digest}, but blobs/${d.digest.replace(':', '/')} is not in the archive.`, { digest: d.digest });
    if (blob.size !== d.size) {
      throw invalid(`The archive's ${what} ${d.digest} is ${blob.size} bytes, but its descriptor says ${d.size}.`, { digest: d.digest });
    }
    return blob;
  };

  interface Acc {
    manifests: ManifestRecord[];
    blobs: Set<string>;
    subject?: string;
  }
  const records = new Map<string, ManifestRecord>();
  // An index may list the same child many times at every level: 10 listings × 8 levels is 10^8 walks from a
  // 17 KB archive. Cap the total number of manifests visited, whatever the nesting.
  let visits = 0;
  const walk = async (d: Descriptor, depth: number, acc: Acc): Promise<PlatformImage[]> => {
    if (depth > 8) throw invalid('The archive\'s indexes nest more than 8 deep.');
    if (++visits > MAX_MANIFEST_VISITS) throw invalid(`The archive's indexes name more than ${MAX_MANIFEST_VISITS} manifests (counting repeats); refusing it.`);
    blobFor(d, isIndexType(d.mediaType) ? 'the index' : 'the manifest');
    const bytes = await sink.read(d.digest, MAX_MANIFEST_BYTES);
    let parsed;
    try {
      parsed = parseManifest(bytes.toString('utf8'), d.mediaType, isDigest);
    } catch (err) {
      if (err instanceof ManifestError) throw invalid(`The manifest ${d.digest} in the archive is invalid: ${err.message}`, { digest: d.digest });
      throw err;
    }
    const platforms: PlatformImage[] = [];
    if (isIndexType(parsed.mediaType)) {
      for (const child of parsed.manifests) {
        const found = await walk(child, depth + 1, acc);
        if (child.platform) for (const p of found) if (p.platform === 'unknown') p.platform = formatPlatform(child.platform);
        platforms.push(...found);
      }
    } else {
      const [config, ...layers] = parsed.blobs;
      for (const b of parsed.blobs) {
        out.blobs.set(b.digest, blobFor(b, b === config ? 'the config' : 'the layer'));
        acc.blobs.add(b.digest);
      }
      let image: PlatformImage = { platform: d.platform ? formatPlatform(d.platform) : 'unknown', manifestDigest: d.digest, config, layers, size: parsed.blobs.reduce((n, b) => n + b.size, 0) };
      if (isImageConfig(config.mediaType)) {
        const info = summariseConfig(parseJson(await sink.read(config.digest, MAX_CONFIG_BYTES), `config ${config.digest}`));
        image = { ...image, platform: info.platform, created: info.created, summary: info.summary };
      }
      platforms.push(image);
    }
    let record = records.get(d.digest);
    if (!record) {
      record = { digest: d.digest, mediaType: parsed.mediaType, bytes };
      records.set(d.digest, record);
      out.manifests.push(record);
    }
    if (!acc.manifests.includes(record)) acc.manifests.push(record);
    if (depth === 0 && parsed.subject) acc.subject = parsed.subject.digest;
    return platforms;
  };

  for (const d of top.manifests) {
    const a = d.annotations ?? {};
    const name = a['io.containerd.image.name'] ?? a['org.opencontainers.image.ref.name'];
    // Docker 25+ lists an image once per tag: one image with several names, not several images.
    const same = out.images.find((img) => img.root.digest === d.digest);
    if (same) {
      if (name && !same.names.includes(name)) same.names.push(name);
      continue;
    }
    const acc: Acc = { manifests: [], blobs: new Set() };
    const platforms = await walk(d, 0, acc);
    out.images.push({
      names: name ? [name] : [],
      root: records.get(d.digest)!,
      digestPreserved: true,
      platforms,
      manifests: acc.manifests,
      blobs: [...acc.blobs],
      subject: acc.subject,
      size: d.size + platforms.reduce((n, p) => n + p.size, 0),
    });
  }
  // Docker 25+ also lists RepoTags in manifest.json; one image may carry several names there.
  if (out.format === 'docker-oci') {
    for (const entry of parseLegacyManifest(contents.metadata.get('manifest.json')!)) {
      const configDigest = contents.files.get(normaliseEntryPath(entry.Config))?.digest;
      const image = out.images.find((img) => img.platforms.some((p) => p.config.digest === configDigest));
      if (image) for (const tag of entry.RepoTags) if (!image.names.some((n) => sameImageName(n, tag))) image.names.push(tag);
    }
  }
}

// ---- names → repository and tag --------------------------------------------------------------------

export interface ImageName {
  /** Repository inside Berth's registry: the path without the registry host ('library/' dropped for Docker Hub). */
  repository?: string;
  tag?: string;
}

/** 'docker.io/library/alpine:3.20' → alpine, 3.20; 'localhost:5000/team/app:1' → team/app, 1; '3.20' → tag only. */
export function splitImageName(name: string): ImageName {
  if (!name.includes('/') && !name.includes(':')) return { tag: name };
  const r = parseNormalizedReference(name);
  if (!r.ok) return {};
  const { domain, path, tag } = r.value;
  const repository = domain === 'docker.io' && path.startsWith('library/') ? path.slice('library/'.length) : path;
  return { repository, tag };
}

/** Two spellings of one name: 'docker.io/library/alpine:3.20' and 'alpine:3.20'. */
export function sameImageName(a: string, b: string): boolean {
  if (a === b) return true;
  const x = splitImageName(a);
  const y = splitImageName(b);
  return x.repository !== undefined && x.tag !== undefined && x.repository === y.repository && x.tag === y.tag;
}
