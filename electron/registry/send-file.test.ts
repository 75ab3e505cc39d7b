import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFileRange } from './send-file';

// More chunks than the ring has buffers (every buffer is reused), and more than loopback socket buffers
// hold, so a client that hangs up really does so mid-body.
const data = randomBytes(24 * 1024 * 1024 + 12345);
let dir: string;
let server: Server;
let base: string;
const outcomes: Array<'ok' | 'error'> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-send-file-'));
  const file = join(dir, 'blob');
  await writeFile(file, data);
  server = createServer(async (req, res) => {
    const [start, end] = (req.url ?? '').slice(1).split('-').map(Number);
    const fh = await open(file, 'r');
    res.setHeader('Content-Length', end - start + 1);
    try {
      await sendFileRange(fh, start, end, res);
      outcomes.push('ok');
    } catch {
      outcomes.push('error');
      res.destroy();
    } finally {
      await fh.close();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function fetchBytes(path: string): Promise<Buffer> {
  const res = await fetch(base + path);
  return Buffer.from(await res.arrayBuffer());
}

describe('sendFileRange', () => {
  it('sends the whole file byte for byte through the reused buffers', async () => {
    const got = await fetchBytes(`/0-${data.length - 1}`);
    expect(got.length).toBe(data.length);
    expect(sha(got)).toBe(sha(data));
  });

  it('sends an inner range that crosses chunk boundaries', async () => {
    const start = 1_000_000;
    const end = 2_600_000;
    expect(sha(await fetchBytes(`/${start}-${end}`))).toBe(sha(data.subarray(start, end + 1)));
  });

  it('stops with an error (no hang) when the client hangs up mid-body', async () => {
    const before = outcomes.length;
    await new Promise<void>((resolve) => {
      const req = get(`${base}/0-${data.length - 1}`, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
    });
    await expect.poll(() => outcomes.length, { timeout: 5000 }).toBe(before + 1);
    expect(outcomes.at(-1)).toBe('error');
  });

  it('serves many concurrent and small ranges correctly with buffers reused between responses', async () => {
    // Buffers go back to a shared pool: a stale or shared buffer would show as wrong bytes here.
    const ranges: Array<[number, number]> = [];
    for (let i = 0; i < 12; i++) {
      const start = (i * 997_331) % (data.length - 3_000_000);
      ranges.push(i % 3 === 0 ? [start, start + 2047] : [start, start + 1_500_000 + i]);
    }
    for (let round = 0; round < 2; round++) {
      const got = await Promise.all(ranges.map(([s, e]) => fetchBytes(`/${s}-${e}`)));
      got.forEach((g, i) => expect(sha(g)).toBe(sha(data.subarray(ranges[i]![0], ranges[i]![1] + 1))));
    }
  }, 30_000);
});
