/** Image archives (docker save, OCI layout, oci-archive): preview, import, export. */
import { z } from 'zod';
import { method } from '../contract';
import type { JobSnapshot } from '../jobs';

/** Where an archive comes from: a path on the backend's machine, or a file the browser uploaded to the bridge. */
export const archiveSource = z.union([
  z.object({ path: z.string().min(1) }).strict(),
  z.object({ uploadId: z.string().min(1) }).strict(),
]);

export interface ArchiveLayer {
  digest: string;
  mediaType: string;
  size: number;
}

export interface ArchiveImage {
  /** Tags the archive carries, e.g. 'alpine:3.20' */
  tags: string[];
  /** Manifest digest when the archive carries the original manifest (OCI layout), else the one Berth will build. */
  digest?: string;
  /**
   * True when `digest` is the archive's own manifest (OCI layout): a pull by that digest works after import.
   * False for a legacy docker-archive: Berth builds the manifest, storing layers as they are (uncompressed
   * tar) or gzip-compressed when the import asks for `compress` — the digest shown is for the uncompressed form.
   */
  digestPreserved?: boolean;
  mediaType: string;
  platforms: Array<{ platform: string; digest?: string; configDigest: string; created?: string; layers: ArchiveLayer[]; size: number; config?: { entrypoint: string[]; cmd: string[]; env: string[]; workingDir: string } }>;
  size: number;
}

export interface ArchivePreview {
  format: 'docker-archive' | 'oci-archive' | 'docker-oci';
  compressed: boolean;
  images: ArchiveImage[];
  size: number;
}

/** The result of a finished import job (JobSnapshot.result). */
export interface ArchiveImportResult {
  target: 'registry' | 'engine';
  /** Registry imports: what was tagged, per repository. */
  images: Array<{ repository: string; tags: string[]; digest: string }>;
  /** Engine imports: what the engine says it loaded (tags, or image ids when untagged). */
  loaded?: string[];
  /** Bytes written into the store (blobs the registry already had are skipped). */
  written: number;
  /** Blobs the registry already had. */
  skipped: number;
}

/** The result of a finished export job. */
export interface ArchiveExportResult {
  path: string;
  size: number;
  /** What was written. Engine exports in 'docker' format are the engine's own `docker save` output; in 'oci' Berth converts it. */
  format: 'oci' | 'docker';
  images: string[];
}

/**
 * An archive Berth wrote into its own cache so it can leave the app as a file: dragged out of the desktop
 * window, or downloaded from `berth serve` (GET /api/exports/<id>). The result of a prepareExport job.
 */
export interface PreparedExport {
  /** 32 random hex digits; the only way to name it (never a path). */
  id: string;
  /** The file name the desktop or the browser shows, e.g. 'team-app_v1.tar'. */
  name: string;
  size: number;
  format: 'oci' | 'docker';
  images: string[];
}

/** What to export: the same choices for a file at a path and for a prepared export. */
const exportSelection = {
  from: z.enum(['registry', 'engine']),
  /** Registry: 'repo:tag' or 'repo@digest'; engine: image references or ids. */
  images: z.array(z.string().min(1)).min(1),
  format: z.enum(['oci', 'docker']),
  /** Registry exports: include referrers (signatures, SBOMs). */
  referrers: z.boolean().optional(),
};
const prepareExportInput = z.object(exportSelection).strict();
export type PrepareExportRequest = z.output<typeof prepareExportInput>;

/** One image of a multi-image archive to its own repository and tags (see archive.import's `overrides`). */
export const importOverride = z
  .object({
    image: z.union([z.number().int().min(0), z.string().min(1).max(512)]),
    repository: z.string().max(255).optional(),
    tags: z.array(z.string().min(1).max(128)).optional(),
  })
  .strict();
export type ImportOverride = z.infer<typeof importOverride>;

export const archiveMethods = {
  'archive.preview': method(z.object({ source: archiveSource }).strict()).returns<ArchivePreview>(),
  'archive.import': method(
    z
      .object({
        source: archiveSource,
        target: z.enum(['registry', 'engine']),
        repository: z.string().max(255).optional(),
        tags: z.array(z.string().min(1).max(128)).optional(),
        /** Legacy archives store layers uncompressed; gzip them on the way in when asked. */
        compress: z.boolean().optional(),
        /**
         * Per-image choices for an archive with several images. `image` picks one: its index in the
         * preview's `images` (0-based), its manifest digest, its config digest (the image ID), or a name the
         * archive gives it ('alpine:3.20'). Each chosen image goes to `repository` (default: its own) with
         * `tags` (default: its own). Images not listed keep what `repository`/`tags` or the archive say.
         */
        overrides: z.array(importOverride).max(1000).optional(),
      })
      .strict(),
  ).returns<JobSnapshot>(),
  'archive.export': method(z.object({ ...exportSelection, path: z.string().min(1) }).strict()).returns<JobSnapshot>(),
  /** Export into Berth's cache for a drag out of the window or a download; the job's result is a PreparedExport. */
  'archive.prepareExport': method(prepareExportInput).returns<JobSnapshot>(),
};
