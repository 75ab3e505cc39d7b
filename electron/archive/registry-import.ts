/**
 * Import into the embedded registry. Commit order makes it atomic for anyone looking at the registry:
 *   1. the pass streams every blob into the store (hashed and verified while written; the store's own
 *      temp directory is the spool, so a legacy archive whose manifest.json comes last costs no copy);
 *   2. blobs are linked into the repository, child manifests put by digest, then indexes/manifests by digest;
 *   3. only then every tag of a repository moves in one atomic setTags.
 * Until step 3 nothing is tagged, so no client sees a half-imported image. On failure or cancel, what
 * this import added is taken away again: its manifests and links, and blob files it created that nothing
 * references (not left to GC: a failed import should leave the disk as it found it, at once).
 */
import { createHash } from 'node:crypto';
import { statfs, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ParallelGzip } from './parallel-gzip';
import { explainRepositoryName, isRepositoryName, isTag } from '../../shared/digest';
import { formatBytes } from '../../shared/format';
import { BerthError } from '../../shared/errors';
import type { ArchiveImportResult } from '../../shared/api/archive';
import type { PushInFlight, RegistryStore } from '../registry/store';
import { RegistryError } from '../registry/errors';
import { invalid } from './tar-entries';
import { scanArchive, startsGzip, type BlobSink, type BlobWrite, type StoredBlob } from './scan';
import { resolveArchive, sameImageName, splitImageName, type ResolvedArchive, type ResolvedImage } from './resolve';
import { algorithmOf, blobTooLarge, digestMismatch, gunzipDigest } from './blob-hash';

/** Items below this size get no row of their own in the job (configs, VERSION files): noise. */
const ITEM_MIN_BYTES = 1 << 20;

export interface ImportProgress {
  /** Bytes of the archive file read so far. */
  read(bytes: number): void;
  /** One row per layer-sized blob. */
  item(id: string, label: string, total: number): { progress(done: number): void; status(s: string): void };
}

/** One image's own repository and tags; `image` is its index in the archive, a digest, or a name it carries. */
export interface ImageOverride {
  image: number | string;
  repository?: string;
  tags?: string[];
}

export interface RegistryImportOptions {
  repository?: string;
  tags?: string[];
  /** Per-image choices for an archive with several images. */
  overrides?: ImageOverride[];
  /** gzip legacy layers on the way in (OCI layout blobs are always kept as they are: their digests are the image's). */
  compress?: boolean;
  signal?: AbortSignal;
  progress?: ImportProgress;
}

/** Streams blobs into the registry store; remembers what it created so a failed import can take it back. */
export class RegistrySink implements BlobSink {
  /** Blob files this import created, with when: a touch by anyone after that means someone else wants it. */
  readonly created = new Map<string, number>();
  written = 0;
  skipped = 0;

  constructor(
    private readonly store: RegistryStore,
    private readonly options: Pick<RegistryImportOptions, 'compress' | 'signal' | 'progress'>,
    /** The import as a push in flight: every blob it writes or finds is held, so GC keeps it until the commit. */
    private readonly push?: PushInFlight,
  ) {}

