import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, mkdir, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MediaType } from '../../shared/media-types';
import { RegistryError } from './errors';
import { RegistryStore } from './store';
import { pushBlob, pushImage, sha256, startTestRegistry, type TestRegistry } from './test-helpers';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-store-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function registry(dataDir?: string): Promise<TestRegistry> {
  const reg = await startTestRegistry(dataDir);
  cleanups.push(() => reg.close());
  return reg;
}

/** Makes a blob look as old as `ms` ago (what GC's grace period looks at). */
async function age(store: RegistryStore, digest: string, ms: number): Promise<void> {
  const t = (Date.now() - ms) / 1000;
  await utimes(store.blobs.path(digest), t, t);
  store.touched.delete(digest);
}

const HOUR = 3600_000;

describe('writeBlob (the importer-facing API)', () => {
  it('hashes while writing, verifies, and reports whether the blob was new', async () => {
    const store = new RegistryStore({ root: await tempDir() });
    cleanups.push(() => store.close());
    const data = Buffer.from('importer blob');
    const first = await store.writeBlob([data], { expectedDigest: sha256(data), expectedSize: data.length });
    expect(first).toEqual({ digest: sha256(data), size: data.length, created: true });
    const again = await store.writeBlob((async function* () { yield data; })());
    expect(again.created).toBe(false);
    expect(await store.hasBlob(sha256(data))).toBe(data.length);
    const wrong = await store.writeBlob([data], { expectedDigest: sha256('other') }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(RegistryError);
    expect((wrong as RegistryError).oci).toBe('DIGEST_INVALID');
    const short = await store.writeBlob([data], { expectedSize: 3 }).catch((e: unknown) => e);
    expect((short as RegistryError).oci).toBe('SIZE_INVALID');
    expect(await readdir(store.tempDir())).toEqual([]);
  });

  it('an aborted write leaves nothing behind', async () => {
    const store = new RegistryStore({ root: await tempDir() });
    cleanups.push(() => store.close());
    const ac = new AbortController();
    const source = (async function* () {
      yield Buffer.alloc(1024);
      ac.abort();
      await new Promise((r) => setTimeout(r, 20));
      yield Buffer.alloc(1024);
    })();
    await expect(store.writeBlob(source, { signal: ac.signal })).rejects.toThrow();
    expect(await readdir(store.tempDir())).toEqual([]);
  });

  it('putManifest and setTags: several tags in one atomic journal record', async () => {
    const root = await tempDir();
    const store = new RegistryStore({ root });
    cleanups.push(() => store.close());
    const cfg = await store.writeBlob([Buffer.from('{"os":"linux","architecture":"arm64","variant":"v8"}')]);
    await store.linkBlob('imp/app', cfg.digest);
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size }, layers: [] }));
    const { digest } = await store.putManifest('imp/app', undefined, m, MediaType.ociManifest);
    const before = (await readFile(join(root, 'index.jsonl'), 'utf8')).split('\n').length;
    await store.setTags('imp/app', { a: digest, b: digest, c: digest });
    expect((await readFile(join(root, 'index.jsonl'), 'utf8')).split('\n').length).toBe(before + 1);
    expect(await store.tags('imp/app')).toEqual(['a', 'b', 'c']);
    expect((await store.describe('imp/app', digest))?.platforms).toEqual(['linux/arm64/v8']);
    await expect(store.setTags('imp/app', { d: digest, e: sha256('not a manifest') })).rejects.toThrow(/not in repository/);
    expect(await store.tags('imp/app')).toEqual(['a', 'b', 'c']); // all or nothing
  });
});

/** A journal that is mostly history (`rounds` link/unlink pairs), worth compacting; one repository left: churn/kept. */
async function journalWithHistory(root: string, rounds: number): Promise<string> {
  const store = new RegistryStore({ root });
  const d = (await store.writeBlob([Buffer.from('churn')])).digest;
  for (let i = 0; i < rounds; i++) {
    await store.linkBlob('churn/repo', d);
    await store.unlinkBlob('churn/repo', d);
  }
  await store.linkBlob('churn/kept', d);
  await store.close();
  return d;
}

