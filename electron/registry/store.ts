/**
 * The embedded registry's storage: the one implementation of every storage rule. The HTTP handlers
 * (http.ts), the contract handlers (api.ts), the archive importer, GC and fsck all go through it.
 *
 * Layout under `<dataDir>/registry/`:
 *   blobs/<algorithm>/<2 hex>/<hex>   content-addressed blobs; manifests are blobs too
 *   uploads/<uuid>[.json]            upload sessions (data + the repository it belongs to)
 *   tmp/                             temp files for blobs being written, and tempDir() for spooling
 *   index.jsonl                      the journal of the index (repositories, tags, manifests, links)
 * Names and tags never become paths (case-folding filesystems, reserved names): they live in the index.
 *
 * Concurrency: index mutations are serialized by one lock and each is a single journal record, appended
 * and fsynced before it is applied in memory — so what a reader sees is always durable, and a multi-tag
 * change is atomic. Blob bytes are written outside the lock; only the link into the index takes it.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { explainRepositoryName, isDigest, isRepositoryName, isTag, looksLikeDigest, parseDigest } from '../../shared/digest';
import { ManifestError, formatPlatform, isIndexType, parseManifest, type Descriptor, type Platform } from '../../shared/media-types';
import type { FsckReport, GcReport, RepositorySummary, StorageUsage } from '../../shared/api/registry';
import { BlobFiles, type BlobSource, type WriteBlobOptions, type WrittenBlob } from './blobs';
import { RegistryError } from './errors';
import { Journal, listLines } from './journal';
import { Mutex } from './mutex';
import { RepositoryIndex, isIndexRecord, type IndexRecord, type ManifestEntry, type Repository } from './repository-index';
import { DEFAULT_UPLOAD_EXPIRY_MS, UploadSessions } from './uploads';
import { DEFAULT_IN_FLIGHT_MS, collectGarbage, type GcOptions } from './gc';
import { checkStore, type FsckOptions } from './fsck';

export type { WriteBlobOptions, WrittenBlob, BlobSource } from './blobs';
export type { GcOptions } from './gc';
export type { FsckOptions } from './fsck';

/** Manifests above this are refused (413): the spec's suggested limit, and what the reference registry uses. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface RegistryStoreOptions {
  /** The registry's directory, normally `<dataDir>/registry`. */
  root: string;
  log?: (line: string) => void;
  /** Called after every change of the index (push, delete, gc), with the repository when there is one. */
  onChange?: (repository?: string) => void;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  size: number;
  bytes: Buffer;
}

export interface BlobRange {
  start: number;
  /** Inclusive; defaults to the last byte. */
  end?: number;
}

export interface OpenedBlob {
  size: number;
  /** The range actually served (inclusive), for Content-Range. */
  start: number;
  end: number;
  stream: Readable;
}

/** Referrer descriptor as the referrers API returns it (an entry of an OCI image index). */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function checkRepositoryName(name: string): void {
  if (!isRepositoryName(name)) throw new RegistryError('NAME_INVALID', `Invalid repository name "${name.slice(0, 300)}": ${explainRepositoryName(name)}`, { name: name.slice(0, 300) });
}

export function checkDigest(digest: string): void {
  if (!isDigest(digest)) throw new RegistryError('DIGEST_INVALID', `Invalid digest "${digest.slice(0, 200)}": expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>.`);
}

export function checkTag(tag: string): void {
  if (!isTag(tag)) throw new RegistryError('TAG_INVALID', `Invalid tag "${tag.slice(0, 200)}": up to 128 letters, digits, "_", "." and "-", not starting with "." or "-".`);
}

/**
 * A push that is more than one request, or writes blobs before it knows where they go: an archive import.
 * GC treats it like a docker push in flight (see RegistryStore.pushActivity) until it ends.
 */
export interface PushInFlight {
  /** The push is linking blobs into `repo`: that repository's linked blobs are kept while it runs. */
  into(repo: string): void;
  /** A blob the push wrote or found present and is going to reference: kept until end(). */
  hold(digest: string): void;
  /** The push committed or rolled back (idempotent). */
  end(): void;
}

/** How often, at most, notePush walks pushActivity to forget repositories whose push is long over. */
const PUSH_ACTIVITY_PRUNE_MS = 60_000;

