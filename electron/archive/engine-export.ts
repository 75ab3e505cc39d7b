/**
 * The engine's images as an OCI archive. dockerd before 25 only writes the legacy docker-archive, so the
 * `docker save` stream is read as it arrives by the same reader an import uses (every entry checked, every
 * layer hashed against the config's diff_ids), its blobs spooled to files beside the output, and the
 * archive written by the same writer a registry export uses.
 *
 * Layers are kept exactly as the engine gives them — uncompressed tars — and described with the OCI media
 * types (`application/vnd.oci.image.layer.v1.tar`, config `application/vnd.oci.image.config.v1+json`),
 * which is what Docker 25+ itself writes into `docker save`: the image ID (the config's digest) and every
 * diff_id stay the engine's own, `docker load` reads the manifest.json beside index.json, and skopeo, podman
 * and containerd read index.json. An engine that already writes the OCI layout (Docker 25+) has its own
 * manifests kept as they are.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { resolveArchive, type ManifestRecord } from './resolve';
import { scanArchive } from './scan';
import { SpoolSink } from './spool';
import { planExport, planSize, writeArchive, type ExportRoot, type ManifestSource } from './writer';
import { ensureFreeSpace } from './registry-import';

export interface EngineToOciOptions {
  signal?: AbortSignal;
  /** Bytes of `docker save` output read so far. */
  onRead?: (bytes: number) => void;
  /** Bytes of blob content written into the archive so far, and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Converts a `docker save` tar stream into an OCI archive at `path` (atomic); resolves with its size. */
export async function writeOciFromDockerSave(save: NodeJS.ReadableStream, path: string, opts: EngineToOciOptions = {}): Promise<{ size: number; names: string[] }> {
  const spool = await mkdtemp(join(dirname(path), `.${basename(path)}.spool-`));
  try {
    const sink = new SpoolSink(spool, opts.signal);
    const contents = await scanArchive({ stream: save }, sink, { signal: opts.signal, onRead: opts.onRead });
    const resolved = await resolveArchive(contents, sink, { build: 'oci' });
    const records = new Map<string, ManifestRecord>(resolved.manifests.map((m) => [m.digest, m]));
    const source: ManifestSource = {
      manifest: async (digest) => {
        const m = records.get(digest);
        if (!m) throw new Error(`The engine's archive names manifest ${digest} but does not hold it.`);
        return m;
      },
    };
    // One index.json entry per name, as Docker 25+ writes them; an untagged image (saved by ID) once, unnamed.
    const roots: ExportRoot[] = resolved.images.flatMap((img) =>
      img.names.length ? img.names.map((name) => ({ digest: img.root.digest, name, source })) : [{ digest: img.root.digest, source }],
    );
    const plan = await planExport(roots);
    // The spool already holds the blobs; the archive needs as much again.
    await ensureFreeSpace(dirname(path), planSize(plan), 'The export');
    const size = await writeArchive(path, plan, sink.open, { format: 'oci', signal: opts.signal, onProgress: opts.onProgress });
    return { size, names: resolved.images.flatMap((i) => i.names) };
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
}