describe('index journal', () => {
  it('replays after a torn last line: the torn record is ignored and later appends are clean', async () => {
    const root = await tempDir();
    const s1 = new RegistryStore({ root });
    const d = (await s1.writeBlob([Buffer.from('x')])).digest;
    await s1.linkBlob('torn/repo', d);
    await s1.close();
    // A crash mid-append: half a record, no newline.
    await appendFile(join(root, 'index.jsonl'), '{"op":"link","repo":"torn/other","dig');
    const logs: string[] = [];
    const s2 = new RegistryStore({ root, log: (l) => logs.push(l) });
    expect(await s2.repositories()).toEqual(['torn/repo']);
    expect(logs.join('\n')).toMatch(/cut off by a crash/);
    expect((await s2.fsck()).problems).toEqual([]); // a torn tail is normal: nothing to report
    await s2.linkBlob('torn/second', d);
    await s2.close();
    const s3 = new RegistryStore({ root });
    expect(await s3.repositories()).toEqual(['torn/repo', 'torn/second']);
    await s3.close();
    const text = await readFile(join(root, 'index.jsonl'), 'utf8');
    for (const line of text.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('compaction on open keeps the live state and drops history', async () => {
    const root = await tempDir();
    await journalWithHistory(root, 100);
    const s2 = new RegistryStore({ root });
    expect(await s2.repositories()).toEqual(['churn/kept']);
    await s2.close();
    expect((await readFile(join(root, 'index.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('names never become paths: two repositories differing only in case-like spelling share no directory', async () => {
    const reg = await registry();
    await pushImage(reg.url, 'case/app', 'v1');
    await pushImage(reg.url, 'case/app2', 'v1');
    expect((await readdir(join(reg.dataDir, 'registry'))).sort()).toEqual(['blobs', 'index.jsonl', 'tmp', 'uploads']);
  });
});

/** A store with one image `repo:v1` (config + one layer) pushed through the store API. */
async function storeWithImage(root: string, repo = 'robust/app', log?: (l: string) => void): Promise<{ store: RegistryStore; manifest: string; layer: string }> {
  const store = new RegistryStore({ root, log });
  const cfg = await store.writeBlob([Buffer.from('{"os":"linux","architecture":"amd64"}')]);
  const layer = await store.writeBlob([Buffer.from(`layer of ${repo}`)]);
  for (const b of [cfg, layer]) await store.linkBlob(repo, b.digest);
  const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }] }));
  const { digest } = await store.putManifest(repo, 'v1', m, MediaType.ociManifest);
  return { store, manifest: digest, layer: layer.digest };
}

describe('open', () => {
  it('a failed open is not remembered: the next open tries again and replays into a fresh index', async () => {
    const root = await tempDir();
    const { store: s1, manifest } = await storeWithImage(root);
    await s1.setTags('robust/app', { v2: manifest });
    await s1.close();
    const s2 = new RegistryStore({ root });
    cleanups.push(() => s2.close());
    // Fails after the journal was replayed: a retry must not apply it on top of that attempt's index.
    const failing = vi.spyOn(s2.journal, 'openForAppend').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    await expect(s2.repositories()).rejects.toThrow('EIO');
    expect(failing).toHaveBeenCalledTimes(1);
    expect(await s2.repositories()).toEqual(['robust/app']);
    expect(await s2.tags('robust/app')).toEqual(['v1', 'v2']);
    const usage = await s2.repositoryUsage();
    expect(usage[0]).toMatchObject({ tagCount: 2, manifestCount: 1 });
    await s2.linkBlob('robust/other', manifest); // and the journal is open for appends
    expect(await s2.repositories()).toEqual(['robust/app', 'robust/other']);
  });

  it('a failed compaction while opening is logged; the store opens and appends to the old journal', async () => {
    const root = await tempDir();
    const d = await journalWithHistory(root, 60);
    const logs: string[] = [];
    const s2 = new RegistryStore({ root, log: (l) => logs.push(l) });
    cleanups.push(() => s2.close());
    vi.spyOn(s2.journal, 'rewrite').mockRejectedValueOnce(new Error('ENOSPC: no space left on device'));
    expect(await s2.repositories()).toEqual(['churn/kept']);
    expect(logs.join('\n')).toMatch(/compaction failed .*ENOSPC/);
    await s2.linkBlob('churn/after', d);
    await s2.close();
    const s3 = new RegistryStore({ root });
    cleanups.push(() => s3.close());
    expect(await s3.repositories()).toEqual(['churn/after', 'churn/kept']);
  });
});

describe('a damaged index journal', () => {
  it('damage in the middle: the journal is kept as found, the log and fsck say so, every valid record is kept', async () => {
    const root = await tempDir();
    const { store: s1 } = await storeWithImage(root, 'dmg/one');
    await s1.close();
    const { store: s2 } = await storeWithImage(root, 'dmg/two');
    await s2.close();
    // Garbage in the middle: the second record (a link of dmg/one) overwritten; the later records intact.
    const journal = join(root, 'index.jsonl');
    const lines = (await readFile(journal, 'utf8')).trimEnd().split('\n');
    lines[1] = '{"op":"link","repo":"dmg/one","dig\u0000\u0000\u0000';
    await writeFile(journal, lines.join('\n') + '\n');
    const damaged = await readFile(journal);

    const logs: string[] = [];
    const s3 = new RegistryStore({ root, log: (l) => logs.push(l) });
    cleanups.push(() => s3.close());
    expect(await s3.repositories()).toEqual(['dmg/one', 'dmg/two']);
    expect(await s3.tags('dmg/two')).toEqual(['v1']);
    expect(logs.join('\n')).toMatch(/damaged at line 2, with good records after/);
    const copies = (await readdir(root)).filter((n) => n.startsWith('index.jsonl.damaged-'));
    expect(copies).toHaveLength(1);
    expect(logs.join('\n')).toContain(join(root, copies[0]!));
    expect((await readFile(join(root, copies[0]!))).equals(damaged)).toBe(true);
    const report = await s3.fsck();
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'damaged-index', digest: copies[0], repaired: false, message: expect.stringMatching(/1 record was lost \(line 2\)/) })]);

    // The journal was compacted without the damage: the next open finds nothing new to copy or log.
    await s3.close();
    const logs4: string[] = [];
    const s4 = new RegistryStore({ root, log: (l) => logs4.push(l) });
    cleanups.push(() => s4.close());
    expect(await s4.repositories()).toEqual(['dmg/one', 'dmg/two']);
    expect(logs4).toEqual([]);
    expect((await readdir(root)).filter((n) => n.startsWith('index.jsonl.damaged-'))).toHaveLength(1);
    // Deleting the copy acknowledges it.
    await rm(join(root, copies[0]!));
    expect((await s4.fsck()).problems).toEqual([]);
  });
});

