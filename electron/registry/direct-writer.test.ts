import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALIGN, CACHED_HEAD, DirectFileWriter, directIoAvailable, openDirect, openDirectWriter, takeSlabs, type SlabSet } from './direct-writer';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-direct-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Writes `data` in pieces of `piece` bytes, either through write() or through accept(). */
async function writeThrough(path: string, data: Buffer, piece: number, how: 'write' | 'accept', slabs?: SlabSet, cachedHead = 0): Promise<{ writer: DirectFileWriter; file: Buffer }> {
  const fh = await open(path, 'w');
  const direct = await openDirect(path);
  const set = slabs ?? takeSlabs();
  if (!direct || !set) throw new Error('no direct I/O here');
  const writer = new DirectFileWriter(fh, direct, set, createHash('sha256'), 0, undefined, cachedHead);
  const pieces = Array.from({ length: Math.ceil(data.length / piece) }, (_, i) => data.subarray(i * piece, (i + 1) * piece));
  if (how === 'write') await pipeline(Readable.from(pieces), writer);
  else {
    for (const p of pieces) {
      if (!writer.accept(p)) await new Promise<void>((r) => (writer.onRoom = r));
    }
    await new Promise<void>((resolve, reject) => writer.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  await writer.flush();
  await fh.close();
  return { writer, file: await readFile(path) };
}

describe.skipIf(!directIoAvailable)('DirectFileWriter', () => {
  const sizes = [0, 1, ALIGN - 1, ALIGN, ALIGN + 1, (2 << 20) - 1, 2 << 20, (9 << 20) + 17];
  for (const how of ['write', 'accept'] as const) {
    it(`writes every byte, whole blocks direct and a partial tail through the page cache (${how})`, async () => {
      for (const size of sizes) {
        const data = randomBytes(size);
        const { writer, file } = await writeThrough(join(dir, `f-${how}-${size}`), data, 65_536 + 3, how);
        expect(file.length, `size ${size}`).toBe(size);
        expect(sha(file), `size ${size}`).toBe(sha(data));
        expect(writer.position).toBe(size);
        expect(writer.hash.digest('hex')).toBe(sha(data));
        expect(writer.directBytes, `size ${size}`).toBe(size - (size % ALIGN));
      }
    });
  }

  it('keeps the first bytes of a blob in the page cache (a pull right after the push reads memory), the rest direct', async () => {
    const data = randomBytes((6 << 20) + 100);
    const { writer, file } = await writeThrough(join(dir, 'head'), data, 65_536, 'accept', undefined, 4 << 20);
    expect(sha(file)).toBe(sha(data));
    // Bytes before 4 MiB through the cache; from 4 MiB on direct, but for the partial last block.
    expect(writer.directBytes).toBe(2 << 20);
  });

  it('falls back to ordinary writes when the kernel refuses a direct one (unaligned buffers → EINVAL)', async () => {
    // Slabs from Node's heap are not aligned: O_DIRECT writes fail with EINVAL, the writer goes on without it.
    const heap = Buffer.allocUnsafeSlow((4 << 20) * 2 + 16);
    const unaligned: SlabSet = { slabs: Array.from({ length: 4 }, (_, i) => heap.subarray(16 + i * (2 << 20), 16 + (i + 1) * (2 << 20))), release: () => undefined };
    const data = randomBytes((5 << 20) + 123);
    const { file, writer } = await writeThrough(join(dir, 'fallback'), data, 100_000, 'accept', unaligned);
    expect(sha(file)).toBe(sha(data));
    expect(writer.directBytes).toBe(0);
  });

  it('a source cut off mid-way leaves file and hash agreeing on every accepted byte (the upload can resume)', async () => {
    const path = join(dir, 'cut');
    const fh = await open(path, 'w');
    const writer = (await openDirectWriter(path, fh, createHash('sha256'), 0))!;
    expect(writer).toBeInstanceOf(DirectFileWriter);
    const data = randomBytes((3 << 20) + 5000);
    writer.accept(data.subarray(0, 1 << 20));
    writer.accept(data.subarray(1 << 20));
    writer.destroy(new Error('client went away'));
    writer.on('error', () => undefined);
    await writer.settled();
    await fh.close();
    const file = await readFile(path);
    expect(writer.failed).toBe(false);
    expect(writer.position).toBe(data.length);
    expect(sha(file)).toBe(sha(data));
  });

  it('a resumed upload at an unaligned offset, or a small blob, is not written direct', async () => {
    const path = join(dir, 'small');
    const fh = await open(path, 'w');
    expect(await openDirectWriter(path, fh, createHash('sha256'), 10)).toBeUndefined();
    expect(await openDirectWriter(path, fh, createHash('sha256'), 0, 1000)).toBeUndefined();
    expect(await openDirectWriter(path, fh, createHash('sha256'), 0, CACHED_HEAD)).toBeUndefined();
    await fh.close();
  });

  it('holds at most 8 slab sets; a ninth writer gets none (and writes the ordinary way)', () => {
    const sets = Array.from({ length: 9 }, () => takeSlabs());
    try {
      expect(sets.filter(Boolean)).toHaveLength(8);
      expect(sets[8]).toBeUndefined();
    } finally {
      for (const s of sets) s?.release();
    }
    const again = takeSlabs();
    expect(again).toBeDefined();
    again?.release();
  });
});
