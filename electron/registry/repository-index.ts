/**
 * The index: which repositories exist, their tags, manifests and blob links, and the referrers of each
 * subject. It lives wholly in memory (a catalog of 5,000 repositories or a tag list is a sorted array
 * read) and is made durable by the journal: every change is one record, applied here both live and on
 * replay, so the two can never disagree. Records are applied tolerantly (deleting what is gone is a
 * no-op) because replay after compaction may see a record whose effect is already in the snapshot.
 */

export interface ManifestEntry {
  digest: string;
  mediaType: string;
  size: number;
  /** Config and layer digests (image manifests). */
  blobs: string[];
  /** Child manifest digests (indexes). */
  manifests: string[];
  /** Platforms of an index's children, formatted `os/arch[/variant]`, in order. */
  platforms?: string[];
  subject?: string;
  artifactType?: string;
  /** Kept only for referrers (subject set): the referrers API returns them. */
  annotations?: Record<string, string>;
  /** ms since epoch when this repository first got the manifest. */
  createdAt: number;
}

export interface BlobLink {
  size: number;
  at: number;
}

export type IndexRecord =
  | { op: 'link'; repo: string; digest: string; size: number; at: number }
  | { op: 'unlink'; repo: string; digest: string }
  | { op: 'manifest'; repo: string; m: ManifestEntry; tags?: string[]; at: number }
  | { op: 'tags'; repo: string; tags: Record<string, string>; at: number }
  | { op: 'untag'; repo: string; tag: string; at: number }
  | { op: 'delete-manifest'; repo: string; digest: string; at: number }
  | { op: 'delete-repository'; repo: string }
  /** GC swept these blob files: drop every repository's link to them. */
  | { op: 'sweep'; digests: string[] };

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isStringMap = (v: unknown): v is Record<string, string> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isString);

function isManifestEntry(v: unknown): v is ManifestEntry {
  const m = v as Partial<ManifestEntry> | null;
  return typeof m === 'object' && m !== null && isString(m.digest) && isString(m.mediaType) && typeof m.size === 'number' && isStringList(m.blobs) && isStringList(m.manifests) && typeof m.createdAt === 'number';
}

/**
 * Is a parsed journal line a record this index can apply? A line that is JSON but not a record (damage
 * that happens to parse, a hand edit) must count as damaged, not crash the replay or invent a repository.
 */
export function isIndexRecord(v: unknown): v is IndexRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  if (r.op === 'sweep') return isStringList(r.digests);
  if (!isString(r.repo)) return false;
  switch (r.op) {
    case 'link':
      return isString(r.digest) && typeof r.size === 'number' && typeof r.at === 'number';
    case 'unlink':
      return isString(r.digest);
    case 'manifest':
      return isManifestEntry(r.m) && (r.tags === undefined || isStringList(r.tags)) && typeof r.at === 'number';
    case 'tags':
      return isStringMap(r.tags) && typeof r.at === 'number';
    case 'untag':
      return isString(r.tag) && typeof r.at === 'number';
    case 'delete-manifest':
      return isString(r.digest) && typeof r.at === 'number';
    case 'delete-repository':
      return true;
    default:
      return false;
  }
}

export class Repository {
  readonly tags = new Map<string, string>();
  readonly manifests = new Map<string, ManifestEntry>();
  readonly links = new Map<string, BlobLink>();
  /** subject digest → referrer manifest digests */
  readonly referrers = new Map<string, Set<string>>();
  updatedAt = 0;
  private sortedTags?: string[];

  constructor(readonly name: string) {}

  get empty(): boolean {
    return this.tags.size === 0 && this.manifests.size === 0 && this.links.size === 0;
  }

  tagList(): string[] {
    this.sortedTags ??= [...this.tags.keys()].sort(compareCodeUnits);
    return this.sortedTags;
  }

  setTag(tag: string, digest: string): void {
    if (!this.tags.has(tag)) this.sortedTags = undefined;
    this.tags.set(tag, digest);
  }

  removeTag(tag: string): void {
    if (this.tags.delete(tag)) this.sortedTags = undefined;
  }

  addManifest(m: ManifestEntry): void {
    const existing = this.manifests.get(m.digest);
    this.manifests.set(m.digest, existing ? { ...m, createdAt: existing.createdAt } : m);
    if (m.subject) {
      let set = this.referrers.get(m.subject);
      if (!set) this.referrers.set(m.subject, (set = new Set()));
      set.add(m.digest);
    }
  }

