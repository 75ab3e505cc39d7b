/**
 * Upload sessions: a blob arriving in one or more requests (POST, PATCH…, PUT). Each session is a data
 * file `uploads/<uuid>` plus `uploads/<uuid>.json` naming its repository, on the blobs' filesystem so the
 * final move is a rename. The running hash lives in memory and is updated only after bytes reach the
 * file, so a dropped connection leaves a session whose offset and hash agree: the client can resume.
 * After a restart the hash is rebuilt by re-reading the partial file. Requests on one session are
 * serialized; abandoned sessions expire.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDigest } from '../../shared/digest';
import { writeFileAtomic } from '../app/atomic';
import { READ_CHUNK, openBlobWriter, pump, type BlobSource, type BlobFiles, type BlobWriter } from './blobs';
import { RegistryError, describeIoError } from './errors';
import { Mutex } from './mutex';

const sessionIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const DEFAULT_UPLOAD_EXPIRY_MS = 24 * 60 * 60 * 1000;

interface Session {
  id: string;
  repo: string;
  startedAt: number;
  lastActivity: number;
  offset: number;
  hash: Hash;
  /** Serializes requests on this session. */
  lock: Mutex;
  /** Requests running or waiting on this session: the expiry sweep leaves a busy session alone. */
  busy: number;
}

export interface AppendOptions {
  /** From Content-Range: the chunk must start at the session's current offset. */
  range?: { start: number; end: number };
  /** From Content-Length: the bytes the client promised; a difference is SIZE_INVALID. */
  length?: number;
  signal?: AbortSignal;
}