function countUp(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
function countDown(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

export class RegistryStore {
  readonly root: string;
  /** @internal for gc.ts / fsck.ts */ readonly blobs: BlobFiles;
  readonly uploads: UploadSessions;
  /** @internal Replaced by each open: a retried open replays into a fresh index, never on top of a half-filled one. */ index = new RepositoryIndex();
  /** @internal */ readonly lock = new Mutex();
  /** @internal for fsck.ts (damaged copies) */ readonly journal: Journal<IndexRecord>;
  private opening?: Promise<void>;
  private liveRecordsAtCompaction = 0;
  private appendedSinceCompaction = 0;
  /**
   * When each digest was last uploaded, linked, HEADed or fetched by a client. GC keeps anything touched
   * within the grace period or after it started, so a push that found a blob present (HEAD) and then puts
   * its manifest never loses that blob to a sweep in between.
   */
  /** @internal */ readonly touched = new Map<string, number>();
  private configCache = new Map<string, string | undefined>();
  /**
   * Push activity per repository: when a client last uploaded, mounted or HEADed a blob there, and how
   * many upload requests are running. GC keeps every blob linked to a repository with a push in flight,
   * whatever the grace period, so even `gc --grace 0` cannot sweep a layer between its upload and the
   * manifest that references it.
   */
  /** @internal */ readonly pushActivity = new Map<string, number>();
  /** @internal */ readonly pushesRunning = new Map<string, number>();
  /** @internal Blobs held by pushes in flight (PushInFlight.hold), with how many pushes hold each. */
  readonly heldBlobs = new Map<string, number>();
  /**
   * @internal How long push activity is remembered: the longest in-flight window a GC has asked about.
   * Older entries are forgotten (they protect nothing any more), so the map stays as small as the set of
   * repositories pushed to recently, whatever names clients HEAD.
   */
  pushWindowMs = DEFAULT_IN_FLIGHT_MS;
  private pushActivityPrunedAt = Date.now();
  private pushActivityKept = 0;

  constructor(private readonly options: RegistryStoreOptions) {
    this.root = options.root;
    this.blobs = new BlobFiles(this.root);
    this.uploads = new UploadSessions(this.root, this.blobs);
    this.journal = new Journal<IndexRecord>(join(this.root, 'index.jsonl'), isIndexRecord);
  }

  /**
   * Opens the store (idempotent): creates the layout, replays the journal, compacts it when worthwhile.
   * A failed open is forgotten, so the next call starts over (into a fresh index: replaying on top of
   * what a failed attempt applied would apply every record twice).
   */
  open(): Promise<void> {
    this.opening ??= this.load().catch(async (err: unknown) => {
      this.opening = undefined;
      await this.journal.close().catch(() => undefined);
      throw err;
    });
    return this.opening;
  }

  private async load(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await this.blobs.init();
    await this.uploads.init();
    const { records, tornLines, damagedLines, validBytes } = await this.journal.replay();
    const index = new RepositoryIndex();
    for (const r of records) index.apply(r);
    // Damage in the middle loses records: keep the journal as found, before compaction drops those lines.
    const copy = damagedLines.length > 0 ? await this.keepDamagedJournal(damagedLines) : undefined;
    await this.journal.openForAppend(validBytes);
    this.index = index;
    if (tornLines > 0) this.options.log?.(`registry: ignored the last ${tornLines === 1 ? 'line' : `${tornLines} lines`} of the index journal: an append cut off by a crash (never acknowledged, nothing lost)`);
    const history = records.length > 2 * this.liveRecords() + 64;
    const compactNow = damagedLines.length > 0 ? copy !== undefined : history;
    if (!compactNow || !(await this.compact())) this.liveRecordsAtCompaction = records.length;
  }

  private async keepDamagedJournal(lines: number[]): Promise<string | undefined> {
    const which = `line${lines.length === 1 ? '' : 's'} ${listLines(lines)}`;
    try {
      const copy = await this.journal.keepDamagedCopy();
      this.options.log?.(
        `registry: the index journal is damaged at ${which}, with good records after: not a crash (disk damage or an edit). ` +
          `Those records are lost (a tag or manifest may be missing: push it again); every other record is kept. ` +
          `The journal as found is kept at ${copy}; "berth fsck" reports it until you delete it.`,
      );
      return copy;
    } catch (err) {
      this.options.log?.(`registry: the index journal is damaged at ${which}, and a copy of it could not be kept (${(err as Error).message}); it stays as it is (not compacted) so nothing more is lost.`);
      return undefined;
    }
  }

  async close(): Promise<void> {
    if (!this.opening) return;
    await this.opening.catch(() => undefined);
    await this.lock.run(() => this.journal.close());
    this.uploads.clear();
    this.opening = undefined;
  }

  private liveRecords(): number {
    let n = 0;
    for (const r of this.index.repos.values()) n += r.links.size + r.manifests.size + (r.tags.size > 0 ? 1 : 0);
    return n;
  }

  /**
   * Rewrites the journal as a snapshot of the index. Best effort: on failure the old journal is intact
   * and still open (Journal.rewrite), so this logs and returns false, and the next try waits for another
   * round of appends instead of retrying on every mutation.
   */
  private async compact(): Promise<boolean> {
    this.appendedSinceCompaction = 0;
    try {
      await this.journal.rewrite(this.index.snapshot());
    } catch (err) {
      this.options.log?.(`registry: journal compaction failed (the journal is unchanged and in use): ${(err as Error).message}`);
      return false;
    }
    this.liveRecordsAtCompaction = this.liveRecords();
    return true;
  }

  /**
   * Applies one change: under the lock, `prepare` validates against the current index and returns the
   * record (or nothing to do); the record is appended durably, then applied in memory, then `applied`
   * runs, still under the lock (GC removes the files a sweep record names there).
   * @internal
   */
  async mutate(prepare: () => Promise<IndexRecord | undefined> | IndexRecord | undefined, applied?: (rec: IndexRecord) => Promise<void>): Promise<IndexRecord | undefined> {
    await this.open();
    const rec = await this.lock.run(async () => {
      const r = await prepare();
      if (!r) return undefined;
      await this.journal.append(r);
      this.index.apply(r);
      await applied?.(r);
      this.appendedSinceCompaction++;
      // Compact once the journal is mostly history: keeps replay fast and the file small.
      if (this.appendedSinceCompaction > 10_000 && this.appendedSinceCompaction > 2 * (this.liveRecordsAtCompaction + 1000)) await this.compact();
      return r;
    });
    if (rec) this.options.onChange?.('repo' in rec ? rec.repo : undefined);
    return rec;
  }

  /** @internal */
  touch(digest: string, at = Date.now()): void {
    this.touched.set(digest, at);
  }

  /** Records push activity in `repo` (a blob HEAD, a mount, an upload request). */
  notePush(repo: string): void {
    const now = Date.now();
    this.pushActivity.set(repo, now);
    // Forget pushes older than any in-flight window, once a minute or when the map doubled since the last
    // walk (a client HEADing blobs under many names): the walk's cost is spread over the notes that grew it.
    if (now - this.pushActivityPrunedAt >= PUSH_ACTIVITY_PRUNE_MS || this.pushActivity.size > 2 * this.pushActivityKept + 1024) {
      const before = now - this.pushWindowMs;
      for (const [r, at] of this.pushActivity) if (at < before && !this.pushesRunning.has(r)) this.pushActivity.delete(r);
      this.pushActivityPrunedAt = now;
      this.pushActivityKept = this.pushActivity.size;
    }
  }

  /** Marks an upload request running in `repo` until the returned function is called. */
  beginPush(repo: string): () => void {
    this.notePush(repo);
    countUp(this.pushesRunning, repo);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.notePush(repo);
      countDown(this.pushesRunning, repo);
    };
  }

  /**
   * Starts a push that writes blobs before it links them (an archive import): from its first blob to its
   * commit or rollback, GC keeps the blobs it holds and what it linked into its repositories, whatever
   * the grace period — the same protection an upload request in flight gives a docker push.
   */
  startPush(): PushInFlight {
    const ends: Array<() => void> = [];
    const held = new Set<string>();
    let ended = false;
    return {
      into: (repo) => {
        if (!ended) ends.push(this.beginPush(repo));
      },
      hold: (digest) => {
        if (ended || held.has(digest)) return;
        held.add(digest);
        countUp(this.heldBlobs, digest);
      },
      end: () => {
        if (ended) return;
        ended = true;
        for (const end of ends) end();
        for (const d of held) countDown(this.heldBlobs, d);
      },
    };
  }

  private repository(name: string): Repository | undefined {
    checkRepositoryName(name);
    return this.index.get(name);
  }

  // ---- blobs -------------------------------------------------------------------------------------

  /** The size of a stored blob, or undefined when the store does not have it (in any repository). */
  async hasBlob(digest: string): Promise<number | undefined> {
    checkDigest(digest);
    await this.open();
    return (await this.blobs.stat(digest))?.size;
  }

  /**
   * Streams `source` into the store: to a temp file on the blobs' filesystem, hashed while written,
   * checked against `expectedDigest`/`expectedSize`, fsynced and moved into place atomically. Throws a
   * RegistryError (DIGEST_INVALID / SIZE_INVALID, a BerthError) on a mismatch; the temp file is always
   * removed. `created` is false when the blob was already stored (the copy is dropped). The blob is not
   * yet part of any repository: call linkBlob, or reference it from a manifest in the same repository.
   */
  async writeBlob(source: BlobSource, opts: WriteBlobOptions = {}): Promise<WrittenBlob> {
    await this.open();
    const written = await this.blobs.write(source, opts);
    this.touch(written.digest);
    return written;
  }

  /**
   * A read stream of a stored blob, whole or a byte range (inclusive end). Throws BLOB_UNKNOWN when absent,
   * RANGE_INVALID (416) when the range does not fit the blob (detail.size says the size).
   */
  async openBlob(digest: string, range?: BlobRange): Promise<OpenedBlob> {
    const { size, start, end } = await this.blobRange(digest, range);
    // An empty blob has no byte range to read (createReadStream refuses end < start).
    const stream = size === 0 ? Readable.from([]) : this.blobs.read(digest, { start, end });
    return { size, start, end, stream };
  }

  /**
   * The blob as an open file and the byte range to serve, for the HTTP GET path (electron/registry/send-file.ts
   * sends it with reused buffers). The caller closes `file`. The file stays readable even if GC removes the
   * blob meanwhile: an open handle outlives the unlink.
   */
  async openBlobFile(digest: string, range?: BlobRange): Promise<{ size: number; start: number; end: number; file: FileHandle }> {
    const r = await this.blobRange(digest, range);
    try {
      return { ...r, file: await open(this.blobs.path(digest), 'r') };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RegistryError('BLOB_UNKNOWN', `Blob ${digest} is not in the registry.`);
      throw err;
    }
  }

  private async blobRange(digest: string, range?: BlobRange): Promise<{ size: number; start: number; end: number }> {
    checkDigest(digest);
    await this.open();
    const st = await this.blobs.stat(digest);
    if (!st) throw new RegistryError('BLOB_UNKNOWN', `Blob ${digest} is not in the registry.`);
    let start = 0;
    let end = st.size - 1;
    if (range) {
      start = range.start;
      end = Math.min(range.end ?? st.size - 1, st.size - 1);
      if (start < 0 || start >= st.size || end < start) {
        throw new RegistryError('RANGE_INVALID', `The range starts at byte ${start} but the blob has ${st.size} bytes.`, { size: st.size });
      }
    }
    return { size: st.size, start, end };
  }

  /** The size of a blob when it is part of `repo` (linked, or a manifest of it); touches it for GC. */
  async blobInRepository(repo: string, digest: string): Promise<number | undefined> {
    checkDigest(digest);
    await this.open();
    const r = this.repository(repo);
    if (!r || !r.has(digest)) return undefined;
    const st = await this.blobs.stat(digest);
    if (!st) return undefined;
    this.touch(digest);
    return st.size;
  }

  /** Makes a stored blob part of `repo` (what an upload or a mount does). Throws BLOB_UNKNOWN when absent. */
  async linkBlob(repo: string, digest: string): Promise<void> {
    checkRepositoryName(repo);
    checkDigest(digest);
    this.touch(digest);
    await this.mutate(async () => {
      const st = await this.blobs.stat(digest);
      if (!st) throw new RegistryError('BLOB_UNKNOWN', `Blob ${digest} is not in the registry; upload it first.`);
      const r = this.index.get(repo);
      if (r?.links.has(digest)) return undefined;
      return { op: 'link', repo, digest, size: st.size, at: Date.now() };
    });
  }

  /** Cross-repository mount: links `digest` into `repo` when `from` has it. False when it cannot. */
  async mountBlob(repo: string, digest: string, from: string): Promise<boolean> {
    checkRepositoryName(repo);
    checkDigest(digest);
    if (!isRepositoryName(from)) return false;
    await this.open();
    if (!this.index.get(from)?.has(digest)) return false;
    try {
      await this.linkBlob(repo, digest);
      return true;
    } catch (err) {
      if (err instanceof RegistryError && err.oci === 'BLOB_UNKNOWN') return false;
      throw err;
    }
  }

  /** DELETE /v2/NAME/blobs/DIGEST: unlinks the blob from this repository; GC frees the bytes later. */
  async unlinkBlob(repo: string, digest: string): Promise<void> {
    checkRepositoryName(repo);
    checkDigest(digest);
    await this.mutate(() => {
      if (!this.index.get(repo)?.links.has(digest)) throw new RegistryError('BLOB_UNKNOWN', `Blob ${digest} is not in repository ${repo}.`);
      return { op: 'unlink', repo, digest };
    });
  }

  /**
   * Rolls back blobs a failed import (or similar) wrote: removes each blob file unless a manifest or a
   * repository link uses it now, a push in flight holds it, or a client touched it after `writtenAt`
   * (someone else found it present and may be about to reference it). The same checks as GC's sweep,
   * under the index lock. Pass the digests with the time you wrote them (a Map<digest, ms> works), and end
   * your own PushInFlight first (its holds would keep them). Returns the digests removed.
   */
  async discardBlobs(blobs: Iterable<readonly [digest: string, writtenAt: number]>): Promise<string[]> {
    const list = [...blobs];
    for (const [d] of list) checkDigest(d);
    if (list.length === 0) return [];
    const rec = await this.mutate(
      () => {
        const live = this.index.referenced();
        for (const r of this.index.repos.values()) for (const d of r.links.keys()) live.add(d);
        const removed: string[] = [];
        for (const [digest, at] of list) {
          // Held by another push in flight, or touched by someone since we wrote it: theirs now.
          if (live.has(digest) || this.heldBlobs.has(digest) || (this.touched.get(digest) ?? 0) > at + 1) continue;
          removed.push(digest);
        }
        return removed.length ? { op: 'sweep', digests: removed } : undefined;
      },
      // Record first, files after, as GC does (gc.ts says why).
      async (r) => {
        if (r.op === 'sweep') for (const d of r.digests) await this.blobs.remove(d);
      },
    );
    return rec?.op === 'sweep' ? rec.digests : [];
  }

  /** A directory on the blobs' filesystem for spooling big temp files (same filesystem: rename works). */
  tempDir(): string {
    return this.blobs.tmpDir;
  }

  // ---- manifests and tags -------------------------------------------------------------------------

  /**
   * Stores a manifest (or index) in `repo` and tags it when `reference` is a tag. The bytes are kept
   * exactly. Validation: schema 1 and malformed manifests → MANIFEST_INVALID; a mediaType that disagrees
   * with `mediaType` (the Content-Type) → MANIFEST_INVALID; a `reference` digest the bytes do not hash to
   * → DIGEST_INVALID; config, layers and child manifests must already be in `repo` → MANIFEST_BLOB_UNKNOWN.
   * A `subject` need not exist (OCI 1.1). Returns the digest, and the subject when there is one.
   */
  async putManifest(repo: string, reference: string | undefined, bytes: Buffer, mediaType: string): Promise<{ digest: string; subject?: string }> {
    checkRepositoryName(repo);
    let tag: string | undefined;
    let algorithm: 'sha256' | 'sha512' = 'sha256';
    if (reference !== undefined) {
      if (looksLikeDigest(reference)) {
        checkDigest(reference);
        algorithm = parseDigest(reference)!.algorithm;
      } else {
        checkTag(reference);
        tag = reference;
      }
    }
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new RegistryError('SIZE_INVALID', `The manifest is ${bytes.length} bytes; the limit is ${MAX_MANIFEST_BYTES}.`, undefined, 413);
    }
    let parsed;
    try {
      parsed = parseManifest(bytes.toString('utf8'), mediaType, isDigest);
    } catch (err) {
      if (err instanceof ManifestError) throw new RegistryError('MANIFEST_INVALID', err.message);
      throw err;
    }
    const digest = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
    if (reference !== undefined && tag === undefined && reference !== digest) {
      throw new RegistryError('DIGEST_INVALID', `The manifest's bytes hash to ${digest}, not to ${reference}.`, { expected: reference, actual: digest });
    }
    // The manifest is a blob like any other; write it before taking the index lock.
    await this.writeBlob([bytes], { expectedDigest: digest });
    const entry: ManifestEntry = {
      digest,
      mediaType: parsed.mediaType,
      size: bytes.length,
      blobs: parsed.blobs.map((d) => d.digest),
      manifests: parsed.manifests.map((d) => d.digest),
      createdAt: Date.now(),
    };
    if (isIndexType(parsed.mediaType)) {
      entry.platforms = parsed.manifests.map((d) => (d.platform ? formatPlatform(d.platform) : '')).filter(Boolean);
    }
    if (parsed.subject) {
      entry.subject = parsed.subject.digest;
      if (parsed.annotations) entry.annotations = parsed.annotations;
    }
    if (parsed.artifactType) entry.artifactType = parsed.artifactType;
    await this.mutate(async () => {
      const r = this.index.get(repo);
      const missing: string[] = [];
      for (const d of entry.blobs) {
        if (!r?.has(d) || !(await this.blobs.stat(d))) missing.push(d);
      }
      for (const d of entry.manifests) if (!r?.manifests.has(d)) missing.push(d);
      // GC may have swept the bytes written above before we took the lock (nothing named them yet): the
      // index must never name a manifest without its content, so write them again (at most 4 MiB).
      if (missing.length === 0 && !(await this.blobs.stat(digest))) await this.blobs.write([bytes], { expectedDigest: digest });
      if (missing.length > 0) {
        throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `The manifest references ${missing.length === 1 ? 'a blob' : `${missing.length} blobs`} not in repository ${repo}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}. Push the blobs (and child manifests) first.`, { missing });
      }
      const existing = r?.manifests.get(digest);
      if (existing && (tag === undefined || r?.tags.get(tag) === digest)) return undefined; // nothing changes
      return { op: 'manifest', repo, m: entry, tags: tag ? [tag] : undefined, at: Date.now() };
    });
    for (const d of entry.blobs) this.touch(d);
    return entry.subject ? { digest, subject: entry.subject } : { digest };
  }

  private resolve(repo: string, reference: string): { r: Repository; m: ManifestEntry } {
    const r = this.repository(repo);
    let digest: string | undefined;
    if (looksLikeDigest(reference)) {
      checkDigest(reference);
      digest = reference;
    } else {
      checkTag(reference);
      digest = r?.tags.get(reference);
    }
    const m = digest ? r?.manifests.get(digest) : undefined;
    if (!r || !m) throw new RegistryError('MANIFEST_UNKNOWN', `Manifest ${reference} is not in repository ${repo}.`, { repository: repo, reference });
    return { r, m };
  }

  /** Metadata of a manifest by tag or digest, without reading it (HEAD). */
  async statManifest(repo: string, reference: string): Promise<{ digest: string; mediaType: string; size: number }> {
    await this.open();
    const { m } = this.resolve(repo, reference);
    this.touch(m.digest);
    return { digest: m.digest, mediaType: m.mediaType, size: m.size };
  }

  /** The manifest by tag or digest, exactly as pushed. */
  async getManifest(repo: string, reference: string): Promise<StoredManifest> {
    await this.open();
    const { m } = this.resolve(repo, reference);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.blobs.path(m.digest));
    } catch {
      throw new RegistryError('MANIFEST_UNKNOWN', `Manifest ${m.digest} of ${repo} is in the index but its content is missing; run "berth fsck --repair".`);
    }
    this.touch(m.digest);
    return { digest: m.digest, mediaType: m.mediaType, size: m.size, bytes };
  }

  /** Points several tags at manifests of `repo` in one atomic step (one journal record). */
  async setTags(repo: string, tags: Record<string, string>): Promise<void> {
    checkRepositoryName(repo);
    for (const [t, d] of Object.entries(tags)) {
      checkTag(t);
      checkDigest(d);
    }
    await this.mutate(() => {
      const r = this.index.get(repo);
      for (const [t, d] of Object.entries(tags)) {
        if (!r?.manifests.has(d)) throw new RegistryError('MANIFEST_UNKNOWN', `Cannot tag ${t}: manifest ${d} is not in repository ${repo}.`);
      }
      return Object.keys(tags).length ? { op: 'tags', repo, tags, at: Date.now() } : undefined;
    });
  }

  /** Repository names, sorted (byte order), from the in-memory index. */
  async repositories(): Promise<string[]> {
    await this.open();
    return this.index.names();
  }

  /** Tags of `repo`, sorted; NAME_UNKNOWN when the repository does not exist. */
  async tags(repo: string): Promise<string[]> {
    await this.open();
    const r = this.repository(repo);
    if (!r) throw new RegistryError('NAME_UNKNOWN', `Repository ${repo} is not in the registry.`, { repository: repo });
    return r.tagList();
  }

  /** The digest a tag points at, if any. */
  async tagDigest(repo: string, tag: string): Promise<string | undefined> {
    await this.open();
    return this.repository(repo)?.tags.get(tag);
  }

  /** Manifests of `repo` whose subject is `digest`, optionally only those of one artifactType. */
  async referrers(repo: string, digest: string, artifactType?: string): Promise<ReferrerDescriptor[]> {
    checkDigest(digest);
    await this.open();
    const r = this.repository(repo);
    const out: ReferrerDescriptor[] = [];
    for (const d of r?.referrers.get(digest) ?? []) {
      const m = r!.manifests.get(d);
      if (!m) continue;
      if (artifactType !== undefined && m.artifactType !== artifactType) continue;
      const desc: ReferrerDescriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
      if (m.artifactType) desc.artifactType = m.artifactType;
      if (m.annotations) desc.annotations = m.annotations;
      out.push(desc);
    }
    return out.sort((a, b) => (a.digest < b.digest ? -1 : 1));
  }

  /** Removes one tag; the manifest stays (reachable by digest). */
  async deleteTag(repo: string, tag: string): Promise<void> {
    checkRepositoryName(repo);
    checkTag(tag);
    await this.mutate(() => {
      if (!this.index.get(repo)?.tags.has(tag)) throw new RegistryError('MANIFEST_UNKNOWN', `Tag ${tag} is not in repository ${repo}.`);
      return { op: 'untag', repo, tag, at: Date.now() };
    });
  }

  /** Removes a manifest from `repo` and every tag that points at it. GC frees what nothing else uses. */
  async deleteManifest(repo: string, digest: string): Promise<void> {
    checkRepositoryName(repo);
    checkDigest(digest);
    await this.mutate(() => {
      if (!this.index.get(repo)?.manifests.has(digest)) throw new RegistryError('MANIFEST_UNKNOWN', `Manifest ${digest} is not in repository ${repo}.`);
      return { op: 'delete-manifest', repo, digest, at: Date.now() };
    });
  }

  /** Removes a repository: its tags, manifests and links, in one record. */
  async deleteRepository(repo: string): Promise<void> {
    checkRepositoryName(repo);
    await this.mutate(() => {
      if (!this.index.get(repo)) throw new RegistryError('NAME_UNKNOWN', `Repository ${repo} is not in the registry.`);
      return { op: 'delete-repository', repo };
    });
  }

  // ---- inspection for the UI ----------------------------------------------------------------------

  /** @internal the manifest entry (index metadata) of a digest in a repository */
  manifestEntry(repo: string, digest: string): ManifestEntry | undefined {
    return this.index.get(repo)?.manifests.get(digest);
  }

  /**
   * Size of a manifest with everything it references (for an index: its children too, each blob once),
   * and its platforms (an index's children; an image's own, read from its config).
   */
  async describe(repo: string, digest: string): Promise<{ size: number; platforms: string[]; mediaType: string; createdAt: number } | undefined> {
    await this.open();
    const r = this.index.get(repo);
    const top = r?.manifests.get(digest);
    if (!r || !top) return undefined;
    const seen = new Set<string>();
    let size = 0;
    const add = (d: string, fallback = 0) => {
      if (seen.has(d)) return;
      seen.add(d);
      size += this.index.sizes.get(d) ?? fallback;
    };
    const walk = (m: ManifestEntry) => {
      add(m.digest, m.size);
      for (const b of m.blobs) add(b);
      for (const c of m.manifests) {
        const child = r.manifests.get(c);
        if (child && !seen.has(child.digest)) walk(child);
      }
    };
    walk(top);
    let platforms = top.platforms ?? [];
    if (!isIndexType(top.mediaType) && top.blobs[0]) {
      const p = await this.configPlatform(top.blobs[0]);
      platforms = p ? [p] : [];
    }
    return { size, platforms, mediaType: top.mediaType, createdAt: top.createdAt };
  }

  /** `os/arch[/variant]` from an image config blob (small JSON; cached by digest). */
  private async configPlatform(configDigest: string): Promise<string | undefined> {
    if (this.configCache.has(configDigest)) return this.configCache.get(configDigest);
    let platform: string | undefined;
    try {
      const st = await this.blobs.stat(configDigest);
      if (st && st.size <= MAX_MANIFEST_BYTES) {
        const cfg = JSON.parse(await readFile(this.blobs.path(configDigest), 'utf8')) as Partial<Platform>;
        if (typeof cfg.os === 'string' && typeof cfg.architecture === 'string') platform = formatPlatform(cfg as Platform);
      }
    } catch {
      platform = undefined; // not JSON (an artifact's config): no platform
    }
    this.configCache.set(configDigest, platform);
    return platform;
  }

  /** Reads a small JSON blob of `repo` (an image config); refuses blobs over 4 MiB. */
  async readJsonBlob(repo: string, digest: string): Promise<unknown> {
    const size = await this.blobInRepository(repo, digest);
    if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', `Blob ${digest} is not in repository ${repo}.`);
    if (size > MAX_MANIFEST_BYTES) throw new RegistryError('SIZE_INVALID', `Blob ${digest} is ${size} bytes: too big to show as JSON.`);
    const text = await readFile(this.blobs.path(digest), 'utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw new RegistryError('MANIFEST_INVALID', `Blob ${digest} is not JSON.`);
    }
  }

  /** Per-repository figures; shared layers are counted once per repository, and exclusive bytes say what deleting it frees. */
  async repositoryUsage(): Promise<RepositorySummary[]> {
    await this.open();
    const owners = new Map<string, number>(); // digest → number of repositories using it
    const perRepo = new Map<string, Set<string>>();
    for (const r of this.index.repos.values()) {
      const set = new Set<string>(r.links.keys());
      for (const m of r.manifests.values()) {
        set.add(m.digest);
        for (const b of m.blobs) set.add(b);
      }
      perRepo.set(r.name, set);
      for (const d of set) owners.set(d, (owners.get(d) ?? 0) + 1);
    }
    return this.index.names().map((name) => {
      const r = this.index.get(name)!;
      let size = 0;
      let exclusiveSize = 0;
      for (const d of perRepo.get(name)!) {
        const s = this.index.sizes.get(d) ?? 0;
        size += s;
        if (owners.get(d) === 1) exclusiveSize += s;
      }
      const summary: RepositorySummary = { name, tagCount: r.tags.size, manifestCount: r.manifests.size, size, exclusiveSize };
      if (r.updatedAt) summary.updatedAt = r.updatedAt;
      return summary;
    });
  }

  /** Bytes on disk: all blobs, the part no manifest references, and unfinished uploads. */
  async usage(): Promise<StorageUsage> {
    await this.open();
    const referenced = this.index.referenced();
    let totalBytes = 0;
    let blobCount = 0;
    let unreferencedBytes = 0;
    for await (const b of this.blobs.list()) {
      if (b.size < 0) continue;
      totalBytes += b.size;
      blobCount++;
      if (!referenced.has(b.digest)) unreferencedBytes += b.size;
    }
    return { totalBytes, blobCount, unreferencedBytes, uploadsBytes: await this.uploads.bytes() };
  }

  // ---- maintenance -------------------------------------------------------------------------------

  /** Garbage collection, online. See gc.ts. */
  async gc(opts: GcOptions = {}): Promise<GcReport> {
    await this.open();
    const report = await collectGarbage(this, opts);
    if (!opts.dryRun && (report.blobsRemoved || report.manifestsRemoved)) this.options.onChange?.();
    return report;
  }

  /** Verifies every blob's digest and every manifest's references; repairs when asked. See fsck.ts. */
  async fsck(opts: FsckOptions = {}): Promise<FsckReport> {
    await this.open();
    return checkStore(this, opts);
  }

  /** Removes upload sessions idle for longer than maxAgeMs (default 24 h). */
  async expireUploads(maxAgeMs = DEFAULT_UPLOAD_EXPIRY_MS): Promise<number> {
    await this.open();
    return (await this.uploads.expire(maxAgeMs)).count;
  }

  /** @internal stat helper for gc/fsck */
  async statBlob(digest: string): Promise<{ size: number; mtimeMs: number } | undefined> {
    return this.blobs.stat(digest);
  }
}

export type { Descriptor };