  removeManifest(digest: string): void {
    const m = this.manifests.get(digest);
    if (!m) return;
    this.manifests.delete(digest);
    if (m.subject) {
      const set = this.referrers.get(m.subject);
      set?.delete(digest);
      if (set && set.size === 0) this.referrers.delete(m.subject);
    }
    for (const [tag, d] of this.tags) if (d === digest) this.removeTag(tag);
  }

  /** Is this digest present here, as a linked blob or as a manifest? */
  has(digest: string): boolean {
    return this.links.has(digest) || this.manifests.has(digest);
  }
}

/** Byte order, as the spec's "lexical" order for tags and the catalog (not locale order). */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class RepositoryIndex {
  readonly repos = new Map<string, Repository>();
  /** Known sizes of blobs (from links and manifests), for usage figures without a stat per blob. */
  readonly sizes = new Map<string, number>();
  private sortedNames?: string[];

  get(name: string): Repository | undefined {
    return this.repos.get(name);
  }

  names(): string[] {
    this.sortedNames ??= [...this.repos.keys()].sort(compareCodeUnits);
    return this.sortedNames;
  }

  private repo(name: string): Repository {
    let r = this.repos.get(name);
    if (!r) {
      this.repos.set(name, (r = new Repository(name)));
      this.sortedNames = undefined;
    }
    return r;
  }

  private dropIfEmpty(r: Repository): void {
    if (r.empty && this.repos.delete(r.name)) this.sortedNames = undefined;
  }

  apply(rec: IndexRecord): void {
    switch (rec.op) {
      case 'link': {
        const r = this.repo(rec.repo);
        r.links.set(rec.digest, { size: rec.size, at: rec.at });
        this.sizes.set(rec.digest, rec.size);
        r.updatedAt = Math.max(r.updatedAt, rec.at);
        return;
      }
      case 'unlink': {
        const r = this.repos.get(rec.repo);
        if (!r) return;
        r.links.delete(rec.digest);
        this.dropIfEmpty(r);
        return;
      }
      case 'manifest': {
        const r = this.repo(rec.repo);
        r.addManifest(rec.m);
        this.sizes.set(rec.m.digest, rec.m.size);
        for (const t of rec.tags ?? []) r.setTag(t, rec.m.digest);
        r.updatedAt = Math.max(r.updatedAt, rec.at);
        return;
      }
      case 'tags': {
        const r = this.repo(rec.repo);
        for (const [t, d] of Object.entries(rec.tags)) r.setTag(t, d);
        r.updatedAt = Math.max(r.updatedAt, rec.at);
        return;
      }
      case 'untag': {
        const r = this.repos.get(rec.repo);
        if (!r) return;
        r.removeTag(rec.tag);
        r.updatedAt = Math.max(r.updatedAt, rec.at);
        this.dropIfEmpty(r);
        return;
      }
      case 'delete-manifest': {
        const r = this.repos.get(rec.repo);
        if (!r) return;
        r.removeManifest(rec.digest);
        r.updatedAt = Math.max(r.updatedAt, rec.at);
        this.dropIfEmpty(r);
        return;
      }
      case 'delete-repository': {
        if (this.repos.delete(rec.repo)) this.sortedNames = undefined;
        return;
      }
      case 'sweep': {
        const gone = new Set(rec.digests);
        for (const r of [...this.repos.values()]) {
          for (const d of gone) r.links.delete(d);
          this.dropIfEmpty(r);
        }
        for (const d of gone) this.sizes.delete(d);
        return;
      }
    }
  }

  /** The live state as records: what compaction writes. Replaying them rebuilds this index exactly. */
  *snapshot(): Generator<IndexRecord> {
    for (const r of this.repos.values()) {
      for (const [digest, l] of r.links) yield { op: 'link', repo: r.name, digest, size: l.size, at: l.at };
      for (const m of r.manifests.values()) yield { op: 'manifest', repo: r.name, m, at: m.createdAt };
      if (r.tags.size > 0) yield { op: 'tags', repo: r.name, tags: Object.fromEntries(r.tags), at: r.updatedAt };
    }
  }

  /** Every digest some manifest depends on (manifests themselves, their configs and layers). */
  referenced(): Set<string> {
    const set = new Set<string>();
    for (const r of this.repos.values()) {
      for (const m of r.manifests.values()) {
        set.add(m.digest);
        for (const b of m.blobs) set.add(b);
      }
    }
    return set;
  }
}
