/**
 * Exporting out of the window in a browser (`berth serve`): a tag of the embedded registry is prepared
 * (archive.prepareExport, progress in the row) and downloaded with the Download button — the file arrives
 * through the browser's own download and is a whole OCI archive of that tag (index.json + manifest.json,
 * the registry's digest). Dragging the ready link sets Chromium's DownloadURL to the bridge's download URL,
 * and a first drag of a tag not yet prepared prepares it without downloading. No engine needed: the tag is
 * imported from a generated docker-archive.
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import type { Page } from '@playwright/test';
import type { JobSnapshot } from '../../shared/jobs';
import { writeDockerArchive } from '../fixtures/archives';
import { expect, test, type BerthServer } from './fixtures';

test.describe.configure({ mode: 'serial' });

const repo = `berth-test-drag-${process.pid}`;
let dir: string;
let digest: string;

/** A call through the bridge, as the UI makes it. */
async function call<T>(berth: BerthServer, method: string, input: unknown): Promise<T> {
  const res = await fetch(`${berth.origin}/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${berth.token}`, 'content-type': 'application/json' }, body: JSON.stringify(input) });
  const env = (await res.json()) as { ok: boolean; result: T; error?: { message: string } };
  if (!env.ok) throw new Error(`${method}: ${env.error?.message}`);
  return env.result;
}

