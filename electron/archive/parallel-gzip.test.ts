import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gzipMember, ParallelGzip, storedGzipMember } from './parallel-gzip';

async function compress(input: Buffer[], segment: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const gz = new ParallelGzip({ segment, parallel: 3 });
  gz.on('data', (c: Buffer) => out.push(c));
  await pipeline(Readable.from(input), gz);
  return Buffer.concat(out);
}

describe('ParallelGzip', () => {
  it('emits gzip members in order that decompress to the input, in one stream', async () => {
    const parts = Array.from({ length: 23 }, (_, i) => (i % 3 === 0 ? Buffer.alloc(70_000, i) : randomBytes(50_000 + i)));
    const gz = await compress(parts, 100_000);
    expect(gunzipSync(gz).equals(Buffer.concat(parts))).toBe(true);
    // Node's streaming gunzip reads every member too, as docker and containerd do.
    const out: Buffer[] = [];
    const gunzip = createGunzip();
    gunzip.on('data', (c: Buffer) => out.push(c));
    await pipeline(Readable.from([gz]), gunzip);
    expect(Buffer.concat(out).equals(Buffer.concat(parts))).toBe(true);
  });

  it('turns empty input into a valid empty gzip stream', async () => {
    const gz = await compress([], 1024);
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(gz).length).toBe(0);
  });

  it('stores segments that do not compress and compresses those that do, one valid stream either way', async () => {
    const random = randomBytes(3 << 20);
    const text = Buffer.from('layer content that repeats itself, as text and binaries do. '.repeat(60_000));
    const input = [random, text];
    const out: Buffer[] = [];
    const gz = new ParallelGzip({ segment: 1 << 20, parallel: 2 });
    gz.on('data', (c: Buffer) => out.push(c));
    await pipeline(Readable.from(input), gz);
    const whole = Buffer.concat(out);
    expect(gunzipSync(whole).equals(Buffer.concat(input))).toBe(true);
    // Stored: 3 MiB of random bytes cost 5 bytes per 64 KiB block plus the members' headers, nothing more.
    const storedOverhead = 3 * 16 * 5 + 3 * 18 + 64;
    expect(whole.length).toBeLessThan(random.length + text.length / 20 + storedOverhead);
    expect(whole.length).toBeGreaterThan(random.length);
  });

  it('gzipMember: stored when incompressible, deflated when it shrinks', async () => {
    // The deflate block type sits in bits 1-2 of the first byte after the 10-byte gzip header: 0 = stored.
    const blockType = (member: Buffer) => (member[10] >> 1) & 3;
    const random = randomBytes(256 << 10);
    const stored = Buffer.concat(await gzipMember(random, 1));
    expect(blockType(stored)).toBe(0);
    expect(gunzipSync(stored).equals(random)).toBe(true);
    const text = Buffer.from('0123456789abcdef'.repeat(16 << 10));
    const deflated = Buffer.concat(await gzipMember(text, 1));
    expect(blockType(deflated)).not.toBe(0);
    expect(deflated.length).toBeLessThan(text.length / 20);
    expect(gunzipSync(deflated).equals(text)).toBe(true);
  });

  it('storedGzipMember: a valid gzip member for any size, block boundaries included', () => {
    for (const size of [0, 1, 65_534, 65_535, 65_536, 3 * 65_535, 200_001]) {
      const data = randomBytes(size);
      const member = Buffer.concat(storedGzipMember(data));
      expect(gunzipSync(member).equals(data), `size ${size}`).toBe(true);
      expect(member.length).toBe(10 + 8 + 5 * Math.max(1, Math.ceil(size / 65_535)) + size);
    }
    // A damaged byte is caught by the CRC-32 in the trailer.
    const member = Buffer.concat(storedGzipMember(randomBytes(1000)));
    member[100] ^= 1;
    expect(() => gunzipSync(member)).toThrow();
  });
});
