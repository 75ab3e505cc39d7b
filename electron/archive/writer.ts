/**
 * Writes image archives from the registry, streaming each blob from the store into the tar.
 *
 * Both formats use the layout Docker 25+ `docker save` writes: blobs under `blobs/<alg>/<hex>` and a
 * `manifest.json` (what `docker load` of any version reads: config and layer paths, RepoTags). The 'oci'
 * format adds `oci-layout` and `index.json` (what skopeo/podman/containerd read), so one file serves all
 * tools, every digest is the registry's own, and a multi-platform index keeps every platform. A
 * 'docker' archive lists one platform per image (docker-archive has no indexes): the host's, when present.
 *
 * The file appears only when whole: written to a temp file beside the target, fsynced, renamed.
 */
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Pack } from 'tar-stream';
import { MediaType, formatPlatform, isIndexType, parseManifest, type Descriptor, type Platform } from '../../shared/media-types';
import { isDigest } from '../../shared/digest';
import { publishFile } from '../app/atomic';
import type { RegistryStore } from '../registry/store';
import { MAX_MANIFEST_VISITS } from './resolve';

export interface ExportManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** Where a root's manifests come from: its repository in the registry. */
export interface ManifestSource {
  manifest(digest: string): Promise<ExportManifest>;
  /** Manifests that refer to `digest` (signatures, SBOMs): included when asked. */
  referrers?(digest: string): Promise<string[]>;
}

/** A root's manifests and referrers from its repository in Berth's own registry. */
export function storeManifestSource(store: Pick<RegistryStore, 'getManifest' | 'referrers'>, repository: string): ManifestSource {
  return {
    manifest: async (digest) => {
      const found = await store.getManifest(repository, digest);
      return { digest: found.digest, mediaType: found.mediaType, bytes: found.bytes };
    },
    referrers: async (digest) => (await store.referrers(repository, digest)).map((r) => r.digest),
  };
}

/** Blob bytes by digest (content-addressed, so from anywhere in the store). */
export type OpenBlob = (digest: string) => Promise<{ size: number; stream: Readable }>;

export interface ExportRoot {
  /** 'repo:tag' when the image was named by a tag; written as RepoTags and ref.name annotations. */
  name?: string;
  digest: string;
  source: ManifestSource;
}

export interface ExportPlan {
  /** index.json entries: each root with its name. */
  roots: Array<{ descriptor: Descriptor; name?: string }>;
  /** manifest.json entries (docker load): one image manifest per named root. */
  dockerImages: Array<{ config: string; layers: string[]; repoTags: string[] }>;
  manifests: Map<string, ExportManifest>;
  /** Config and layer blobs with their sizes. */
  blobs: Map<string, number>;
}

const hostPlatform = (): Platform => ({ os: 'linux', architecture: ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch });

/** Walks each root (index → children → config and layers), collecting everything the archive must hold. */
export async function planExport(roots: ExportRoot[], opts: { referrers?: boolean } = {}): Promise<ExportPlan> {
  const plan: ExportPlan = { roots: [], dockerImages: [], manifests: new Map(), blobs: new Map() };
  let source: ManifestSource;
  // The registry accepts any index a client pushes; one listing the same child many times at every level
  // would make this walk exponential. Cap the manifests visited (with repeats), like the importer does.
  let visits = 0;
  const visit = async (digest: string, depth: number): Promise<{ images: Array<{ platform?: string; config: string; layers: string[] }> }> => {
    if (++visits > MAX_MANIFEST_VISITS) {
      throw new Error(`The image's indexes name more than ${MAX_MANIFEST_VISITS.toLocaleString('en-US')} manifests (counting repeats); refusing to export it.`);
    }
    const m = plan.manifests.get(digest) ?? (await source.manifest(digest));
    plan.manifests.set(digest, m);
    const parsed = parseManifest(m.bytes.toString('utf8'), m.mediaType, isDigest);
    const images: Array<{ platform?: string; config: string; layers: string[] }> = [];
    if (isIndexType(parsed.mediaType)) {
      if (depth > 8) throw new Error('Indexes nest more than 8 deep.');
      for (const child of parsed.manifests) {
        const found = await visit(child.digest, depth + 1);
        for (const img of found.images) images.push({ ...img, platform: child.platform ? formatPlatform(child.platform) : img.platform });
      }
    } else {
      for (const b of parsed.blobs) plan.blobs.set(b.digest, b.size);
      const [config, ...layers] = parsed.blobs;
      if (config.mediaType === MediaType.dockerConfig || config.mediaType === MediaType.ociConfig) images.push({ config: config.digest, layers: layers.map((l) => l.digest) });
    }
    if (opts.referrers && source.referrers) {
      for (const r of await source.referrers(digest)) {
        if (plan.manifests.has(r)) continue;
        await visit(r, depth + 1);
        const rm = plan.manifests.get(r)!;
        plan.roots.push({ descriptor: { mediaType: rm.mediaType, digest: r, size: rm.bytes.length } });
      }
    }
    return { images };
  };
  const host = formatPlatform(hostPlatform());
  for (const root of roots) {
    source = root.source;
    const { images } = await visit(root.digest, 0);
    const m = plan.manifests.get(root.digest)!;
    plan.roots.push({ descriptor: { mediaType: m.mediaType, digest: root.digest, size: m.bytes.length }, name: root.name });
    const chosen = images.find((i) => i.platform === host) ?? images.find((i) => i.platform === undefined) ?? images[0];
    // One manifest.json entry per image, listing all its names (docker save's own shape).
    const same = chosen && plan.dockerImages.find((d) => d.config === chosen.config && d.layers.join() === chosen.layers.join());
    if (same) {
      if (root.name && !same.repoTags.includes(root.name)) same.repoTags.push(root.name);
    } else if (chosen) plan.dockerImages.push({ config: chosen.config, layers: chosen.layers, repoTags: root.name ? [root.name] : [] });
  }
  return plan;
}

