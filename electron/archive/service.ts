/**
 * Image archives as a service: preview an archive, import it into the embedded registry or the local
 * engine, export images from either to a file. Imports and exports are jobs (progress, cancel); the
 * archive's bytes stream from the file to the store or the engine socket, never into memory.
 */
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import type { ArchiveExportResult, ArchiveImportResult, ArchivePreview } from '../../shared/api/archive';
import { BerthError } from '../../shared/errors';
import type { JobSnapshot } from '../../shared/jobs';
import type { EngineService } from '../engine/service';
import type { RegistryService } from '../registry/service';
import type { RegistryStore } from '../registry/store';
import { resolveUpload } from '../server/uploads';
import type { JobContext, JobManager } from '../transfers/jobs';
import { previewArchive } from './preview';
import { ensureFreeSpace, importIntoRegistry, type ImageOverride, type ImportProgress } from './registry-import';
import { planExport, planSize, storeManifestSource, writeArchive, writeStreamAtomic, type ExportRoot } from './writer';
import { describeReadError } from './tar-entries';
import { writeOciFromDockerSave } from './engine-export';

export interface ArchiveServiceOptions {
  dataDir: string;
  registry: RegistryService;
  engine: EngineService;
  jobs: JobManager;
  log: (line: string) => void;
}

export type ArchiveSource = { path: string } | { uploadId: string };

export interface ImportRequest {
  source: ArchiveSource;
  target: 'registry' | 'engine';
  repository?: string;
  tags?: string[];
  compress?: boolean;
  overrides?: ImageOverride[];
}

export interface ExportRequest {
  from: 'registry' | 'engine';
  images: string[];
  format: 'oci' | 'docker';
  path: string;
  referrers?: boolean;
}