async function waitForJob(berth: BerthServer, id: string): Promise<JobSnapshot> {
  for (;;) {
    const job = await call<JobSnapshot>(berth, 'jobs.get', { id });
    if (job.state === 'done') return job;
    if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`job ${job.title}: ${job.state} ${job.error?.message ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The JSON files at the root of a tar, and how many entries it has (read streaming). */
async function tarIndex(path: string): Promise<{ json: Record<string, unknown>; entries: string[] }> {
  const json: Record<string, unknown> = {};
  const entries: string[] = [];
  const x = extract();
  x.on('entry', (header, stream, next) => {
    entries.push(header.name);
    const chunks: Buffer[] = [];
    stream.on('data', (c) => {
      if (header.name.endsWith('.json')) chunks.push(c as Buffer);
    });
    stream.on('end', () => {
      if (header.name.endsWith('.json') && !header.name.includes('/')) json[header.name] = JSON.parse(Buffer.concat(chunks).toString());
      next();
    });
    stream.resume();
  });
  await pipeline(createReadStream(path), x);
  return { json, entries };
}

const openRepository = async (app: Page) => {
  await app.keyboard.press('2');
  await app.getByRole('grid', { name: 'Repositories' }).getByRole('row').filter({ hasText: repo }).click();
  return app.getByRole('complementary', { name: `Repository ${repo}` });
};

test.beforeAll(async ({ berth }) => {
  expect(berth.registry, `the registry did not start:\n${berth.output()}`).toBeTruthy();
  dir = mkdtempSync(join(tmpdir(), 'berth-e2e-export-'));
  const archive = join(dir, 'in.tar');
  await writeDockerArchive(archive, [
    { tags: [`${repo}:v1`, `${repo}:v2`], layers: [[{ name: 'big.bin', size: 3_000_000, seed: 'drag' }], [{ name: 'note.txt', content: 'dragged out\n' }]] },
  ]);
  const job = await call<JobSnapshot>(berth, 'archive.import', { source: { path: archive }, target: 'registry', repository: repo, tags: ['v1', 'v2'] });
  digest = ((await waitForJob(berth, job.id)).result as { images: Array<{ digest: string }> }).images[0].digest;
});

test.afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('Download prepares the tag as an archive and the browser receives it: a whole OCI archive with the registry digest', async ({ app, berth }) => {
  const panel = await openRepository(app);
  const downloading = app.waitForEvent('download');
  await panel.getByRole('button', { name: `Download ${repo}:v1` }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`${repo}_v1.tar`);
  const file = join(dir, download.suggestedFilename());
  await download.saveAs(file);
  expect(await download.failure()).toBeNull();

  const { json, entries } = await tarIndex(file);
  expect(entries).toContain('oci-layout');
  const index = json['index.json'] as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
  expect(index.manifests.map((m) => m.digest)).toContain(digest);
  expect(index.manifests.find((m) => m.digest === digest)?.annotations?.['org.opencontainers.image.ref.name']).toBe('v1');
  const manifest = json['manifest.json'] as Array<{ RepoTags: string[]; Layers: string[] }>;
  expect(manifest[0].RepoTags).toEqual([`${repo}:v1`]);
  for (const layer of manifest[0].Layers) expect(entries).toContain(layer);
  expect(statSync(file).size).toBeGreaterThan(3_000_000);

  // The backend reads it back as the same image (what an import of the file would store).
  const preview = await call<{ images: Array<{ digest: string; digestPreserved: boolean }> }>(berth, 'archive.preview', { source: { path: file } });
  expect(preview.images[0]).toMatchObject({ digest, digestPreserved: true });

  // Transfers lists the preparation as an export job.
  await app.keyboard.press('4');
  const job = app.getByRole('list', { name: 'Jobs' }).getByRole('article').filter({ hasText: `Prepare ${repo}:v1` });
  await expect(job).toContainText('done');
  // …and the finished preparation can be downloaded again from there.
  const again = job.getByRole('link', { name: `Download ${repo}_v1.tar` });
  await expect(again).toBeVisible();
  const href = await again.getAttribute('href');
  expect(href).toMatch(/\/api\/exports\/[0-9a-f]{32}$/);
  const res = await fetch(new URL(href!, berth.origin));
  expect(res.status).toBe(200);
  expect(Number(res.headers.get('content-length'))).toBe(statSync(file).size);
});

test('the ready link drags out as a DownloadURL of the bridge; a first drag of another tag prepares it without downloading', async ({ app, berth }) => {
  const panel = await openRepository(app);
  let downloads = 0;
  app.on('download', () => downloads++);
  const dragStart = (label: string) =>
    app.evaluate((name) => {
      const el = document.querySelector(`[aria-label="${name}"]`);
      if (!el) throw new Error(`no element labelled ${name}`);
      const dt = new DataTransfer();
      const ev = new DragEvent('dragstart', { dataTransfer: dt, bubbles: true, cancelable: true });
      el.dispatchEvent(ev);
      return { url: dt.getData('DownloadURL'), prevented: ev.defaultPrevented };
    }, label);

  // Not prepared yet: the drag cannot carry a file, so it starts the preparation (with progress) instead.
  const first = await dragStart(`Download ${repo}:v2`);
  expect(first).toEqual({ url: '', prevented: true });
  const link = panel.getByRole('link', { name: `Download ${repo}:v2` });
  await expect(link).toBeVisible({ timeout: 60_000 });
  expect(downloads).toBe(0);

  // Ready: dragging the link hands Chromium the file name and the bridge's URL (no token: the id is the key).
  await link.hover();
  // Every action of the row stays in view beside the download handle (nothing scrolled off the panel).
  expect(await panel.locator('.panel-body').evaluate((b) => b.scrollWidth - b.clientWidth)).toBeLessThanOrEqual(0);
  await app.screenshot({ path: 'docs/export-drag.png' });
  const second = await dragStart(`Download ${repo}:v2`);
  expect(second.prevented).toBe(false);
  const m = /^application\/x-tar:([^:]+):(http:\/\/.+)$/.exec(second.url);
  expect(m, second.url).not.toBeNull();
  expect(m![1]).toBe(`${repo}_v2.tar`);
  const url = new URL(m![2]);
  expect(url.origin).toBe(berth.origin);
  expect(url.pathname).toMatch(/^\/api\/exports\/[0-9a-f]{32}$/);
  expect(url.search).toBe(''); // the run's token must not land in the browser's download history
  expect(await link.getAttribute('href')).toBe(m![2]);

  // What the desktop would fetch: the archive; an id that is not one gets nothing.
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${repo}_v2.tar"`);
  const size = Number(res.headers.get('content-length'));
  expect((await res.arrayBuffer()).byteLength).toBe(size);
  expect(size).toBeGreaterThan(3_000_000);
  expect((await fetch(new URL(`/api/exports/${'0'.repeat(32)}`, berth.origin))).status).toBe(404);
  expect((await fetch(new URL('/api/events', berth.origin))).status).toBe(401);
  expect(downloads).toBe(0);
});