  async write(body: AsyncIterable<Buffer>, info: BlobWrite): Promise<StoredBlob> {
    const { signal, progress } = this.options;
    const row = info.size >= ITEM_MIN_BYTES ? progress?.item(info.path, info.path, info.size) : undefined;
    if (info.digest) this.push?.hold(info.digest); // before the check: GC cannot take it between check and link
    if (info.digest && (await this.store.hasBlob(info.digest)) === info.size) {
      // Content-addressed: the store already holds these exact bytes; skip the copy. Touch it so GC
      // (which spares recently used blobs) does not sweep it before this import links it.
      this.store.touch(info.digest);
      let n = 0;
      let gzipped: boolean | undefined;
      for await (const chunk of body) {
        gzipped ??= startsGzip(chunk);
        row?.progress((n += chunk.length));
      }
      row?.status('exists');
      this.skipped++;
      return gzipped ? { digest: info.digest, size: info.size, gzipped } : { digest: info.digest, size: info.size, diffId: info.digest, gzipped: false };
    }
    row?.status('writing');
    // Look at the first bytes before choosing: a legacy layer.tar may be gzip already, and is then kept
    // as it is (gzipping it again would give a layer no image names).
    const chunks = body[Symbol.asyncIterator]();
    const first = await chunks.next();
    const head = first.done ? undefined : first.value;
    const gzip = info.layer && this.options.compress === true && !(head && startsGzip(head));
    let done = 0;
    let came: boolean | undefined; // the archive's own bytes are gzip
    const counted = async function* () {
      const all = async function* () {
        if (head) yield head;
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
      };
      for await (const chunk of all()) {
        came ??= startsGzip(chunk);
        done += chunk.length;
        row?.progress(done);
        yield chunk;
      }
    };
    try {
      let result: StoredBlob;
      if (gzip) {
        // Hash the uncompressed bytes (the layer's diff_id) and the compressed ones (its blob digest) in one go.
        const diff = createHash('sha256');
        const hashing = new Transform({
          transform(chunk: Buffer, _e, cb) {
            diff.update(chunk);
            cb(null, chunk);
          },
        });
        const gz = new ParallelGzip();
        const feeding = pipeline(Readable.from(counted(), { objectMode: false }), hashing, gz, { signal }).catch((err) => {
          gz.destroy(err);
          throw err;
        });
        const [w] = await Promise.all([this.store.writeBlob(gz, { signal }), feeding]);
        this.wrote(w);
        result = { digest: w.digest, size: w.size, diffId: `sha256:${diff.digest('hex')}`, gzipped: true };
      } else {
        const diff = algorithmOf(info.digest) === 'sha256' ? undefined : createHash('sha256');
        const source = diff ? Readable.from(counted(), { objectMode: false }).pipe(new Transform({ transform: (c: Buffer, _e, cb) => (diff.update(c), cb(null, c)) })) : counted();
        const w = await this.store.writeBlob(source, { expectedDigest: info.digest, expectedSize: info.size, signal });
        this.wrote(w);
        result = came
          ? { digest: w.digest, size: w.size, gzipped: true }
          : { digest: w.digest, size: w.size, diffId: diff ? `sha256:${diff.digest('hex')}` : w.digest, gzipped: false };
      }
      this.written += result.size;
      row?.status('done');
      return result;
    } catch (err) {
      if (err instanceof RegistryError && err.oci === 'DIGEST_INVALID') {
        const actual = (err.detail as { actual?: string } | undefined)?.actual ?? 'something else';
        throw digestMismatch(info, actual);
      }
      if (err instanceof RegistryError && err.oci === 'SIZE_INVALID') throw invalid(`The archive entry ${info.path} is damaged: ${err.message}`, { entry: info.path });
      throw err;
    }
  }

  /** Our own later writes of a blob we created touch it too; they must not count as someone else's. */
  private wrote(w: { digest: string; created: boolean }): void {
    this.push?.hold(w.digest);
    if (w.created || this.created.has(w.digest)) this.created.set(w.digest, Date.now());
  }

  async uncompressedDigest(digest: string): Promise<string> {
    return gunzipDigest((await this.store.openBlob(digest)).stream, digest, this.options.signal);
  }

