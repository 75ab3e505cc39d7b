/**
 * The embedded registry, as the UI sees it. (The registry's HTTP API for docker/skopeo is separate:
 * electron/registry serves the OCI Distribution API on its own port.)
 */
import { z } from 'zod';
import { method } from '../contract';
import type { JobSnapshot } from '../jobs';

export interface RegistryStatus {
  running: boolean;
  host: string;
  port: number;
  /** What a client types: 'localhost:5000' (docker treats 127.0.0.0/8 and localhost as insecure-allowed). */
  address: string;
  /** When it could not start: why, and a free port to try instead. */
  error?: string;
  suggestedPort?: number;
}

export interface RepositorySummary {
  name: string;
  tagCount: number;
  manifestCount: number;
  /** Bytes of every blob this repository references, each counted once. */
  size: number;
  /** Of `size`, bytes no other repository references: what deleting this repository would free. */
  exclusiveSize: number;
  /** ms since epoch of the last push, when known */
  updatedAt?: number;
}

export interface TagSummary {
  tag: string;
  digest: string;
  mediaType: string;
  /** Total bytes: manifest + config + layers (for an index, of all its children, shared layers once). */
  size: number;
  /** For an index: 'linux/amd64', 'linux/arm64/v8', …; for an image, its own platform when known. */
  platforms: string[];
  updatedAt?: number;
}

export interface StorageUsage {
  /** Bytes of all blobs on disk. */
  totalBytes: number;
  blobCount: number;
  /** Bytes no manifest references: what GC would free now (ignoring the grace period). */
  unreferencedBytes: number;
  uploadsBytes: number;
}

export interface GcReport {
  blobsRemoved: number;
  bytesFreed: number;
  manifestsRemoved: number;
  uploadsExpired: number;
  /** Unreferenced blobs kept because they are younger than the grace period. */
  keptYoung: number;
  /** True when nothing was deleted: the figures say what a real run would free. */
  dryRun?: boolean;
  durationMs: number;
}

const repository = z.string().min(1).max(255);
const reference = z.string().min(1).max(200);

export const registryMethods = {
  'registry.status': method(z.object({}).strict()).returns<RegistryStatus>(),
  'registry.start': method(z.object({}).strict()).returns<RegistryStatus>(),
  'registry.stop': method(z.object({}).strict()).returns<RegistryStatus>(),
  'registry.repositories': method(z.object({}).strict()).returns<RepositorySummary[]>(),
  'registry.tags': method(z.object({ repository }).strict()).returns<TagSummary[]>(),
  /** The manifest (or index) as stored, parsed, with its digest and media type. */
  'registry.manifest': method(z.object({ repository, reference }).strict()).returns<{
    digest: string;
    mediaType: string;
    size: number;
    manifest: unknown;
  }>(),
  /** A small JSON blob (an image config); refuses blobs over 4 MiB. */
  'registry.config': method(z.object({ repository, digest: z.string() }).strict()).returns<unknown>(),
  'registry.deleteTag': method(z.object({ repository, tag: z.string().min(1).max(128) }).strict()).returns<void>(),
  'registry.deleteRepository': method(z.object({ repository }).strict()).returns<void>(),
  'registry.usage': method(z.object({}).strict()).returns<StorageUsage>(),
  /**
   * Runs garbage collection as a job; the job's result is a GcReport. `graceSeconds` (default 3600) keeps
   * unreferenced blobs younger than that; `dryRun` reports without deleting.
   */
  'registry.gc': method(
    z.object({ graceSeconds: z.number().int().min(0).max(30 * 86400).optional(), dryRun: z.boolean().optional() }).strict(),
  ).returns<JobSnapshot>(),
  /** Verifies every blob's digest and every manifest's references, as a job; its result is an FsckReport. */
  'registry.fsck': method(z.object({ repair: z.boolean().optional() }).strict()).returns<JobSnapshot>(),
};

/** One thing `fsck` found wrong, and whether it was repaired. */
export interface FsckProblem {
  kind: 'corrupt-blob' | 'stray-file' | 'missing-blob' | 'missing-manifest-blob' | 'missing-child' | 'dangling-tag' | 'dangling-link' | 'unreadable-blob' | 'damaged-index';
  /** The digest (or path under blobs/ for a stray file) concerned. */
  digest: string;
  repository?: string;
  message: string;
  repaired: boolean;
}

export interface FsckReport {
  blobsChecked: number;
  bytesChecked: number;
  manifestsChecked: number;
  problems: FsckProblem[];
  /** Problems left after repair (all of them without `repair`). */
  remaining: number;
  durationMs: number;
}
