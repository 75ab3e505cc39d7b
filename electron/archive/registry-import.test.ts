import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryStore } from '../registry/store';
import { digestOf, layerTar, writeDocker25Archive, writeDockerArchive, writeRawTar, type FixtureImage } from '../../tests/fixtures/archives';
import { gzipSync } from 'node:zlib';
import { importIntoRegistry } from './registry-import';
import { previewArchive } from './preview';

const dir = mkdtempSync(join(tmpdir(), 'berth-import-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let store: RegistryStore;
let root: string;
beforeEach(async () => {
  root = join(dir, `store${n++}`);
  store = new RegistryStore({ root });
  await store.open();
});
afterEach(() => store.close()); // its journal's file handle, not left to the garbage collector

const img: FixtureImage = {
  tags: ['docker.io/library/web:1.2', 'web:stable'],
  layers: [[{ name: 'www/index.html', size: 2_500_000, seed: 'web' }], [{ name: 'etc/x', content: 'x' }]],
};

/** Every regular file under a directory (blobs, temp files), relative. */
function files(d: string, prefix = ''): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(d, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}
const blobFiles = () => files(join(root, 'blobs'));
const tmpFiles = () => files(join(root, 'tmp'));

describe('importIntoRegistry', () => {
  it('imports a legacy archive: layers as they are, a built manifest, the archive tags in one step', async () => {
    const path = join(dir, `a${n}.tar`);
    const [id] = await writeDockerArchive(path, [img]);
    const preview = await previewArchive(path);
    const rows: string[] = [];
    const result = await importIntoRegistry(store, path, { progress: { read: () => {}, item: (id) => (rows.push(id), { progress: () => {}, status: () => {} }) } });
    expect(result.images).toEqual([{ repository: 'web', tags: ['1.2', 'stable'], digest: preview.images[0].digest }]);
    expect(await store.tags('web')).toEqual(['1.2', 'stable']);
    const m = await store.getManifest('web', '1.2');
    expect(m.digest).toBe(preview.images[0].digest);
    const doc = JSON.parse(m.bytes.toString());
    expect(doc.config.digest).toBe(id);
    expect(doc.layers[0].mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar');
    expect(rows).toHaveLength(1); // one row per layer-sized blob
    expect(tmpFiles()).toEqual([]);

    // Importing again writes nothing new: every named blob is already there.
    const again = await importIntoRegistry(store, path, { repository: 'copy', tags: ['x'] });
    expect(again.images[0]).toMatchObject({ repository: 'copy', tags: ['x'], digest: m.digest });
  });

  it('gzips legacy layers on request and checks the uncompressed bytes against the diff_ids', async () => {
    const path = join(dir, `g${n}.tar`);
    await writeDockerArchive(path, [img]);
    const result = await importIntoRegistry(store, path, { repository: 'zipped', tags: ['1'], compress: true });
    const doc = JSON.parse((await store.getManifest('zipped', '1')).bytes.toString());
    expect(doc.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([
      'application/vnd.docker.image.rootfs.diff.tar.gzip',
      'application/vnd.docker.image.rootfs.diff.tar.gzip',
    ]);
    const layer = await store.openBlob(doc.layers[0].digest);
    const head: Buffer = await new Promise((res) => layer.stream.once('data', (c) => (layer.stream.destroy(), res(c as Buffer))));
    expect([head[0], head[1]]).toEqual([0x1f, 0x8b]);
    expect(result.images[0].digest).toBe((await store.statManifest('zipped', '1')).digest);
  });

  it('with --gzip, a legacy layer.tar that is already gzip is stored as it is, not gzipped twice', async () => {
    // Old `docker save` tools and hand-made archives: <id>/layer.tar holding gzip bytes.
    const chunks: Buffer[] = [];
    for await (const c of layerTar([{ name: 'hello.txt', content: 'hello\n' }])) chunks.push(c);
    const tar = Buffer.concat(chunks);
    const zipped = gzipSync(tar);
    const config = JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [digestOf(tar)] } });
    const cfg = `${digestOf(config).slice(7)}.json`;
    const path = join(dir, `gg${n}.tar`);
    await writeRawTar(path, [
      { name: 'l/layer.tar', content: zipped },
      { name: cfg, content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: cfg, RepoTags: ['gz:1'], Layers: ['l/layer.tar'] }]) },
    ]);
    const plain = await importIntoRegistry(store, path, { repository: 'as-is', tags: ['1'] });
    const result = await importIntoRegistry(store, path, { repository: 'zipped', tags: ['1'], compress: true });
    const doc = JSON.parse((await store.getManifest('zipped', '1')).bytes.toString());
    expect(doc.layers).toEqual([{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: digestOf(zipped), size: zipped.length }]);
    // The very bytes of the archive: the same manifest as an import without --gzip.
    expect(result.images[0].digest).toBe(plain.images[0].digest);
  });

  it('leaves nothing behind when the archive turns out bad after its layers were written', async () => {
    const config = JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [digestOf('expected')] } });
    const cfg = `${digestOf(config).slice(7)}.json`;
    const path = join(dir, `bad${n}.tar`);
    await writeRawTar(path, [
      { name: 'l/layer.tar', content: Buffer.alloc(3 << 20, 7) },
      { name: cfg, content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: cfg, RepoTags: ['bad:1'], Layers: ['l/layer.tar'] }]) },
    ]);
    await expect(importIntoRegistry(store, path, {})).rejects.toMatchObject({ code: 'ARCHIVE_INVALID' });
    expect(blobFiles()).toEqual([]);
    expect(tmpFiles()).toEqual([]);
    expect(await store.repositories()).toEqual([]);
  });

  it('cancel leaves nothing behind', async () => {
    const path = join(dir, `c${n}.tar`);
    await writeDockerArchive(path, [{ tags: ['big:1'], layers: [[{ name: 'a', size: 20 << 20, seed: 'a' }], [{ name: 'b', size: 20 << 20, seed: 'b' }]] }]);
    const controller = new AbortController();
    let seen = 0;
    const importing = importIntoRegistry(store, path, {
      signal: controller.signal,
      progress: { read: (bytes) => (bytes > 25 << 20 && seen++ === 0 ? controller.abort(new Error('stop')) : undefined), item: () => ({ progress: () => {}, status: () => {} }) },
    });
    await expect(importing).rejects.toBeTruthy();
    expect(blobFiles()).toEqual([]);
    expect(tmpFiles()).toEqual([]);
    expect(await store.repositories()).toEqual([]);
  });

  it('refuses two images that claim the same tag, and bad names, before tagging anything', async () => {
    const path = join(dir, `two${n}.tar`);
    await writeDockerArchive(path, [
      { tags: ['a:1'], layers: [[{ name: 'a', content: 'a' }]] },
      { tags: ['b:1'], layers: [[{ name: 'b', content: 'b' }]] },
    ]);
    await expect(importIntoRegistry(store, path, { repository: 'same', tags: ['1'] })).rejects.toThrow(/both be tagged same:1/);
    expect(await store.repositories()).toEqual([]);
    expect(blobFiles()).toEqual([]);
    await expect(importIntoRegistry(store, path, { repository: 'Bad' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const ok = await importIntoRegistry(store, path, {});
    expect(ok.images.map((i) => `${i.repository}:${i.tags}`)).toEqual(['a:1', 'b:1']);
  });

  it('refuses an archive larger than the free disk before writing anything', async () => {
    const path = join(dir, `huge${n}.tar`);
    writeFileSync(path, '');
    const { truncateSync } = await import('node:fs');
    truncateSync(path, 2 ** 40); // sparse: 1 TiB of nothing
    await expect(importIntoRegistry(store, path, {})).rejects.toThrow(/only .* is free on the disk/);
    rmSync(path);
    expect(tmpFiles()).toEqual([]);
  });

  it('maps each image of a multi-image archive to its own repository and tags (by position, name or image ID)', async () => {
    const path = join(dir, `multi${n}.tar`);
    const images: FixtureImage[] = [
      { tags: ['web:1'], layers: [[{ name: 'a', content: 'a' }]] },
      { tags: ['docker.io/library/api:2'], layers: [[{ name: 'b', content: 'b' }]] },
      { tags: ['worker:3'], layers: [[{ name: 'c', content: 'c' }]] },
    ];
    const ids = await writeDockerArchive(path, images);
    const result = await importIntoRegistry(store, path, {
      overrides: [
        { image: 0, repository: 'team/web', tags: ['1.0', 'latest'] },
        { image: 'api:2', repository: 'team/api' },
        { image: ids[2], tags: ['w3'] },
      ],
    });
    expect(result.images.map((i) => `${i.repository}:${i.tags.join(',')}`)).toEqual(['team/web:1.0,latest', 'team/api:2', 'worker:w3']);
    expect(await store.tags('team/web')).toEqual(['1.0', 'latest']);
    expect(await store.tags('team/api')).toEqual(['2']);
    expect(await store.tags('worker')).toEqual(['w3']);
    expect(await store.repositories()).toEqual(['team/api', 'team/web', 'worker']);
  });

  it('refuses an override that names no image, or one image twice, and leaves nothing behind', async () => {
    const path = join(dir, `bad-map${n}.tar`);
    await writeDockerArchive(path, [
      { tags: ['one:1'], layers: [[{ name: 'a', content: 'a' }]] },
      { tags: ['two:1'], layers: [[{ name: 'b', content: 'b' }]] },
    ]);
    await expect(importIntoRegistry(store, path, { overrides: [{ image: 5, repository: 'x' }] })).rejects.toThrow(/No image in the archive matches #6.*1 to 2/);
    await expect(importIntoRegistry(store, path, { overrides: [{ image: 'three:1', repository: 'x' }] })).rejects.toThrow(/No image in the archive matches "three:1"/);
    await expect(importIntoRegistry(store, path, { overrides: [{ image: 0, repository: 'x' }, { image: 'one:1', repository: 'y' }] })).rejects.toThrow(/chosen twice/);
    await expect(importIntoRegistry(store, path, { overrides: [{ image: 0, repository: 'Bad Name' }] })).rejects.toThrow(/Invalid repository "Bad Name"/);
    expect(await store.repositories()).toEqual([]);
    expect(blobFiles()).toEqual([]);
  });

  it('a Docker 25+ docker save: one image however many tags index.json lists, its own manifest digest kept', async () => {
    const legacy = join(dir, `legacy${n}.tar`);
    const [id] = await writeDockerArchive(legacy, [img]);
    const archive = join(dir, `d25-${n}.tar`);
    const [image] = await writeDocker25Archive(legacy, archive);
    expect(image.imageNames).toEqual(['docker.io/library/web:1.2', 'docker.io/library/web:stable']);
    const preview = await previewArchive(archive);
    expect(preview.format).toBe('docker-oci');
    // index.json lists the image twice (once per tag) and manifest.json names it again: one image, each name once.
    expect(preview.images).toHaveLength(1);
    expect(preview.images[0]).toMatchObject({ digest: image.manifestDigest, digestPreserved: true, tags: ['docker.io/library/web:1.2', 'docker.io/library/web:stable'] });
    const result = await importIntoRegistry(store, archive, {});
    expect(result.images).toEqual([{ repository: 'web', tags: ['1.2', 'stable'], digest: image.manifestDigest }]);
    expect((await store.getManifest('web', 'stable')).digest).toBe(image.manifestDigest);
    expect(JSON.parse((await store.getManifest('web', '1.2')).bytes.toString()).config.digest).toBe(id);
  });
});
