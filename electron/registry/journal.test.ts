import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Journal } from './journal';
import { isIndexRecord, type IndexRecord } from './repository-index';

/**
 * Disk faults on demand: the next `times` calls of one step fail with EIO. Compaction's steps are the
 * temp file's open, write and fsync, the rename, and the directory fsync after it.
 */
const fault = vi.hoisted(() => ({ step: undefined as undefined | 'open' | 'write' | 'sync' | 'rename' | 'fsyncDir', times: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const trip = (step: typeof fault.step) => {
    if (fault.step !== step || fault.times <= 0) return;
    if (--fault.times === 0) fault.step = undefined;
    throw Object.assign(new Error(`injected ${step} failure`), { code: 'EIO' });
  };
  const open = async (...args: Parameters<typeof fs.open>) => {
    const path = String(args[0]);
    const temp = path.endsWith('.compact.tmp');
    if (temp) trip('open');
    const fh = await fs.open(...args);
    const dir = !temp && (await fh.stat()).isDirectory();
    if (!temp && !dir) return fh;
    return new Proxy(fh, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== 'function') return value;
        const step = dir ? (key === 'sync' ? 'fsyncDir' : undefined) : key === 'write' || key === 'writev' ? 'write' : key === 'sync' ? 'sync' : undefined;
        return (...a: unknown[]) => {
          if (step) trip(step);
          return (value as (...x: unknown[]) => unknown).apply(target, a);
        };
      },
    });
  };
  const rename = async (...args: Parameters<typeof fs.rename>) => {
    trip('rename');
    return fs.rename(...args);
  };
  return { ...fs, open, rename, default: { ...fs, open, rename } };
});

const dirs: string[] = [];
afterEach(async () => {
  fault.step = undefined;
  fault.times = 0;
  while (dirs.length) await rm(dirs.pop()!, { recursive: true, force: true });
});

async function journalIn(): Promise<Journal<IndexRecord>> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-journal-'));
  dirs.push(dir);
  return new Journal<IndexRecord>(join(dir, 'index.jsonl'), isIndexRecord);
}

const link = (n: number): IndexRecord => ({ op: 'link', repo: `r${n}`, digest: `sha256:${String(n).padStart(64, '0')}`, size: n, at: n });

async function records(file: string): Promise<IndexRecord[]> {
  return (await new Journal<IndexRecord>(file, isIndexRecord).replay()).records;
}

describe('compaction that fails', () => {
  for (const step of ['open', 'write', 'sync', 'rename'] as const) {
    it(`at the temp file's ${step}: the old journal stays open and whole, later appends land in it`, async () => {
      const j = await journalIn();
      await j.openForAppend(0);
      for (const n of [1, 2, 3]) await j.append(link(n));
      fault.step = step;
      fault.times = 1;
      await expect(j.rewrite([link(1), link(3)])).rejects.toThrow(`injected ${step} failure`);
      await j.append(link(4));
      await j.close();
      expect(await records(j.file)).toEqual([link(1), link(2), link(3), link(4)]);
      expect(await readdir(join(j.file, '..'))).toEqual(['index.jsonl']);
    });
  }

  it('at the directory fsync after the rename: the snapshot is the journal, and no append is acknowledged until the rename is durable', async () => {
    const j = await journalIn();
    await j.openForAppend(0);
    for (const n of [1, 2, 3]) await j.append(link(n));
    fault.step = 'fsyncDir';
    fault.times = 2; // the compaction's own, then the retry by the first append
    await expect(j.rewrite([link(1), link(3)])).rejects.toThrow('injected fsyncDir failure');
    await expect(j.append(link(4))).rejects.toThrow('injected fsyncDir failure');
    await j.append(link(5)); // the directory syncs now, then the record goes in
    await j.close();
    expect(await records(j.file)).toEqual([link(1), link(3), link(5)]);
  });

  it('a compaction that works leaves the snapshot open for appends', async () => {
    const j = await journalIn();
    await j.openForAppend(0);
    for (const n of [1, 2, 3]) await j.append(link(n));
    await j.rewrite([link(3)]);
    await j.append(link(4));
    await j.close();
    expect(await records(j.file)).toEqual([link(3), link(4)]);
    expect(await readdir(join(j.file, '..'))).toEqual(['index.jsonl']);
  });
});

describe('replay', () => {
  const line = (r: unknown) => JSON.stringify(r) + '\n';

  it('a torn last line (crash during an append) is ignored, cut off, and is not damage', async () => {
    const j = await journalIn();
    await writeFile(j.file, line(link(1)) + line(link(2)) + '{"op":"link","re');
    const replay = await j.replay();
    expect(replay).toMatchObject({ records: [link(1), link(2)], tornLines: 1, damagedLines: [] });
    await j.openForAppend(replay.validBytes);
    await j.append(link(3));
    await j.close();
    expect(await records(j.file)).toEqual([link(1), link(2), link(3)]);
  });

  it('a damaged line with good records after it is damage: reported by line number, the good records kept', async () => {
    const j = await journalIn();
    const bad = ['{"op":"link","repo":"x"\n', 'null\n', '{"op":"bogus","repo":"r"}\n', '\0\0\0\0\n'];
    await writeFile(j.file, line(link(1)) + bad[0] + line(link(2)) + bad[1] + bad[2] + '\n' + bad[3] + line(link(3)) + '\0\0\0\n');
    const replay = await j.replay();
    expect(replay.records).toEqual([link(1), link(2), link(3)]);
    expect(replay.damagedLines).toEqual([2, 4, 5, 7]); // line 6 is blank: not damage
    expect(replay.tornLines).toBe(1); // the zeros after the last record: a torn append
  });

  it('keepDamagedCopy keeps the journal byte for byte beside it; damagedCopies lists it', async () => {
    const j = await journalIn();
    const text = line(link(1)) + 'garbage\n' + line(link(2));
    await writeFile(j.file, text);
    const copy = await j.keepDamagedCopy(new Date('2026-01-02T03:04:05.678Z'));
    expect(copy).toBe(`${j.file}.damaged-2026-01-02T03-04-05-678Z`);
    expect(await readFile(copy, 'utf8')).toBe(text);
    expect(await j.damagedCopies()).toEqual([copy]);
  });
});
