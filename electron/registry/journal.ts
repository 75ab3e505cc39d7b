/**
 * The index's durable form: an append-only journal of JSON lines. Each append is one write + fsync, so a
 * record is either wholly on disk or (torn by a crash mid-write) ignored on replay. The whole index lives
 * in memory; the journal is replayed on open and compacted (rewritten as a snapshot, atomically) when it
 * has grown well past the live state. Names never become paths: they are only ever values in records.
 */
import { copyFile, open, readFile, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDir, publishFile } from '../app/atomic';
import { writeWhole } from './write-all';

const DAMAGED_COPY = '.damaged-';

export interface ReplayResult<R> {
  records: R[];
  /**
   * Unreadable lines after the last good record: an append torn by a crash. Normal, and harmless — a
   * torn append was never acknowledged to anyone. They are cut off when the journal opens for appending.
   */
  tornLines: number;
  /**
   * 1-based numbers of unreadable lines with good records after them. A crash cannot do that (appends are
   * sequential and each is fsynced before the next): it is damage — the disk, or a hand edit — and the
   * records on those lines are lost. The caller keeps a copy of the journal and says so.
   */
  damagedLines: number[];
  /** Byte length up to the end of the last good record (what openForAppend keeps). */
  validBytes: number;
}

/** Line numbers for a message: the first ten, then "…" (a badly damaged journal has thousands). */
export function listLines(lines: readonly number[]): string {
  return `${lines.slice(0, 10).join(', ')}${lines.length > 10 ? ', …' : ''}`;
}

export class Journal<R> {
  private fh?: FileHandle;
  private size = 0;
  /** A compaction renamed the snapshot into place but could not fsync the directory: do it before the next append. */
  private dirUnsynced = false;

  /** `isRecord` tells a record from a line that parses as JSON but is not one (damage that looks like JSON). */
  constructor(
    readonly file: string,
    private readonly isRecord: (value: unknown) => value is R = (v): v is R => typeof v === 'object' && v !== null,
  ) {}

  /** Reads every record, telling a torn tail (normal after a crash) from damage in the middle (not normal). */
  async replay(): Promise<ReplayResult<R>> {
    const records: R[] = [];
    const damagedLines: number[] = [];
    let raw: Buffer;
    try {
      // The index is small next to the blobs (a few hundred bytes per tag), and compaction keeps it so.
      raw = await readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records, tornLines: 0, damagedLines, validBytes: 0 };
      throw err;
    }
    let unreadable: number[] = []; // since the last good record
    let validBytes = 0;
    let line = 0;
    for (let start = 0; start < raw.length; ) {
      line++;
      const nl = raw.indexOf(0x0a, start);
      if (nl === -1) {
        unreadable.push(line); // no newline: the write of the last record was cut off
        break;
      }
      const text = raw.toString('utf8', start, nl);
      start = nl + 1;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      if (value === undefined || !this.isRecord(value)) {
        unreadable.push(line);
        continue;
      }
      records.push(value);
      damagedLines.push(...unreadable); // a good record after bad lines: those were not a torn append
      unreadable = [];
      validBytes = start;
    }
    return { records, tornLines: unreadable.length, damagedLines, validBytes };
  }

  /** Opens for appending, cutting off a torn tail first so the next record starts on its own line. */
  async openForAppend(validBytes: number): Promise<void> {
    await this.close();
    const fh = await open(this.file, 'a+', 0o600);
    try {
      const { size } = await fh.stat();
      if (size > validBytes) await fh.truncate(validBytes);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    this.fh = fh;
    this.size = validBytes;
  }

  /** Appends one record durably. Callers serialize appends (the store's mutation lock). */
  async append(record: R): Promise<void> {
    if (!this.fh) throw new Error('journal is not open');
    if (this.dirUnsynced) {
      // Until the compacted journal's name is durable, a crash could bring the old file back and lose
      // whatever we append to the new one: acknowledge nothing before that.
      await fsyncDir(dirname(this.file));
      this.dirUnsynced = false;
    }
    const line = Buffer.from(JSON.stringify(record) + '\n');
    try {
      // At an explicit offset: the handle may be a compacted snapshot, not opened in append mode.
      await writeWhole(this.fh, line, this.size); // a short write would glue a half record to the next one
      await this.fh.datasync();
    } catch (err) {
      // Disk full mid-line: cut the partial record off so the next append starts on a clean line.
      await this.fh.truncate(this.size).catch(() => undefined);
      throw err;
    }
    this.size += line.length;
  }

  get bytes(): number {
    return this.size;
  }

  /**
   * Replaces the journal with `records` (a snapshot of the live state), atomically. The snapshot is
   * written and fsynced under a temp name, renamed over the journal, and the handle it was written
   * through becomes the append handle. Until the rename succeeds the old journal stays open and in
   * use, so a failure at any step (open, write, fsync, rename) leaves the journal as it was: every
   * record kept, appends working. A failed directory fsync after the rename is retried by the next
   * append (see dirUnsynced).
   */
  async rewrite(records: Iterable<R>): Promise<void> {
    const tmp = `${this.file}.compact.tmp`;
    let out: FileHandle | undefined;
    let size = 0;
    try {
      out = await open(tmp, 'w+', 0o600);
      let batch: string[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const buf = Buffer.from(batch.join(''));
        await writeWhole(out!, buf, size);
        size += buf.length;
        batch = [];
      };
      for (const r of records) {
        batch.push(JSON.stringify(r) + '\n');
        if (batch.length >= 1000) await flush();
      }
      await flush();
      await out.sync();
      await rename(tmp, this.file);
    } catch (err) {
      await out?.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    const old = this.fh;
    this.fh = out;
    this.size = size;
    await old?.close().catch(() => undefined); // its file is unlinked now; nothing more goes there
    this.dirUnsynced = true;
    await fsyncDir(dirname(this.file));
    this.dirUnsynced = false;
  }

  /**
   * Keeps the journal as it is now beside it, as `<file>.damaged-<time>`, written atomically (before
   * compaction drops its damaged lines for good). Returns the copy's path.
   */
  async keepDamagedCopy(at = new Date()): Promise<string> {
    const copy = `${this.file}${DAMAGED_COPY}${at.toISOString().replace(/[:.]/g, '-')}`;
    const tmp = `${copy}.tmp`;
    try {
      await copyFile(this.file, tmp);
      await publishFile(tmp, copy);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    return copy;
  }

  /** Copies kept by keepDamagedCopy, oldest first (fsck reports them until the user removes them). */
  async damagedCopies(): Promise<string[]> {
    const dir = dirname(this.file);
    const prefix = `${basename(this.file)}${DAMAGED_COPY}`;
    const names = await readdir(dir).catch(() => [] as string[]);
    return names.filter((n) => n.startsWith(prefix) && !n.endsWith('.tmp')).sort().map((n) => join(dir, n));
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}