const blobPath = (digest: string) => `blobs/${digest.replace(':', '/')}`;

function addBuffer(pack: Pack, name: string, bytes: Buffer | string): Promise<void> {
  return new Promise((res, rej) => pack.entry({ name, mtime: new Date(0), mode: 0o644 }, Buffer.from(bytes), (e) => (e ? rej(e) : res())));
}

async function addStream(pack: Pack, name: string, size: number, stream: NodeJS.ReadableStream, signal?: AbortSignal): Promise<void> {
  let sink!: NodeJS.WritableStream;
  const done = new Promise<void>((res, rej) => {
    sink = pack.entry({ name, size, mtime: new Date(0), mode: 0o644 }, (e) => (e ? rej(e) : res())) as unknown as NodeJS.WritableStream;
  });
  await Promise.all([pipeline(stream, sink, { signal }), done]);
}

export interface WriteArchiveOptions {
  format: 'oci' | 'docker';
  signal?: AbortSignal;
  /** Bytes of blob content written so far, and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** The bytes of blob content a plan will write (manifests are small and not counted). */
export const planSize = (plan: ExportPlan): number => [...plan.blobs.values()].reduce((n, s) => n + s, 0);

export async function writeArchive(path: string, plan: ExportPlan, openBlob: OpenBlob, opts: WriteArchiveOptions): Promise<number> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const pack = tarPack();
  const out = createWriteStream(tmp, { mode: 0o644 });
  const writing = pipeline(pack as unknown as NodeJS.ReadableStream, out, { signal: opts.signal });
  writing.catch(() => {});
  const total = planSize(plan);
  let done = 0;
  try {
    if (opts.format === 'oci') await addBuffer(pack, 'oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    for (const [digest, size] of plan.blobs) {
      opts.signal?.throwIfAborted();
      const blob = await openBlob(digest);
      if (blob.size !== size) {
        blob.stream.destroy(); // close its file
        throw new Error(`Blob ${digest} is ${blob.size} bytes in the registry but ${size} in its manifest.`);
      }
      blob.stream.on('data', (c: Buffer) => opts.onProgress?.((done += c.length), total));
      await addStream(pack, blobPath(digest), size, blob.stream, opts.signal);
    }
    for (const m of plan.manifests.values()) await addBuffer(pack, blobPath(m.digest), m.bytes);
    if (opts.format === 'oci') {
      const index = {
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: plan.roots.map(({ descriptor, name }) => {
          if (!name) return descriptor;
          const tag = name.slice(name.lastIndexOf(':') + 1);
          return { ...descriptor, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag } };
        }),
      };
      await addBuffer(pack, 'index.json', JSON.stringify(index));
    }
    const manifestJson = plan.dockerImages.map((i) => ({ Config: blobPath(i.config), RepoTags: i.repoTags, Layers: i.layers.map(blobPath) }));
    await addBuffer(pack, 'manifest.json', JSON.stringify(manifestJson));
    pack.finalize();
    await writing;
    await publishFile(tmp, path);
    return (await stat(path)).size;
  } catch (err) {
    pack.destroy();
    await writing.catch(() => {});
    await rm(tmp, { force: true });
    throw opts.signal?.aborted ? (opts.signal.reason ?? err) : err;
  }
}

/** Streams any tar (e.g. the engine's `docker save`) to `path` atomically, counting bytes. */
export async function writeStreamAtomic(path: string, stream: NodeJS.ReadableStream, opts: { signal?: AbortSignal; onProgress?: (done: number) => void }): Promise<number> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let done = 0;
  stream.on('data', (c: Buffer) => opts.onProgress?.((done += c.length)));
  try {
    await pipeline(stream, createWriteStream(tmp, { mode: 0o644 }), { signal: opts.signal });
    await publishFile(tmp, path);
    return done;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