/** `Content-Range: 0-1023` (OCI), also `bytes 0-1023/*` (RFC 9110 style some clients send). */
export function parseContentRange(value: string): { start: number; end: number } | undefined {
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(value.trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  return { start, end };
}

/**
 * The bytes received must be the bytes promised. What did arrive stays in the session (offset and hash
 * agree), so the client can ask for the status and resume.
 */
function checkLength(written: number, opts: AppendOptions, offset: number): void {
  for (const promised of [opts.length, opts.range ? opts.range.end - opts.range.start + 1 : undefined]) {
    if (promised !== undefined && written !== promised) {
      throw new RegistryError('SIZE_INVALID', `Received ${written} bytes but ${promised} were declared; the upload now has ${offset} bytes — resume from there.`, { received: written, declared: promised, offset });
    }
  }
}

export class UploadSessions {
  readonly dir: string;
  private sessions = new Map<string, Session>();

  constructor(
    root: string,
    private readonly blobs: BlobFiles,
  ) {
    this.dir = join(root, 'uploads');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  private dataPath(id: string): string {
    return join(this.dir, id);
  }

  async start(repo: string): Promise<{ id: string; offset: number }> {
    const id = randomUUID();
    const now = Date.now();
    // Live in memory before its files exist, so an expiry sweep running meanwhile leaves them alone.
    const s: Session = { id, repo, startedAt: now, lastActivity: now, offset: 0, hash: createHash('sha256'), lock: new Mutex(), busy: 0 };
    this.sessions.set(id, s);
    try {
      await this.exclusive(s, async () => {
        await writeFileAtomic(`${this.dataPath(id)}.json`, JSON.stringify({ repo, startedAt: now }));
        await (await open(this.dataPath(id), 'w', 0o644)).close();
      });
    } catch (err) {
      await this.discard(s);
      throw describeIoError(err, 'start the upload');
    }
    return { id, offset: 0 };
  }

  /** Sessions known in memory (started, or resumed after a restart) and not yet finished or expired. */
  get openSessions(): number {
    return this.sessions.size;
  }

  /** Finds a session of this repository; unknown, malformed, foreign or expired ids are all 404. */
  private async session(repo: string, id: string): Promise<Session> {
    const unknown = () => new RegistryError('BLOB_UPLOAD_UNKNOWN', `No upload session ${id.slice(0, 64)} in repository ${repo}; start a new upload.`);
    if (!sessionIdPattern.test(id)) throw unknown();
    let s = this.sessions.get(id);
    if (!s) s = await this.load(id);
    if (!s || s.repo !== repo) throw unknown();
    return s;
  }

  /** A session from before a restart: read its repository and rebuild the hash from its data file. */
  private async load(id: string): Promise<Session | undefined> {
    let meta: { repo: string; startedAt: number };
    let size: number;
    try {
      meta = JSON.parse(await readFile(`${this.dataPath(id)}.json`, 'utf8')) as { repo: string; startedAt: number };
      size = (await stat(this.dataPath(id))).size;
    } catch {
      return undefined;
    }
    const existing = this.sessions.get(id);
    if (existing) return existing;
    const hash = createHash('sha256');
    // An empty session (POST, then a restart) has nothing to re-hash; createReadStream refuses end = -1.
    if (size > 0) {
      for await (const chunk of createReadStream(this.dataPath(id), { highWaterMark: READ_CHUNK, end: size - 1 })) hash.update(chunk as Buffer);
    }
    const again = this.sessions.get(id); // another request may have loaded it while we read
    if (again) return again;
    const s: Session = { id, repo: meta.repo, startedAt: meta.startedAt, lastActivity: Date.now(), offset: size, hash, lock: new Mutex(), busy: 0 };
    this.sessions.set(id, s);
    return s;
  }

  private async exclusive<T>(s: Session, fn: () => Promise<T>): Promise<T> {
    s.busy++;
    try {
      return await s.lock.run(fn);
    } finally {
      s.busy--;
      s.lastActivity = Date.now();
    }
  }

  /** Bytes received so far (GET on the session, and the Range header of every answer). */
  async status(repo: string, id: string): Promise<{ offset: number }> {
    const s = await this.session(repo, id);
    return { offset: s.offset };
  }

  /** Appends a request body to the session. */
  async append(repo: string, id: string, source: BlobSource, opts: AppendOptions = {}): Promise<{ offset: number }> {
    const s = await this.session(repo, id);
    return this.exclusive(s, async () => {
      if (!this.sessions.has(id)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `Upload session ${id} has ended.`);
      if (opts.range && opts.range.start !== s.offset) {
        throw new RegistryError('RANGE_INVALID', `The chunk starts at byte ${opts.range.start} but the upload has ${s.offset} bytes; send the chunk that starts at ${s.offset}.`, { offset: s.offset });
      }
      const written = await this.write(s, source, opts);
      checkLength(written, opts, s.offset);
      return { offset: s.offset };
    });
  }

  /** Runs inside exclusive(), which stamps the session's lastActivity when the request ends. */
  private async write(s: Session, source: BlobSource, opts: AppendOptions): Promise<number> {
    const before = s.offset;
    let fh: FileHandle | undefined;
    let writer: BlobWriter | undefined;
    try {
      fh = await open(this.dataPath(s.id), 'r+');
      writer = await openBlobWriter(this.dataPath(s.id), fh, s.hash, s.offset, { expectedSize: opts.length });
      try {
        await pump(source, writer, opts.signal);
      } finally {
        await writer.settled();
      }
    } catch (err) {
      if (!writer || writer.failed) {
        // Our own disk failed: the hash may have seen bytes the file does not hold. The session cannot
        // be trusted any more; remove it and its data.
        await fh?.close().catch(() => undefined);
        fh = undefined;
        await this.discard(s);
        throw describeIoError(err, 'store the upload');
      }
      // The client broke off: file and hash agree on what did arrive, so the session stays resumable.
      throw err;
    } finally {
      if (writer && !writer.failed) s.offset = writer.position;
      await fh?.close().catch(() => undefined);
    }
    return s.offset - before;
  }

  /**
   * Finishes the upload: appends the last body (if any), checks the digest, and moves the data into the
   * blob store. On a digest mismatch the session and its data are removed, as the spec asks.
   */
  async complete(repo: string, id: string, digest: string, source?: BlobSource, opts: AppendOptions = {}): Promise<{ digest: string; size: number; created: boolean }> {
    const parsed = parseDigest(digest);
    if (!parsed) throw new RegistryError('DIGEST_INVALID', `Invalid digest "${digest}": expected sha256:<64 hex> or sha512:<128 hex>.`);
    const s = await this.session(repo, id);
    return this.exclusive(s, async () => {
      if (!this.sessions.has(id)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `Upload session ${id} has ended.`);
      if (opts.range && opts.range.start !== s.offset) {
        throw new RegistryError('RANGE_INVALID', `The chunk starts at byte ${opts.range.start} but the upload has ${s.offset} bytes.`, { offset: s.offset });
      }
      if (source) checkLength(await this.write(s, source, opts), opts, s.offset);
      let actual: string;
      if (parsed.algorithm === 'sha256') actual = `sha256:${s.hash.copy().digest('hex')}`;
      else {
        const h = createHash(parsed.algorithm);
        for await (const chunk of createReadStream(this.dataPath(id), { highWaterMark: READ_CHUNK })) h.update(chunk as Buffer);
        actual = `${parsed.algorithm}:${h.digest('hex')}`;
      }
      if (actual !== digest) {
        await this.discard(s);
        throw new RegistryError('DIGEST_INVALID', `The uploaded content does not match its digest: expected ${digest}, got ${actual}. The upload was discarded; push again.`, { expected: digest, actual });
      }
      const size = s.offset;
      let created: boolean;
      try {
        const fh = await open(this.dataPath(id), 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        created = await this.blobs.commit(this.dataPath(id), digest);
      } catch (err) {
        await this.discard(s);
        throw err instanceof RegistryError ? err : describeIoError(err, 'commit the upload');
      }
      this.sessions.delete(id);
      await rm(`${this.dataPath(id)}.json`, { force: true });
      return { digest, size, created };
    });
  }

  async cancel(repo: string, id: string): Promise<void> {
    const s = await this.session(repo, id);
    await this.exclusive(s, () => this.discard(s));
  }

  private async discard(s: Session): Promise<void> {
    this.sessions.delete(s.id);
    await this.removeFiles(s.id);
  }

  private async removeFiles(id: string): Promise<void> {
    await rm(this.dataPath(id), { force: true });
    await rm(`${this.dataPath(id)}.json`, { force: true });
  }

  /**
   * Removes sessions idle for longer than maxAgeMs: those in memory (their map entry goes too, even when
   * their files went some other way) and those on disk from before a restart. Nothing being written
   * right now is touched: a session with a request running is skipped, and a file on disk that no live
   * session owns is judged by its own age (a session being started has its files appear one by one).
   */
  async expire(maxAgeMs: number, now = Date.now()): Promise<{ count: number; bytes: number }> {
    let count = 0;
    let bytes = 0;
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const onDisk = names.map((n) => n.replace(/\.json$/, '')).filter((n) => sessionIdPattern.test(n));
    for (const id of new Set([...this.sessions.keys(), ...onDisk])) {
      const live = this.sessions.get(id);
      if (live) {
        if (live.busy > 0 || now - live.lastActivity < maxAgeMs) continue;
        const size = live.offset;
        // A request may have queued on the session since the check: nothing runs before this discard, and
        // a request that comes after it finds the session gone (404) — it had been idle for maxAgeMs.
        const removed = await this.exclusive(live, async () => {
          if (this.sessions.get(id) !== live) return false;
          await this.discard(live);
          return true;
        });
        if (!removed) continue;
        count++;
        bytes += size;
        continue;
      }
      const files = await Promise.all([stat(this.dataPath(id)).catch(() => undefined), stat(`${this.dataPath(id)}.json`).catch(() => undefined)]);
      const present = files.filter((f) => f !== undefined);
      if (present.length === 0) continue; // gone meanwhile
      if (now - Math.max(...present.map((f) => f.mtimeMs)) < maxAgeMs) continue;
      if (this.sessions.has(id)) continue; // loaded by a request while we looked
      await this.removeFiles(id);
      count++;
      bytes += files[0]?.size ?? 0;
    }
    // Debris from an interrupted atomic write of session metadata — once old: a young one is being written.
    for (const n of names) {
      if (!n.endsWith('.tmp')) continue;
      const st = await stat(join(this.dir, n)).catch(() => undefined);
      if (st && now - st.mtimeMs >= maxAgeMs) await rm(join(this.dir, n), { force: true });
    }
    return { count, bytes };
  }

  /** Bytes held by unfinished uploads (usage). */
  async bytes(): Promise<number> {
    let total = 0;
    for (const n of await readdir(this.dir).catch(() => [] as string[])) {
      if (!sessionIdPattern.test(n)) continue;
      total += (await stat(join(this.dir, n)).catch(() => ({ size: 0 }))).size;
    }
    return total;
  }

  /** Forget in-memory state (store close); files stay for resumption after the next open. */
  clear(): void {
    this.sessions.clear();
  }
}
