/**
 * GET /api/exports/<id> on a real bridge server: the export's id is the credential (no token in the URL, so
 * none in the browser's download history), the archive streams byte for byte with its length and file name,
 * anything that is not a prepared export's id is a 404, and every other route still wants the token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreparedExport } from '../../shared/api/archive';
import { EventBus } from '../app/events';
import { newToken } from '../server/auth';
import { startBridgeServer, type RunningServer } from '../server/server';
import { JobManager } from '../transfers/jobs';
import { ExportCache, exportsDir, newExportId } from './exports';
import { writeStreamAtomic } from './writer';

const dataDir = mkdtempSync(join(tmpdir(), 'berth-exports-route-'));
const events = new EventBus();
const jobs = new JobManager(events);
const token = newToken();
const content = randomBytes(3 * 1024 * 1024 + 17);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let server: RunningServer;
let cache: ExportCache;
let prepared: PreparedExport;

beforeAll(async () => {
  // The cache with the export job's own atomic writer; the bytes are what an engine's docker save would stream.
  cache = new ExportCache({
    dataDir,
    jobs,
    archive: { writeExport: async (req, ctx) => ({ size: await writeStreamAtomic(req.path, Readable.from([content]), { signal: ctx.signal }), format: 'docker' }) },
  });
  cache.start();
  const job = cache.prepare({ from: 'engine', images: ['berth-test-app:v1'], format: 'docker' });
  prepared = (await jobs.wait(job.id)).result as PreparedExport;
  server = await startBridgeServer({
    target: { dispatch: async () => ({ ok: true, result: null }), subscribe: (l) => events.subscribe(l), dataDir },
    token,
    host: '127.0.0.1',
    port: 0,
  });
});

afterAll(async () => {
  await server.close();
  cache.close();
  await jobs.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function get(path: string, opts: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request(`${server.address}${path}`, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /api/exports/<id>', () => {
  it('needs no token (the id is the credential), while the rest of the API still refuses without one', async () => {
    const res = await get(`/api/exports/${prepared.id}`);
    expect(res.status).toBe(200);
    expect(sha(res.body)).toBe(sha(content));
    const call = await get('/api/events');
    expect(call.status).toBe(401);
    // A wrong token is no key either: the id decides.
    expect((await get(`/api/exports/${newExportId()}?token=${encodeURIComponent(token)}`)).status).toBe(404);
  });

  it('streams the archive with its length, type and file name', async () => {
    const res = await get(`/api/exports/${prepared.id}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-tar');
    expect(res.headers['content-length']).toBe(String(content.length));
    expect(res.headers['content-disposition']).toBe('attachment; filename="berth-test-app_v1.tar"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.length).toBe(content.length);
    expect(sha(res.body)).toBe(sha(content));
  });

  it('HEAD answers with the headers only', async () => {
    const res = await get(`/api/exports/${prepared.id}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(content.length));
    expect(res.body.length).toBe(0);
  });

  it('is a 404 for an unknown id, a path, traversal, and an archive still being written', async () => {
    const half = newExportId();
    mkdirSync(join(exportsDir(dataDir), half));
    writeFileSync(join(exportsDir(dataDir), half, '.app.tar.1234.tmp'), 'half');
    for (const id of [newExportId(), half, '..%2F..%2Fsecret', '%2e%2e', 'registry', `${prepared.id}%2F..`, `${prepared.id}/berth-test-app_v1.tar`, '']) {
      const res = await get(`/api/exports/${id}?token=${encodeURIComponent(token)}`);
      expect(res.status, id).toBe(404);
      expect(JSON.parse(res.body.toString()), id).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    }
  });

  it('is read-only: other methods are refused', async () => {
    const res = await get(`/api/exports/${prepared.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(405);
    expect((await get(`/api/exports/${prepared.id}?token=${encodeURIComponent(token)}`)).status).toBe(200);
  });

  it('refuses a request from another site even with the id (the bridge-wide Origin check)', async () => {
    const res = await get(`/api/exports/${prepared.id}`, { headers: { Origin: 'http://evil.example' } });
    expect(res.status).toBe(403);
  });
});
