import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ParallelGzip } from './parallel-gzip';

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
});