/** 'repo:tag', 'repo@sha256:…' or 'repo' (→ latest), as the registry names things (no host). */
export function parseRegistryImage(ref: string): { repository: string; reference: string } {
  const at = ref.indexOf('@');
  if (at > 0) return { repository: ref.slice(0, at), reference: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { repository: ref.slice(0, colon), reference: ref.slice(colon + 1) };
  return { repository: ref, reference: 'latest' };
}

export class ArchiveService {
  constructor(readonly options: ArchiveServiceOptions) {}

  private get store(): RegistryStore {
    return this.options.registry.store;
  }

  /** The file behind a source: a path on this machine, or a browser upload the bridge received. */
  async sourcePath(source: ArchiveSource): Promise<string> {
    if ('uploadId' in source) return resolveUpload(this.options.dataDir, source.uploadId);
    if (!isAbsolute(source.path)) throw new BerthError('INVALID_INPUT', `Give the archive's absolute path, not "${source.path}".`);
    const st = await stat(source.path).catch((err) => {
      throw describeReadError(err, false);
    });
    if (!st.isFile()) throw new BerthError('INVALID_INPUT', `${source.path} is not a file; choose a .tar or .tar.gz archive.`);
    return source.path;
  }

  async preview(source: ArchiveSource, signal?: AbortSignal): Promise<ArchivePreview> {
    return previewArchive(await this.sourcePath(source), { signal });
  }

  /** Starts an import job; the source is checked first so a wrong path fails the call, not a job. */
  async import(req: ImportRequest): Promise<JobSnapshot> {
    if (req.target === 'engine' && req.overrides?.length) {
      throw new BerthError('INVALID_INPUT', 'Per-image repositories and tags apply to the registry; the engine keeps the names each image carries in the archive.');
    }
    const file = await this.sourcePath(req.source);
    const name = 'path' in req.source ? req.source.path.split(/[\\/]/).pop() : 'uploaded archive';
    const title = req.target === 'registry' ? `Import ${name} into the registry${req.repository ? ` (${req.repository})` : ''}` : `Load ${name} into the engine`;
    return this.options.jobs.start('import', title, async (ctx) => {
      const result = req.target === 'registry' ? await this.importToRegistry(file, req, ctx) : await this.importToEngine(file, ctx);
      // A browser upload has served its purpose once imported.
      if ('uploadId' in req.source) await rm(file, { force: true });
      return result;
    });
  }

  private async importToRegistry(file: string, req: ImportRequest, ctx: JobContext): Promise<ArchiveImportResult> {
    const { size } = await stat(file);
    ctx.setTotal(size);
    ctx.message('Reading the archive');
    const progress: ImportProgress = {
      read: (bytes) => ctx.setDone(bytes),
      item: (id, label, total) => ctx.item(id, label, total),
    };
    const result = await importIntoRegistry(this.store, file, { repository: req.repository, tags: req.tags, overrides: req.overrides, compress: req.compress, signal: ctx.signal, progress });
    ctx.message(result.images.map((i) => `${i.repository}:${i.tags.join(',') || i.digest.slice(0, 19)}`).join(' '));
    return result;
  }

  private async importToEngine(file: string, ctx: JobContext): Promise<ArchiveImportResult> {
    const { size } = await stat(file);
    ctx.setTotal(size);
    ctx.message('Sending the archive to the engine');
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    let read = 0;
    stream.on('data', (c) => ctx.setDone((read += c.length)));
    const { loaded } = await this.options.engine.loadImages(stream, ctx.signal, (p) => {
      if (p.id && p.total) ctx.item(p.id, p.id, p.total).progress(p.current ?? 0);
    });
    ctx.message(`Loaded ${loaded.join(', ')}`);
    return { target: 'engine', images: [], loaded, written: size, skipped: 0 };
  }

  async export(req: ExportRequest): Promise<JobSnapshot> {
    if (!isAbsolute(req.path)) throw new BerthError('INVALID_INPUT', `Give the export's absolute path, not "${req.path}".`);
    const dir = await stat(dirname(req.path)).catch(() => undefined);
    if (!dir?.isDirectory()) throw new BerthError('INVALID_INPUT', `The folder ${dirname(req.path)} does not exist.`);
    const title = `Export ${req.images.join(', ')} from the ${req.from}`;
    return this.options.jobs.start('export', title, (ctx) => this.writeExport(req, ctx));
  }

  /** The work of an export job, to a path already checked; prepared exports (exports.ts) run it too. */
  writeExport(req: ExportRequest, ctx: JobContext): Promise<ArchiveExportResult> {
    return req.from === 'registry' ? this.exportFromRegistry(req, ctx) : this.exportFromEngine(req, ctx);
  }

  private async exportFromRegistry(req: ExportRequest, ctx: JobContext): Promise<ArchiveExportResult> {
    const store = this.store;
    const roots: ExportRoot[] = [];
    for (const image of req.images) {
      const { repository, reference } = parseRegistryImage(image);
      const m = await store.statManifest(repository, reference);
      roots.push({ digest: m.digest, name: reference.includes(':') ? undefined : `${repository}:${reference}`, source: storeManifestSource(store, repository) });
    }
    ctx.message('Collecting manifests');
    const plan = await planExport(roots, { referrers: req.referrers ?? false });
    await ensureFreeSpace(dirname(req.path), planSize(plan), 'The export');
    ctx.message(`Writing ${req.path}`);
    const size = await writeArchive(req.path, plan, (digest) => store.openBlob(digest), {
      format: req.format,
      signal: ctx.signal,
      onProgress: (done, total) => {
        ctx.setTotal(total);
        ctx.setDone(done);
      },
    });
    return { path: req.path, size, format: req.format, images: req.images };
  }

  private async exportFromEngine(req: ExportRequest, ctx: JobContext): Promise<ArchiveExportResult> {
    if (req.format === 'docker') {
      ctx.message('The engine is writing the archive');
      const stream = await this.options.engine.saveImages(req.images, ctx.signal);
      // The engine's own `docker save` output, byte for byte (Docker 25+ puts an OCI layout inside it).
      const size = await writeStreamAtomic(req.path, stream, { signal: ctx.signal, onProgress: (done) => ctx.setDone(done) });
      return { path: req.path, size, format: 'docker', images: req.images };
    }
    // The engine's images are the size of what `docker save` sends: spooled once, then written once.
    const sizes = await Promise.all(req.images.map((ref) => this.options.engine.inspectImage(ref).then((i) => i.size)));
    const estimate = sizes.reduce((n, s) => n + s, 0);
    await ensureFreeSpace(dirname(req.path), 2 * estimate, 'The export (a spool of the engine\'s archive, then the OCI archive)');
    ctx.setTotal(2 * estimate);
    ctx.message('Reading the engine\'s docker save');
    const stream = await this.options.engine.saveImages(req.images, ctx.signal);
    let read = 0;
    let writing = false;
    const { size } = await writeOciFromDockerSave(stream, req.path, {
      signal: ctx.signal,
      onRead: (bytes) => ctx.setDone((read = bytes)),
      onProgress: (done, total) => {
        if (!writing) {
          writing = true;
          ctx.message(`Writing ${req.path}`);
          ctx.setTotal(read + total);
        }
        ctx.setDone(read + done);
      },
    });
    return { path: req.path, size, format: 'oci', images: req.images };
  }
}

