/**
 * Crash safety of Berth's registry, with real processes and real files:
 * - kill -9 in the middle of a 200 MB upload, restart on the same data dir: the blob is not visible,
 *   `berth fsck` is clean, and the client can upload again;
 * - two clients pushing the same blob at once both succeed and one copy is stored (also run on the
 *   reference registry, which shows the check is real);
 * - `berth gc --grace 0` in a loop while docker pushes never removes that push's blobs.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drain, fileBody, headBlob, pullBlob, pushBlobMonolithic, putManifest, request, sha256, startUpload, writeRandomFile } from '../support/registry-client';
import { buildTestImage, docker, dockerUnavailable, imageId, pushedDigest, removeImages, uniqueSuffix } from '../support/registry-images';
import { berthUnavailable, runBerth, runBerthAsync, startBerthRegistry, startRegistryTarget, targetCases, type RegistryTarget } from '../support/registry-target';

const MB = 1024 * 1024;

/** Every regular file under `dir` (recursively) with exactly `size` bytes: where a blob's copies would be. */
async function filesOfSize(dir: string, size: number): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await stat(path)).size === size) found.push(path);
  }
  return found;
}

/** Every path under `dir` whose name contains `digest`'s hex: a blob file, or a directory named after it. */
async function pathsNamedFor(dir: string, digest: string): Promise<string[]> {
  const hex = digest.slice(digest.indexOf(':') + 1);
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.name.includes(hex)).map((e) => join(e.parentPath, e.name));
}

function fsck(dataDir: string) {
  const r = runBerth(['fsck', '--data', dataDir]);
  return { ...r, report: `exit ${r.status}\n${r.stdout}\n${r.stderr}` };
}

const berthMissing = berthUnavailable();

describe.skipIf(berthMissing)(`kill -9 during a 200 MB upload${berthMissing ? ` (skipped: ${berthMissing})` : ''}`, () => {
  let work: string;
  let file: string;
  let digest: string;
  const size = 200 * MB;
  const repo = 'berth-test/crash';

  beforeAll(async () => {
    if (berthMissing) return;
    work = await mkdtemp(join(tmpdir(), 'berth-test-crash-'));
    file = join(work, 'blob.bin');
    digest = await writeRandomFile(file, size);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the half-sent blob is not visible after restart, fsck is clean, the upload can be redone', async () => {
    const dataDir = join(work, 'data');
    const first = await startBerthRegistry({ dataDir });
    let killedAt = 0;
    let sent = 0;
    try {
      const location = await startUpload(first.url, repo);
      // Count bytes as they leave; at half way, kill -9 the registry while the PATCH is still streaming.
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          sent += chunk.length;
          if (!killedAt && sent >= size / 2) {
            killedAt = sent;
            void first.kill9!();
          }
          done(null, chunk);
        },
      });
      const body = createReadStream(file, { highWaterMark: MB }).pipe(meter);
      const outcome = await request(location, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, body }).then(
        (res) => `HTTP ${res.status}`,
        (error: Error) => `error ${error.message}`,
      );
      expect(killedAt, 'the registry was killed mid-upload').toBeGreaterThan(0);
      expect(outcome).not.toBe('HTTP 202');
    } finally {
      await first.kill9!();
    }

    // The killed process left its lock behind; fsck must see that it is dead, check the store and pass.
    const afterCrash = fsck(dataDir);
    expect(afterCrash.status, afterCrash.report).toBe(0);
    expect(await filesOfSize(dataDir, size)).toEqual([]);
    expect(await pathsNamedFor(dataDir, digest), 'nothing in the store is named after the half-sent blob').toEqual([]);

    const second = await startBerthRegistry({ dataDir });
    try {
      expect(await headBlob(second.url, repo, digest)).toBe(404);
      const get = await request(`${second.url}/v2/${repo}/blobs/${digest}`);
      await drain(get);
      expect(get.status).toBe(404);

      await pushBlobMonolithic(second.url, repo, digest, size, fileBody(file));
      expect(await headBlob(second.url, repo, digest)).toBe(200);
      expect(await pullBlob(second.url, repo, digest)).toEqual({ digest, size });
      expect(await filesOfSize(dataDir, size)).toHaveLength(1);
      // The same lookup that found nothing after the crash finds the committed blob now.
      expect(await pathsNamedFor(dataDir, digest)).toHaveLength(1);
      const clean = fsck(dataDir);
      expect(clean.status, clean.report).toBe(0);
    } finally {
      await second.stop();
    }
  });
});