  async read(digest: string, max: number): Promise<Buffer> {
    const blob = await this.store.openBlob(digest);
    if (blob.size > max) {
      blob.stream.destroy();
      throw blobTooLarge(digest, blob.size, max);
    }
    const chunks: Buffer[] = [];
    for await (const c of blob.stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
}

/** Refuses early, before a byte is written, when `bytes` cannot fit on the disk that holds `dir`. */
export async function ensureFreeSpace(dir: string, bytes: number, what: string): Promise<void> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (bytes > free) {
    throw new BerthError('INVALID_INPUT', `${what} is ${formatBytes(bytes)} but only ${formatBytes(free)} is free on the disk that holds ${dir}. Free some space and try again.`, {
      needed: bytes,
      free,
    });
  }
}

/** The registry's disk must hold at least the archive (a gzip archive expands; its own size is the least). */
export async function checkFreeSpace(dir: string, file: string): Promise<void> {
  await ensureFreeSpace(dir, (await stat(file)).size, 'The archive');
}

interface Placement {
  image: ResolvedImage;
  repository: string;
  tags: string[];
}

export function validateTarget(repository: string | undefined, tags: string[] | undefined): void {
  if (repository !== undefined && !isRepositoryName(repository)) {
    throw new BerthError('INVALID_INPUT', `Invalid repository "${repository}": ${explainRepositoryName(repository)}`);
  }
  for (const t of tags ?? []) {
    if (!isTag(t)) throw new BerthError('INVALID_INPUT', `Invalid tag "${t}": up to 128 letters, digits, "_", "." and "-", not starting with "." or "-".`);
  }
}

/** Does `key` name this image (the index-th of the archive)? */
function overrideMatches(key: number | string, image: ResolvedImage, index: number): boolean {
  if (typeof key === 'number') return key === index;
  if (key === image.root.digest || image.platforms.some((p) => p.config.digest === key || p.manifestDigest === key)) return true;
  // A name as the archive gives it, or in any spelling that means the same (docker.io/library/alpine:3.20 = alpine:3.20).
  return image.names.some((n) => sameImageName(n, key));
}

/** The override for each image (by the archive's order), refusing one that names no image or two. */
export function matchOverrides(images: readonly ResolvedImage[], overrides: readonly ImageOverride[] = []): Map<ResolvedImage, ImageOverride> {
  const out = new Map<ResolvedImage, ImageOverride>();
  for (const o of overrides) {
    const matched = images.filter((img, i) => overrideMatches(o.image, img, i));
    const label = typeof o.image === 'number' ? `#${o.image + 1}` : `"${o.image}"`;
    if (matched.length === 0) {
      throw new BerthError('INVALID_INPUT', `No image in the archive matches ${label}; name an image by its position (1 to ${images.length}), a name it carries, its manifest digest or its image ID.`, { image: o.image });
    }
    if (matched.length > 1) throw new BerthError('INVALID_INPUT', `${label} matches ${matched.length} images in the archive; name one by its position or digest.`, { image: o.image });
    if (out.has(matched[0])) throw new BerthError('INVALID_INPUT', `Image ${label} is chosen twice; give each image one repository and one set of tags.`, { image: o.image });
    validateTarget(o.repository, o.tags);
    out.set(matched[0], o);
  }
  return out;
}

/**
 * Where each image goes: its override's repository and tags, else the chosen repository, else the one its
 * archive name says; the chosen tags, or the archive's own (else 'latest'). Referrers (signatures, SBOMs)
 * follow their subject, untagged.
 */
export function placeImages(resolved: ResolvedArchive, repository?: string, tags?: string[], overrides?: readonly ImageOverride[]): Placement[] {
  const placements: Placement[] = [];
  const chosen = matchOverrides(resolved.images, overrides);
  const ordered = [...resolved.images].sort((a, b) => Number(!!a.subject) - Number(!!b.subject));
  const primaries = ordered.filter((i) => !i.subject && !chosen.get(i)?.tags?.length).length;
  if (tags?.length && primaries > 1 && !repository) {
    throw new BerthError('INVALID_INPUT', `The archive holds ${primaries} images; choosing tags applies to one. Choose a repository too, give each image its own (overrides, --map), or import without tags to keep the archive's names.`);
  }
  for (const image of ordered) {
    const names = image.names.map(splitImageName);
    const own = chosen.get(image);
    if (image.subject) {
      const owner = placements.find((p) => p.image.manifests.some((m) => m.digest === image.subject));
      const repo = own?.repository ?? repository ?? owner?.repository ?? names.find((n) => n.repository)?.repository;
      if (!repo) throw new BerthError('INVALID_INPUT', 'The archive holds a referrer whose subject is not in it; choose a repository.');
      placements.push({ image, repository: repo, tags: own?.tags ?? [] });
      continue;
    }
    const chosenRepo = own?.repository ?? repository;
    const repo = chosenRepo ?? names.find((n) => n.repository)?.repository;
    if (!repo) {
      throw new BerthError('INVALID_INPUT', `The archive's image ${image.root.digest.slice(0, 19)} has no repository name; choose a repository to import it into.`);
    }
    const archiveTags = names.filter((n) => n.tag && (!n.repository || n.repository === repo || chosenRepo)).map((n) => n.tag!);
    const wanted = own?.tags?.length ? own.tags : tags?.length ? tags : archiveTags.length ? [...new Set(archiveTags)] : ['latest'];
    validateTarget(repo, wanted);
    const p = { image, repository: repo, tags: wanted };
    placements.push(p);
  }
  // Two different images may not claim the same tag of one repository.
  const claims = new Map<string, string>();
  for (const p of placements) {
    for (const t of p.tags) {
      const key = `${p.repository}:${t}`;
      const other = claims.get(key);
      if (other && other !== p.image.root.digest) {
        throw new BerthError('INVALID_INPUT', `Two images in the archive would both be tagged ${key}; choose different tags or import them one at a time.`, { tag: key });
      }
      claims.set(key, p.image.root.digest);
    }
  }
  return placements;
}

/** What this import changed in the index, so a failure can undo it. */
interface Undo {
  links: Array<[string, string]>;
  manifests: Array<[string, string]>;
}

export async function importIntoRegistry(store: RegistryStore, file: string, options: RegistryImportOptions): Promise<ArchiveImportResult> {
  validateTarget(options.repository, options.tags);
  await store.open();
  await checkFreeSpace(store.root, file);
  // A push in flight from the first blob to the commit or rollback: `berth gc --grace 0` meanwhile must
  // not sweep blobs written but not linked yet, nor links not yet referenced by a manifest.
  const push = store.startPush();
  if (options.repository) push.into(options.repository);
  const sink = new RegistrySink(store, options, push);
  const undo: Undo = { links: [], manifests: [] };
  try {
    const contents = await scanArchive(file, sink, { signal: options.signal, onRead: (n) => options.progress?.read(n) });
    const resolved = await resolveArchive(contents, sink);
    const placements = placeImages(resolved, options.repository, options.tags, options.overrides);
    for (const p of placements) {
      push.into(p.repository);
      for (const m of p.image.manifests) push.hold(m.digest); // a built manifest may be stored already
    }
    options.signal?.throwIfAborted();
    for (const p of placements) {
      for (const digest of p.image.blobs) {
        if ((await store.blobInRepository(p.repository, digest)) === undefined) {
          await store.linkBlob(p.repository, digest);
          undo.links.push([p.repository, digest]);
        }
      }
      for (const m of p.image.manifests) {
        if (!store.manifestEntry(p.repository, m.digest)) {
          await store.putManifest(p.repository, m.digest, m.bytes, m.mediaType);
          undo.manifests.push([p.repository, m.digest]);
        }
      }
      options.signal?.throwIfAborted();
    }
    // The moment of truth: every tag of a repository moves in one journal record.
    const byRepo = new Map<string, Record<string, string>>();
    for (const p of placements) {
      const tags = byRepo.get(p.repository) ?? {};
      for (const t of p.tags) tags[t] = p.image.root.digest;
      byRepo.set(p.repository, tags);
    }
    for (const [repo, tags] of byRepo) await store.setTags(repo, tags);
    // Files in the archive that no image references (Docker 25+ keeps each layer's legacy v1 JSON in
    // blobs/) were stored on the way in; they go now rather than waiting for GC.
    const used = new Set<string>([...resolved.blobs.keys(), ...resolved.manifests.map((m) => m.digest)]);
    const strays = [...sink.created].filter(([digest]) => !used.has(digest));
    push.end(); // committed: the push is over (and its holds would keep the strays)
    if (strays.length) await store.discardBlobs(strays).catch(() => {});
    return {
      target: 'registry',
      images: placements.map((p) => ({ repository: p.repository, tags: p.tags, digest: p.image.root.digest })),
      written: sink.written,
      skipped: sink.skipped,
    };
  } catch (err) {
    push.end(); // before the rollback: its own holds would keep the blobs it is about to discard
    await rollback(store, undo, sink.created).catch(() => {});
    throw err;
  }
}

async function rollback(store: RegistryStore, undo: Undo, created: Map<string, number>): Promise<void> {
  // Parents before children: an index goes before the manifests it names.
  for (const [repo, digest] of undo.manifests.reverse()) await store.deleteManifest(repo, digest).catch(() => {});
  for (const [repo, digest] of undo.links) await store.unlinkBlob(repo, digest).catch(() => {});
  // Blob files this import created go at once (not at the next GC), unless something now references
  // them or a concurrent push touched them after we wrote them — the store makes the same checks as GC.
  await store.discardBlobs(created);
}

