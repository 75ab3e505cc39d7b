import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryStore } from '../registry/store';
import { writeDockerArchive } from '../../tests/fixtures/archives';
import { importIntoRegistry } from './registry-import';
import { previewArchive } from './preview';
import { planExport, storeManifestSource, writeArchive } from './writer';

const dir = mkdtempSync(join(tmpdir(), 'berth-writer-unit-'));
const store = new RegistryStore({ root: join(dir, 'registry') });
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const source = (repo: string) => storeManifestSource(store, repo);

let digest = '';
beforeAll(async () => {
  await store.open();
  const archive = join(dir, 'in.tar');
  await writeDockerArchive(archive, [{ tags: ['app:1'], layers: [[{ name: 'a', size: 1_500_000, seed: 'a' }], [{ name: 'b', content: 'b' }]] }]);
  digest = (await importIntoRegistry(store, archive, { compress: true })).images[0].digest;
});

describe('writeArchive', () => {
  it('writes the Docker 25 layout (oci-layout, index.json, manifest.json, blobs/) that reads back with the same digest', async () => {
    const out = join(dir, 'out-oci.tar');
    const plan = await planExport([{ digest, name: 'app:1', source: source('app') }]);
    const progress: number[] = [];
    const size = await writeArchive(out, plan, (d) => store.openBlob(d), { format: 'oci', onProgress: (done) => progress.push(done) });
    expect(size).toBeGreaterThan(1_500_000);
    expect(progress.at(-1)).toBe([...plan.blobs.values()].reduce((n, s) => n + s, 0));
    const preview = await previewArchive(out);
    expect(preview.format).toBe('docker-oci');
    expect(preview.images).toHaveLength(1);
    expect(preview.images[0]).toMatchObject({ digest, digestPreserved: true });
    expect(preview.images[0].tags).toContain('app:1');

    // Import the export into another repository: the digest is the original one.
    const again = await importIntoRegistry(store, out, { repository: 'copy' });
    expect(again.images).toEqual([{ repository: 'copy', tags: ['1'], digest }]);
    expect(again.written).toBe(0); // every blob was already in the store
  });

  it('writes a docker-archive (manifest.json + blobs, no index) and leaves no temp file', async () => {
    const out = join(dir, 'out-docker.tar');
    const plan = await planExport([{ digest, name: 'app:1', source: source('app') }]);
    await writeArchive(out, plan, (d) => store.openBlob(d), { format: 'docker' });
    const preview = await previewArchive(out);
    expect(preview.format).toBe('docker-archive');
    expect(preview.images[0].tags).toEqual(['app:1']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Its layers are gzip blobs (docker load accepts that): import checks what they decompress to.
    const back = await importIntoRegistry(store, out, { repository: 'legacy' });
    const config = (m: Buffer) => JSON.parse(m.toString()).config.digest;
    expect(config((await store.getManifest('legacy', back.images[0].digest)).bytes)).toBe(config((await store.getManifest('app', digest)).bytes));
  });

  it('exports referrers with --referrers, and importing them back keeps them attached to their subject', async () => {
    const empty = Buffer.from('{}');
    const emptyDigest = (await store.writeBlob([empty])).digest;
    await store.linkBlob('app', emptyDigest);
    const subject = (await store.getManifest('app', digest));
    const signature = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.example.signature',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 },
      layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 }],
      subject: { mediaType: subject.mediaType, digest, size: subject.size },
    }));
    const { digest: sigDigest } = await store.putManifest('app', undefined, signature, 'application/vnd.oci.image.manifest.v1+json');
    const out = join(dir, 'with-referrers.tar');
    const plan = await planExport([{ digest, name: 'app:1', source: source('app') }], { referrers: true });
    expect(plan.roots.map((r) => r.descriptor.digest).sort()).toEqual([digest, sigDigest].sort());
    await writeArchive(out, plan, (d) => store.openBlob(d), { format: 'oci' });
    const back = await importIntoRegistry(store, out, { repository: 'signed' });
    expect(back.images.find((i) => i.digest === sigDigest)).toEqual({ repository: 'signed', tags: [], digest: sigDigest });
    expect((await store.referrers('signed', digest)).map((r) => r.digest)).toEqual([sigDigest]);
    expect(await store.tags('signed')).toEqual(['1']);
  });

  it('a cancelled export leaves neither the archive nor a temp file', async () => {
    const out = join(dir, 'cancelled.tar');
    const plan = await planExport([{ digest, name: 'app:1', source: source('app') }]);
    const controller = new AbortController();
    const writing = writeArchive(out, plan, (d) => store.openBlob(d), { format: 'oci', signal: controller.signal, onProgress: () => controller.abort(new Error('stop')) });
    await expect(writing).rejects.toThrow();
    expect(readdirSync(dir).filter((f) => f.includes('cancelled'))).toEqual([]);
  });
});
