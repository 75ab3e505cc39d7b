import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MediaType } from '../../shared/media-types';
import { RegistryStore } from './store';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length) await cleanups.pop()!();
});

async function openStore(root?: string): Promise<RegistryStore> {
  if (!root) {
    root = await mkdtemp(join(tmpdir(), 'berth-gc-'));
    const dir = root;
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
  }
  const store = new RegistryStore({ root });
  cleanups.push(() => store.close());
  await store.open();
  return store;
}

/** A blob linked into `repo` by an upload two hours ago whose manifest never came: garbage for GC. */
async function abandonedBlob(store: RegistryStore, repo: string, content: string): Promise<string> {
  const { digest } = await store.writeBlob([Buffer.from(content)]);
  await store.linkBlob(repo, digest);
  const t = (Date.now() - 2 * 3600_000) / 1000;
  await utimes(store.blobs.path(digest), t, t);
  store.touched.delete(digest);
  store.pushActivity.delete(repo);
  return digest;
}

const exists = async (store: RegistryStore, digest: string) => (await store.statBlob(digest)) !== undefined;

describe('GC: the sweep record goes before the files', () => {
  it('when the sweep record cannot be written (disk full), no file is deleted: nothing in the index points at a missing blob', async () => {
    const store = await openStore();
    const d = await abandonedBlob(store, 'gc/full', 'abandoned layer');
    vi.spyOn(store.journal, 'append').mockRejectedValueOnce(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
    await expect(store.gc({ graceMs: 0, inFlightMs: 0 })).rejects.toThrow('ENOSPC');
    expect(await exists(store, d)).toBe(true);
    expect((await store.fsck()).problems).toEqual([]);
    // The same after a restart, and the next GC finishes the job.
    await store.close();
    const again = await openStore(store.root);
    expect((await again.fsck()).problems).toEqual([]);
    expect((await again.gc({ graceMs: 0, inFlightMs: 0 })).blobsRemoved).toBe(1);
    expect(await exists(again, d)).toBe(false);
    expect(await again.repositories()).toEqual([]);
    expect((await again.fsck()).problems).toEqual([]);
  });

  it('a failure between the record and the file removal (a crash) leaves only unreferenced garbage, which the next GC sweeps', async () => {
    const store = await openStore();
    const d = await abandonedBlob(store, 'gc/crash', 'abandoned layer 2');
    vi.spyOn(store.blobs, 'remove').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    await expect(store.gc({ graceMs: 0, inFlightMs: 0 })).rejects.toThrow('EIO');
    expect(await store.repositories()).toEqual([]); // the record is durable: no link names the blob
    expect(await exists(store, d)).toBe(true);
    expect((await store.fsck()).problems).toEqual([]);
    await store.close();
    const again = await openStore(store.root);
    expect(await again.repositories()).toEqual([]);
    expect(await again.gc({ graceMs: 0, inFlightMs: 0 })).toMatchObject({ blobsRemoved: 1 });
    expect(await exists(again, d)).toBe(false);
  });
});

describe('GC racing an upload that commits a copy of an old, unreferenced blob', () => {
  it('a blob held after the sweep checked it (before its files go) stays, and the upload links it', async () => {
    const store = await openStore();
    const d = await abandonedBlob(store, 'gc/race', 'old layer pushed again');
    // The upload's PUT holds the digest, commits (finds the file), and links it. Here the hold lands
    // exactly after GC's last check, while its sweep record is being written.
    const append = store.journal.append.bind(store.journal);
    let push: ReturnType<RegistryStore['startPush']> | undefined;
    vi.spyOn(store.journal, 'append').mockImplementation(async (rec) => {
      if ((rec as { op: string }).op === 'sweep' && !push) {
        push = store.startPush();
        push.into('gc/again');
        push.hold(d);
      }
      return append(rec);
    });
    const report = await store.gc({ graceMs: 0, inFlightMs: 0 });
    expect(push).toBeDefined();
    expect(report.blobsRemoved).toBe(0);
    expect(await exists(store, d)).toBe(true);
    await store.linkBlob('gc/again', d);
    push!.end();
    expect((await store.fsck()).problems).toEqual([]);
  });
});

describe('GC and a push in flight (startPush)', () => {
  it('keeps the blobs the push holds and what it linked into its repositories until it ends, whatever the grace', async () => {
    const store = await openStore();
    const written = await abandonedBlob(store, 'gc/elsewhere', 'written, not linked yet');
    await store.unlinkBlob('gc/elsewhere', written);
    const linked = await abandonedBlob(store, 'gc/target', 'linked, no manifest yet');
    const push = store.startPush();
    push.hold(written);
    push.into('gc/target');
    push.hold(written); // holding twice is one hold
    expect((await store.gc({ graceMs: 0, inFlightMs: 0 })).blobsRemoved).toBe(0);
    expect(await exists(store, written)).toBe(true);
    expect(await exists(store, linked)).toBe(true);
    push.end();
    push.end(); // idempotent
    expect(store.heldBlobs.size).toBe(0);
    expect(store.pushesRunning.size).toBe(0);
    expect((await store.gc({ graceMs: 0, inFlightMs: 0 })).blobsRemoved).toBe(2);
  });

  it('discardBlobs leaves a blob another push holds', async () => {
    const store = await openStore();
    const { digest } = await store.writeBlob([Buffer.from('wanted by two imports')]);
    const other = store.startPush();
    other.hold(digest);
    expect(await store.discardBlobs([[digest, Date.now() + 5]])).toEqual([]);
    other.end();
    expect(await store.discardBlobs([[digest, Date.now() + 5]])).toEqual([digest]);
    expect(await exists(store, digest)).toBe(false);
  });
});

describe('GC with no grace and a blob nothing names yet', () => {
  it('while a push is running, a blob committed moments ago (not linked or held yet) is kept', async () => {
    const store = await openStore();
    const end = store.beginPush('gc/uploading');
    const { digest } = await store.writeBlob([Buffer.from('just renamed into place, link still to come')]);
    store.touched.delete(digest); // the touch after the commit has not happened yet
    await new Promise((r) => setTimeout(r, 5)); // GC starts strictly after the blob's mtime
    expect((await store.gc({ graceMs: 0 })).blobsRemoved).toBe(0);
    end();
    await store.linkBlob('gc/uploading', digest);
    expect(await exists(store, digest)).toBe(true);
    // With no push in flight (a window of 0), the same blob unlinked is garbage at grace 0.
    await store.unlinkBlob('gc/uploading', digest);
    expect((await store.gc({ graceMs: 0, inFlightMs: 0 })).blobsRemoved).toBe(1);
  });

  it("a manifest's bytes swept between their write and the manifest's record are written again: the index never names a missing manifest", async () => {
    const store = await openStore();
    const cfg = await store.writeBlob([Buffer.from('{"os":"linux","architecture":"amd64"}')]);
    await store.linkBlob('gc/manifest', cfg.digest);
    const push = store.startPush();
    push.hold(cfg.digest); // the config stays; only the manifest's own bytes are at stake here
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size }, layers: [] }));
    const writeBlob = store.writeBlob.bind(store);
    let swept = 0;
    store.writeBlob = async (source, opts) => {
      const w = await writeBlob(source, opts);
      const t = (Date.now() - 2 * 3600_000) / 1000;
      await utimes(store.blobs.path(w.digest), t, t);
      store.touched.delete(w.digest);
      swept += (await store.gc({ graceMs: 0, inFlightMs: 0 })).blobsRemoved;
      return w;
    };
    const { digest } = await store.putManifest('gc/manifest', 'v1', bytes, MediaType.ociManifest);
    expect(swept).toBe(1); // the manifest's bytes did go
    expect((await store.getManifest('gc/manifest', 'v1')).bytes.equals(bytes)).toBe(true);
    expect(digest).toBe((await store.statManifest('gc/manifest', 'v1')).digest);
    expect((await store.fsck()).problems).toEqual([]);
  });
});