describe('push activity', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is forgotten once older than the in-flight window, except where a push is still running', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new RegistryStore({ root: await tempDir() });
    for (let i = 0; i < 3000; i++) store.notePush(`probe/${i}`);
    const end = store.beginPush('long/upload');
    vi.setSystemTime(Date.now() + 11 * 60_000);
    store.notePush('fresh/one');
    expect([...store.pushActivity.keys()].sort()).toEqual(['fresh/one', 'long/upload']);
    end();
    expect(store.pushesRunning.size).toBe(0);
    // A burst of names within the window is kept (each may be a push about to put its manifest).
    for (let i = 0; i < 5000; i++) store.notePush(`burst/${i}`);
    expect(store.pushActivity.size).toBe(5002);
  });
});

describe('upload sessions', () => {
  it('a session resumes after a restart: the hash is rebuilt from the partial file', async () => {
    const dataDir = await tempDir();
    const all = Buffer.from('first half|second half');
    let reg = await startTestRegistry(dataDir);
    const loc = (await fetch(`${reg.url}/v2/resume/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    await fetch(reg.url + loc, { method: 'PATCH', body: all.subarray(0, 11), headers: { 'Content-Range': '0-10' } });
    await reg.close();
    reg = await registry(dataDir);
    const st = await fetch(reg.url + loc);
    expect(st.status).toBe(204);
    expect(st.headers.get('range')).toBe('0-10');
    const put = await fetch(`${reg.url}${loc}?digest=${sha256(all)}`, { method: 'PUT', body: all.subarray(11), headers: { 'Content-Range': `11-${all.length - 1}` } });
    expect(put.status).toBe(201);
  });

  it('abandoned sessions expire (also through gc)', async () => {
    const reg = await registry();
    const loc = (await fetch(`${reg.url}/v2/exp/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    await fetch(reg.url + loc, { method: 'PATCH', body: 'abandoned' });
    const store = reg.service.store;
    expect((await store.gc({ graceMs: 0 })).uploadsExpired).toBe(0); // fresh: kept
    expect((await store.uploads.expire(60_000, Date.now() + 2 * 60_000)).count).toBe(1);
    expect((await fetch(reg.url + loc)).status).toBe(404);
    expect(await readdir(store.uploads.dir)).toEqual([]);
  });
});

describe('garbage collection', () => {
  it('removes unreferenced blobs past the grace period, keeps referenced and young ones, reports it', async () => {
    const reg = await registry();
    const store = reg.service.store;
    const img = await pushImage(reg.url, 'gc/app', 'v1', { layers: ['kept layer'] });
    const orphan = await pushBlob(reg.url, 'gc/app', 'orphan layer!');
    const young = await pushBlob(reg.url, 'gc/app', 'young orphan');
    await age(store, orphan, 2 * HOUR);
    for (const d of [img.config, ...img.layers, img.digest]) await age(store, d, 2 * HOUR);
    // inFlightMs 0: the push that left the orphan is long over (as if this ran hours later).
    const dry = await store.gc({ dryRun: true, inFlightMs: 0 });
    expect(dry).toMatchObject({ blobsRemoved: 1, bytesFreed: 13, keptYoung: 1, dryRun: true });
    expect(await store.hasBlob(orphan)).toBe(13);
    const report = await store.gc({ inFlightMs: 0 });
    expect(report).toMatchObject({ blobsRemoved: 1, bytesFreed: 13, keptYoung: 1, manifestsRemoved: 0 });
    expect(await store.hasBlob(orphan)).toBeUndefined();
    expect(await store.hasBlob(young)).toBeDefined();
    expect((await fetch(`${reg.url}/v2/gc/app/blobs/${orphan}`, { method: 'HEAD' })).status).toBe(404);
    expect((await fetch(`${reg.url}/v2/gc/app/manifests/v1`)).status).toBe(200);
    for (const d of img.layers) expect((await fetch(`${reg.url}/v2/gc/app/blobs/${d}`)).status).toBe(200);
    expect((await store.fsck()).problems).toEqual([]);
  });

  it('a blob HEADed by a push is kept even when old and with no grace, so the manifest that follows succeeds', async () => {
    const reg = await registry();
    const store = reg.service.store;
    const layer = await pushBlob(reg.url, 'gc/head', 'old but wanted');
    const cfg = await pushBlob(reg.url, 'gc/head', '{}');
    await age(store, layer, 2 * HOUR);
    await age(store, cfg, 2 * HOUR);
    // The push checks what the registry has…
    expect((await fetch(`${reg.url}/v2/gc/head/blobs/${layer}`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${reg.url}/v2/gc/head/blobs/${cfg}`, { method: 'HEAD' })).status).toBe(200);
    // …GC runs in between, even with no grace period at all…
    expect((await store.gc({ graceMs: 0 })).blobsRemoved).toBe(0);
    // …and the manifest put still finds its blobs.
    const m = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: cfg, size: 2 }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: 14 }] });
    expect((await fetch(`${reg.url}/v2/gc/head/manifests/v1`, { method: 'PUT', body: m, headers: { 'Content-Type': MediaType.ociManifest } })).status).toBe(201);
  });

  it('GC racing pushes never removes a push\'s blobs, with the default grace and with none', async () => {
    const reg = await registry();
    const store = reg.service.store;
    // Old garbage for the concurrent GCs to chew on (written directly: no push activity in gc/junk).
    const garbage: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { digest } = await store.writeBlob([Buffer.from(`garbage ${i}`)]);
      await store.linkBlob('gc/junk', digest);
      garbage.push(digest);
    }
    for (const d of garbage) await age(store, d, 2 * HOUR);
    let stop = false;
    const gcLoop = (async () => {
      let runs = 0;
      while (!stop) {
        await store.gc();
        runs++;
      }
      return runs;
    })();
    const pushes = await Promise.all(Array.from({ length: 12 }, (_, i) => pushImage(reg.url, `gc/race${i % 3}`, `t${i}`, { layers: [`race layer ${i}`, 'shared race layer'] })));
    stop = true;
    expect(await gcLoop).toBeGreaterThan(0);
    for (const [i, p] of pushes.entries()) {
      expect((await fetch(`${reg.url}/v2/gc/race${i % 3}/manifests/t${i}`)).status).toBe(200);
      for (const d of [p.config, ...p.layers]) expect((await fetch(`${reg.url}/v2/gc/race${i % 3}/blobs/${d}`, { method: 'HEAD' })).status).toBe(200);
    }
    for (const d of garbage) expect(await store.hasBlob(d)).toBeUndefined();

    // With no grace at all, pushes in flight are still protected, and the index never points at a swept blob.
    stop = false;
    const aggressive = (async () => {
      while (!stop) await store.gc({ graceMs: 0 });
    })();
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => pushImage(reg.url, 'gc/zero', `z${i}`, { layers: [`zero ${i}`] })));
    stop = true;
    await aggressive;
    expect(results.map((r) => r.status)).toEqual(Array(8).fill('fulfilled'));
    expect((await store.fsck()).problems).toEqual([]);
  });

  it('drops referrers whose subject is gone', async () => {
    const reg = await registry();
    const store = reg.service.store;
    const subject = await pushImage(reg.url, 'gc/ref', 'v1');
    const sig = await pushImage(reg.url, 'gc/ref', undefined, { extra: { artifactType: 'application/x-sig', subject: { mediaType: MediaType.ociManifest, digest: subject.digest, size: subject.bytes.length } } });
    expect((await store.gc({ graceMs: 0 })).manifestsRemoved).toBe(0); // subject present
    await store.deleteManifest('gc/ref', subject.digest);
    const report = await store.gc({ graceMs: 0 });
    expect(report.manifestsRemoved).toBe(1);
    expect(store.manifestEntry('gc/ref', sig.digest)).toBeUndefined();
    expect(await store.hasBlob(sig.digest)).toBeUndefined();
    expect(await store.hasBlob(subject.digest)).toBeUndefined();
  });
});

describe('usage', () => {
  it('counts shared layers once per repository and says what deleting a repository frees', async () => {
    const reg = await registry();
    const store = reg.service.store;
    const a = await pushImage(reg.url, 'use/a', 'v1', { layers: ['S'.repeat(1000), 'A'.repeat(100)], config: '{"a":1}' });
    await fetch(`${reg.url}/v2/use/b/blobs/uploads/?mount=${a.layers[0]}&from=use/a`, { method: 'POST' });
    const b = await pushImage(reg.url, 'use/b', 'v1', { layers: ['S'.repeat(1000), 'B'.repeat(10)], config: '{"b":22}' });
    const repos = await store.repositoryUsage();
    const ra = repos.find((r) => r.name === 'use/a')!;
    const rb = repos.find((r) => r.name === 'use/b')!;
    expect(ra.size).toBe(1000 + 100 + 7 + a.bytes.length);
    expect(ra.exclusiveSize).toBe(100 + 7 + a.bytes.length);
    expect(rb.size).toBe(1000 + 10 + 8 + b.bytes.length);
    expect(rb.exclusiveSize).toBe(10 + 8 + b.bytes.length);
    expect(ra).toMatchObject({ tagCount: 1, manifestCount: 1 });
    const u = await store.usage();
    expect(u.totalBytes).toBe(1000 + 100 + 7 + a.bytes.length + 10 + 8 + b.bytes.length);
    expect(u.unreferencedBytes).toBe(0);
    await store.deleteRepository('use/a');
    expect((await store.usage()).unreferencedBytes).toBe(100 + 7 + a.bytes.length);
  });
});

describe('fsck', () => {
  it('finds a corrupt blob and a stray file; repair removes them and reports what stays broken', async () => {
    const reg = await registry();
    const store = reg.service.store;
    const img = await pushImage(reg.url, 'fsck/app', 'v1', { layers: ['will be corrupted'] });
    expect((await store.fsck()).problems).toEqual([]);
    await writeFile(store.blobs.path(img.layers[0]!), 'flipped bits');
    await mkdir(join(store.blobs.blobsDir, 'sha256', 'zz'), { recursive: true });
    await writeFile(join(store.blobs.blobsDir, 'sha256', 'zz', 'junk'), 'x');
    const report = await store.fsck();
    expect(report.problems.map((p) => p.kind).sort()).toEqual(['corrupt-blob', 'dangling-link', 'missing-blob', 'stray-file']);
    expect(report.remaining).toBe(4);
    const repaired = await store.fsck({ repair: true });
    expect(repaired.problems.filter((p) => p.repaired).map((p) => p.kind).sort()).toEqual(['corrupt-blob', 'dangling-link', 'stray-file']);
    expect(await store.hasBlob(img.layers[0]!)).toBeUndefined();
    const after = await store.fsck();
    expect(after.problems.map((p) => p.kind)).toEqual(['missing-blob']); // the image must be pushed again
    expect(after.remaining).toBe(1);
  });
});

// Disk full mid-write: the registry's data on a 4 MiB tmpfs. Needs root (mount); skipped otherwise.
const canMount = (() => {
  if (process.getuid?.() !== 0 || process.platform !== 'linux') return false;
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('disk full', () => {
  it.skipIf(!canMount)('a write that fills the disk answers 500, removes temp files and leaves the index unchanged', async () => {
    const dir = await tempDir();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
    } catch (err) {
      console.warn(`skipping disk-full test: cannot mount tmpfs (${(err as Error).message})`);
      return;
    }
    cleanups.push(async () => execFileSync('umount', ['-l', dir]));
    const reg = await registry(dir);
    const img = await pushImage(reg.url, 'full/app', 'v1');
    const repos = await reg.service.store.repositories();
    const big = Buffer.alloc(6 * 1024 * 1024, 1);
    const mono = await fetch(`${reg.url}/v2/full/app/blobs/uploads/?digest=${sha256(big)}`, { method: 'POST', body: big });
    expect(mono.status).toBe(500);
    expect(((await mono.json()) as { errors: Array<{ message: string }> }).errors[0]!.message).toMatch(/disk is full/);
    const loc = (await fetch(`${reg.url}/v2/full/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    const patch = await fetch(reg.url + loc, { method: 'PATCH', body: big });
    expect(patch.status).toBe(500);
    expect(await readdir(join(dir, 'registry', 'tmp'))).toEqual([]);
    expect(await readdir(join(dir, 'registry', 'uploads'))).toEqual([]);
    expect(await reg.service.store.repositories()).toEqual(repos);
    expect((await fetch(`${reg.url}/v2/full/app/manifests/v1`)).status).toBe(200);
    expect(await reg.service.store.hasBlob(sha256(big))).toBeUndefined();
    // Space comes back once the failed write is gone: a small push works again.
    await pushImage(reg.url, 'full/app', 'v2');
    expect(img.digest).toBeTruthy();
  });
});

describe('discardBlobs (import rollback)', () => {
  it('removes blobs it wrote unless something uses or touched them since', async () => {
    const store = new RegistryStore({ root: await tempDir() });
    cleanups.push(() => store.close());
    const a = (await store.writeBlob([Buffer.from('unused')])).digest;
    const b = (await store.writeBlob([Buffer.from('linked meanwhile')])).digest;
    const c = (await store.writeBlob([Buffer.from('touched later')])).digest;
    const at = Date.now() + 5; // when the importer finished writing them
    await store.linkBlob('keep/me', b);
    store.touch(c, at + 10_000);
    const removed = await store.discardBlobs(new Map([[a, at], [b, at], [c, at]]));
    expect(removed).toEqual([a]);
    expect(await store.hasBlob(a)).toBeUndefined();
    expect(await store.hasBlob(b)).toBeDefined();
    expect(await store.hasBlob(c)).toBeDefined();
  });
});
