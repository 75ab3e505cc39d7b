/**
 * `berth gc --grace 0` while an archive import runs: the import writes its blobs first and links them at
 * the end, so it registers as a push in flight (store.startPush) from its first blob to its commit. GC
 * runs here at the worst moments, through hooks on the store the import uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryStore } from '../registry/store';
import { digestOf, writeDockerArchive, writeRawTar, type FixtureImage } from '../../tests/fixtures/archives';
import { importIntoRegistry } from './registry-import';

const dir = mkdtempSync(join(tmpdir(), 'berth-import-gc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let store: RegistryStore;
beforeEach(async () => {
  store = new RegistryStore({ root: join(dir, `store${n++}`) });
  await store.open();
  return () => store.close();
});

const img: FixtureImage = {
  tags: ['gc/app:1'],
  layers: [[{ name: 'big', size: 1_500_000, seed: 'gc' }], [{ name: 'small', content: 'small layer' }]],
};

/** Makes a stored blob look written and last used two hours ago: garbage to any GC unless something protects it. */
async function ageBlob(digest: string): Promise<void> {
  const t = (Date.now() - 2 * 3600_000) / 1000;
  await utimes(store.blobs.path(digest), t, t);
  store.touched.delete(digest);
}

async function ageAllBlobs(): Promise<void> {
  for await (const b of store.blobs.list()) if (b.size >= 0) await ageBlob(b.digest);
}

/** The image as pulled: the manifest and every blob it names are readable. */
async function expectWhole(repo: string, tag: string): Promise<void> {
  const m = JSON.parse((await store.getManifest(repo, tag)).bytes.toString()) as { config: { digest: string }; layers: Array<{ digest: string }> };
  for (const d of [m.config.digest, ...m.layers.map((l) => l.digest)]) expect(await store.blobInRepository(repo, d)).toBeGreaterThan(0);
}

describe('GC with no grace during an archive import', () => {
  it('between blob writes, as if the archive took hours: the import still commits, nothing of it is swept, fsck is clean', async () => {
    const path = join(dir, `write${n}.tar`);
    await writeDockerArchive(path, [img]);
    const writeBlob = store.writeBlob.bind(store);
    const written: string[] = [];
    const reports: Array<{ blobsRemoved: number }> = [];
    store.writeBlob = async (source, opts) => {
      if (written.length > 0) {
        for (const d of written) await ageBlob(d); // every blob so far written long ago
        reports.push(await store.gc({ graceMs: 0 }));
      }
      const w = await writeBlob(source, opts);
      written.push(w.digest);
      return w;
    };
    const result = await importIntoRegistry(store, path, {});
    expect(reports.length).toBeGreaterThanOrEqual(2); // the second layer, the config, the manifest
    expect(reports.map((r) => r.blobsRemoved)).toEqual(reports.map(() => 0));
    expect(result.images).toEqual([expect.objectContaining({ repository: 'gc/app', tags: ['1'] })]);
    await expectWhole('gc/app', '1');
    expect((await store.fsck()).problems).toEqual([]);
  });

  it('between the last blob and the first link, with blobs found already stored (skipped) as well as written', async () => {
    // A first import leaves the blobs; deleting the repository makes them garbage, aged past any grace.
    const path = join(dir, `link${n}.tar`);
    await writeDockerArchive(path, [img]);
    await importIntoRegistry(store, path, {});
    await store.deleteRepository('gc/app');
    await ageAllBlobs();
    const linkBlob = store.linkBlob.bind(store);
    let report: { blobsRemoved: number } | undefined;
    store.linkBlob = async (repo, digest) => {
      if (!report) {
        await ageAllBlobs();
        report = await store.gc({ graceMs: 0 });
      }
      return linkBlob(repo, digest);
    };
    await importIntoRegistry(store, path, { repository: 'gc/again', tags: ['2'] });
    expect(report?.blobsRemoved).toBe(0);
    await expectWhole('gc/again', '2');
    expect((await store.fsck()).problems).toEqual([]);
    // Once the import has committed, it protects nothing any more: garbage is garbage again.
    expect(store.heldBlobs.size).toBe(0);
    expect(store.pushesRunning.size).toBe(0);
  });

  it('after a failed import nothing stays held: GC reclaims whatever the rollback left', async () => {
    const path = join(dir, `fail${n}.tar`);
    await writeDockerArchive(path, [img]);
    const putManifest = store.putManifest.bind(store);
    store.putManifest = async () => {
      throw new Error('disk gave up');
    };
    await expect(importIntoRegistry(store, path, {})).rejects.toThrow('disk gave up');
    store.putManifest = putManifest;
    expect(store.heldBlobs.size).toBe(0);
    expect(store.pushesRunning.size).toBe(0);
    // (The rollback keeps blobs touched after they were written, and linking touches them: here GC's job.)
    await store.gc({ graceMs: 0, inFlightMs: 0 });
    const left: string[] = [];
    for await (const b of store.blobs.list()) left.push(b.digest);
    expect(left).toEqual([]);
  });

  it('blobs in the archive that no image uses are still dropped at once after the commit', async () => {
    const layer = Buffer.from('layer bytes');
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layer)] } });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.length }],
    });
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': '1' } }],
    });
    const stray = '{"id":"a legacy v1 layer json nobody references"}';
    const blob = (c: string | Buffer) => ({ name: `blobs/sha256/${digestOf(c).slice(7)}`, content: c });
    const path = join(dir, `oci${n}.tar`);
    await writeRawTar(path, [{ name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' }, blob(layer), blob(config), blob(manifest), blob(stray), { name: 'index.json', content: index }]);
    await importIntoRegistry(store, path, { repository: 'gc/oci' });
    await expectWhole('gc/oci', '1');
    expect(await store.hasBlob(digestOf(stray))).toBeUndefined();
  });
});
