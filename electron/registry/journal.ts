/**
 * The index's durable form: an append-only journal of JSON lines. Each append is one write + fsync, so a
 * record is either wholly on disk or (torn by a crash mid-write) ignored on replay. The whole index lives
 * in memory; the journal is replayed on open and compacted (rewritten as a snapshot, atomically) when it
 * has grown well past the live state. Names never become paths: they are only ever values in records.
 */
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '../app/atomic';
import { writeWhole } from './blobs';

export interface ReplayResult<R> {
  records: R[];
  /** Lines that could not be parsed: a torn last line after a crash, or damage elsewhere. */
  skipped: number;
  /** Byte length of the valid prefix (the file is truncated to it when the tail was torn). */
  validBytes: number;
}

export class Journal<R> {
  private fh?: FileHandle;
  private size = 0;

  constructor(readonly file: string) {}

  /** Reads every record. A last line without its newline is a torn append: it is dropped and cut off. */
  async replay(): Promise<ReplayResult<R>> {
    const records: R[] = [];
    let skipped = 0;
    let raw: Buffer;
    try {
      // The index is small next to the blobs (a few hundred bytes per tag), and compaction keeps it so.
      raw = await readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records, skipped, validBytes: 0 };
      throw err;
    }
    let start = 0;
    while (start < raw.length) {
      const nl = raw.indexOf(0x0a, start);
      if (nl === -1) {
        skipped++; // a torn append: never acknowledged to anyone, so dropping it loses nothing promised
        break;
      }
      const line = raw.toString('utf8', start, nl);
      start = nl + 1;
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line) as R);
      } catch {
        skipped++; // damage inside the file (not a crash pattern): skip the line, keep the rest
      }
    }
    return { records, skipped, validBytes: start };
  }

  /** Opens for appending, cutting off a torn tail first so the next record starts on its own line. */
  async openForAppend(validBytes: number): Promise<void> {
    this.fh = await open(this.file, 'a+', 0o600);
    const { size } = await this.fh.stat();
    if (size > validBytes) await this.fh.truncate(validBytes);
    this.size = validBytes;
  }

  /** Appends one record durably. Callers serialize appends (the store's mutation lock). */
  async append(record: R): Promise<void> {
    if (!this.fh) throw new Error('journal is not open');
    const line = Buffer.from(JSON.stringify(record) + '\n');
    try {
      await writeWhole(this.fh, line, null); // a short write would glue a half record to the next one
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

  /** Replaces the journal with `records` (a snapshot of the live state), atomically. */
  async rewrite(records: Iterable<R>): Promise<void> {
    const tmp = `${this.file}.compact.tmp`;
    const out = await open(tmp, 'w', 0o600);
    let size = 0;
    try {
      let batch: string[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const buf = Buffer.from(batch.join(''));
        await writeWhole(out, buf, null);
        size += buf.length;
        batch = [];
      };
      for (const r of records) {
        batch.push(JSON.stringify(r) + '\n');
        if (batch.length >= 1000) await flush();
      }
      await flush();
      await out.sync();
    } catch (err) {
      await out.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await out.close();
    await this.fh?.close();
    this.fh = undefined;
    await rename(tmp, this.file);
    await fsyncDir(dirname(this.file));
    await this.openForAppend(size);
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
  }
}