describe.each(targetCases(['berth', 'reference']))('the same blob pushed by two clients at once — $label', ({ name, unavailable }) => {
  let target: RegistryTarget;
  let work: string;
  beforeAll(async () => {
    if (unavailable) return;
    work = await mkdtemp(join(tmpdir(), 'berth-test-sameblob-'));
    target = await startRegistryTarget(name, { dataDir: join(work, 'data') });
  });
  afterAll(async () => {
    await target?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.skipIf(unavailable)('both uploads get 201 and one copy is stored', async () => {
    const size = 48 * MB + 12345;
    const file = join(work, 'blob.bin');
    const digest = await writeRandomFile(file, size);
    // Two repositories and one repository twice: the blob store is shared, so all land on one file.
    const results = await Promise.allSettled([
      pushBlobMonolithic(target.url, 'berth-test/same-a', digest, size, fileBody(file)),
      pushBlobMonolithic(target.url, 'berth-test/same-b', digest, size, fileBody(file)),
      pushBlobMonolithic(target.url, 'berth-test/same-a', digest, size, fileBody(file)),
    ]);
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok']);
    for (const repo of ['berth-test/same-a', 'berth-test/same-b']) expect(await pullBlob(target.url, repo, digest)).toEqual({ digest, size });
    expect(await filesOfSize(target.dataDir!, size)).toHaveLength(1);
  });
});

const gcMissing = berthMissing ?? dockerUnavailable();

describe.skipIf(gcMissing)(`gc while docker pushes${gcMissing ? ` (skipped: ${gcMissing})` : ''}`, () => {
  let target: RegistryTarget;
  const suffix = uniqueSuffix();
  const images = [0, 1, 2, 3].map((i) => `berth-test-gcrace-${suffix}-${i}:v1`);
  const created: string[] = [...images];
  const ids = new Map<string, string>();

  beforeAll(async () => {
    if (gcMissing) return;
    target = await startBerthRegistry();
    for (const image of images) ids.set(image, await buildTestImage(image, { layers: 3, layerSize: 4 * MB }));
  });
  afterAll(async () => {
    if (gcMissing) return;
    removeImages(created);
    await target?.stop();
  });

  it('never removes the blobs of a push in flight; everything pulls back afterwards', async () => {
    let pushing = true;
    const gcRuns: Array<{ start: number; end: number }> = [];
    const failures: string[] = [];
    let firstGc!: () => void;
    const gcWarm = new Promise<void>((r) => (firstGc = r));
    const gcLoop = (async () => {
      while (pushing) {
        const start = Date.now();
        const r = await runBerthAsync(['gc', '--data', target.dataDir!, '--grace', '0']);
        if (r.status !== 0) failures.push(`gc exit ${r.status}: ${r.stderr || r.stdout}`);
        gcRuns.push({ start, end: Date.now() });
        firstGc();
      }
    })();
    const digests = new Map<string, string>();
    // Start pushing once the loop has one collection behind it, so collections surely overlap the pushes.
    await gcWarm;
    const pushStart = Date.now();
    let pushEnd = Infinity;
    try {
      // Pushes run as child processes so the gc loop keeps going while each one is in flight.
      await Promise.all(
        images.map(async (image, i) => {
          const remote = `${target.hostPort}/berth-test/gcrace-${i}:v1`;
          docker(['tag', image, remote]);
          created.push(remote);
          const out = await dockerAsync(['push', remote]);
          digests.set(image, pushedDigest(out));
        }),
      );
      pushEnd = Date.now();
    } finally {
      pushing = false;
      await gcLoop;
    }
    expect(failures).toEqual([]);
    expect(gcRuns.filter((g) => g.start < pushEnd && g.end > pushStart).length, 'collections that ran during the pushes').toBeGreaterThan(0);
    // One more collection after the pushes: the blobs are referenced now and must all stay.
    expect((await runBerthAsync(['gc', '--data', target.dataDir!, '--grace', '0'])).status).toBe(0);
    removeImages(created);
    for (const [i, image] of images.entries()) {
      const byDigest = `${target.hostPort}/berth-test/gcrace-${i}@${digests.get(image)}`;
      docker(['pull', byDigest]);
      created.push(byDigest);
      expect(imageId(byDigest)).toBe(ids.get(image));
    }
    const clean = await runBerthAsync(['fsck', '--data', target.dataDir!]);
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
  });
});

describe.skipIf(berthMissing)(`gc between a push's blobs and its manifest${berthMissing ? ` (skipped: ${berthMissing})` : ''}`, () => {
  let target: RegistryTarget;
  beforeAll(async () => {
    if (!berthMissing) target = await startBerthRegistry();
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('blobs uploaded, then `berth gc --grace 0`, then the manifest: 201 and every blob still there', async () => {
    const repo = 'berth-test/gc-window';
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const layer = randomBytes(256 * 1024);
    // The order docker uses: HEAD (missing), upload each blob, and only then the manifest.
    for (const blob of [layer, config]) {
      expect(await headBlob(target.url, repo, sha256(blob))).toBe(404);
      await pushBlobMonolithic(target.url, repo, sha256(blob), blob.length, () => blob);
    }
    const gc = await runBerthAsync(['gc', '--data', target.dataDir!, '--grace', '0']);
    expect(gc.status, gc.stdout + gc.stderr).toBe(0);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    });
    expect(await putManifest(target.url, repo, 'v1', 'application/vnd.oci.image.manifest.v1+json', manifest)).toBe(sha256(manifest));
    expect(await pullBlob(target.url, repo, sha256(layer))).toEqual({ digest: sha256(layer), size: layer.length });
  });
});

/** docker CLI without blocking the event loop (the gc loop runs beside it). */
function dockerAsync(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { maxBuffer: 16 * MB }, (error, stdout, stderr) => {
      if (error) reject(new Error(`docker ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}
