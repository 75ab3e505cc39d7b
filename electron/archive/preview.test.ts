import { mkdtempSync, rmSync, writeFileSync, readFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BerthError } from '../../shared/errors';
import { digestOf, writeDockerArchive, writeRawTar, type FixtureImage } from '../../tests/fixtures/archives';
import { previewArchive } from './preview';

const dir = mkdtempSync(join(tmpdir(), 'berth-archive-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (ext = 'tar') => join(dir, `a${n++}.${ext}`);

const app: FixtureImage = {
  tags: ['example.com/team/app:1.0', 'example.com/team/app:latest'],
  cmd: ['/app'],
  layers: [[{ name: 'bin/app', size: 70_000, seed: 'app' }], [{ name: 'etc/conf', content: 'x=1\n' }]],
};

async function expectInvalid(path: string, pattern: RegExp) {
  const err = await previewArchive(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BerthError);
  expect((err as BerthError).code).toBe('ARCHIVE_INVALID');
  expect((err as BerthError).message).toMatch(pattern);
}

describe('previewArchive: legacy docker-archive', () => {
  it('reads manifest.json that comes after the layers, and reports tags, platform, layers and config', async () => {
    const path = file();
    const [id] = await writeDockerArchive(path, [app]);
    const preview = await previewArchive(path);
    expect(preview.format).toBe('docker-archive');
    expect(preview.compressed).toBe(false);
    expect(preview.size).toBe(statSync(path).size);
    expect(preview.images).toHaveLength(1);
    const [img] = preview.images;
    expect(img.tags).toEqual(app.tags);
    expect(img.digestPreserved).toBe(false);
    expect(img.platforms[0].platform).toBe('linux/amd64');
    expect(img.platforms[0].configDigest).toBe(id);
    expect(img.platforms[0].config?.cmd).toEqual(['/app']);
    expect(img.platforms[0].layers).toHaveLength(2);
    expect(img.platforms[0].layers[0].mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar');
    expect(img.platforms[0].layers[0].size).toBeGreaterThan(70_000);
  });

  it('reads gzip-compressed archives and several images sharing a layer', async () => {
    const path = file('tar.gz');
    const other: FixtureImage = { tags: ['other:2'], architecture: 'arm64', layers: [app.layers[0], [{ name: 'x', content: 'y' }]] };
    await writeDockerArchive(path, [app, other], { gzip: true });
    const preview = await previewArchive(path);
    expect(preview.compressed).toBe(true);
    expect(preview.images.map((i) => i.tags)).toEqual([app.tags, ['other:2']]);
    expect(preview.images[1].platforms[0].platform).toBe('linux/arm64');
    expect(preview.images[1].platforms[0].layers[0].digest).toBe(preview.images[0].platforms[0].layers[0].digest);
  });

  it('follows a symlinked layer (docker save writes shared layers once) but refuses links that leave the archive', async () => {
    const layer = 'hello';
    const config = JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [digestOf(layer), digestOf(layer)] } });
    const cfg = `${digestOf(config).slice(7)}.json`;
    const manifest = JSON.stringify([{ Config: cfg, RepoTags: ['s:1'], Layers: ['a/layer.tar', 'b/layer.tar'] }]);
    const good = file();
    await writeRawTar(good, [
      { name: 'a/layer.tar', content: layer },
      { name: 'b/layer.tar', type: 'symlink', linkname: '../a/layer.tar' },
      { name: cfg, content: config },
      { name: 'manifest.json', content: manifest },
    ]);
    const preview = await previewArchive(good);
    expect(preview.images[0].platforms[0].layers.map((l) => l.digest)).toEqual([digestOf(layer), digestOf(layer)]);

    const outside = file();
    await writeRawTar(outside, [{ name: 'b/layer.tar', type: 'symlink', linkname: '../../etc/passwd' }]);
    await expectInvalid(outside, /points outside the archive/);
    const hard = file();
    await writeRawTar(hard, [{ name: 'b/layer.tar', type: 'link', linkname: '../etc/passwd' }]);
    await expectInvalid(hard, /points outside the archive/);
    const abs = file();
    await writeRawTar(abs, [{ name: 'b/layer.tar', type: 'symlink', linkname: '/etc/passwd' }]);
    await expectInvalid(abs, /points outside the archive/);
  });
});

describe('previewArchive: bad input', () => {
  it('refuses a file that is not a tar', async () => {
    const path = file();
    writeFileSync(path, 'this is a text file, not an archive\n'.repeat(40));
    await expectInvalid(path, /not a tar archive/);
  });

  it('refuses gzip of garbage and a truncated gzip', async () => {
    const garbage = file('gz');
    writeFileSync(garbage, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(600, 0x55)]));
    await expectInvalid(garbage, /gzip/);
    const truncated = file('gz');
    await writeDockerArchive(truncated, [app], { gzip: true });
    truncateSync(truncated, Math.floor(statSync(truncated).size / 2));
    await expectInvalid(truncated, /truncated/);
    const gzText = file('gz');
    writeFileSync(gzText, gzipSync(Buffer.from('not a tar at all '.repeat(100))));
    await expectInvalid(gzText, /not a tar archive inside the gzip/);
  });

  it('refuses a truncated tar', async () => {
    const path = file();
    await writeDockerArchive(path, [app]);
    truncateSync(path, 40_000);
    await expectInvalid(path, /truncated/);
  });

  it('refuses ../ and absolute entry names', async () => {
    const up = file();
    await writeRawTar(up, [{ name: '../evil', content: 'x' }]);
    await expectInvalid(up, /climbs out/);
    const inner = file();
    await writeRawTar(inner, [{ name: 'a/../../evil', content: 'x' }]);
    await expectInvalid(inner, /climbs out/);
    const abs = file();
    await writeRawTar(abs, [{ name: '/etc/evil', content: 'x' }]);
    await expectInvalid(abs, /absolute path/);
  });

  it('refuses duplicate entries', async () => {
    const path = file();
    await writeRawTar(path, [
      { name: 'a/layer.tar', content: 'one' },
      { name: './a/layer.tar', content: 'two' },
    ]);
    await expectInvalid(path, /twice/);
  });

  it('refuses manifest.json naming a missing layer', async () => {
    const config = JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [digestOf('x')] } });
    const cfg = `${digestOf(config).slice(7)}.json`;
    const path = file();
    await writeRawTar(path, [
      { name: cfg, content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: cfg, RepoTags: ['m:1'], Layers: ['gone/layer.tar'] }]) },
    ]);
    await expectInvalid(path, /names the layer "gone\/layer.tar", which is not in the archive/);
  });

  it('refuses a config whose content does not match the digest in its name', async () => {
    const config = JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] } });
    const wrong = `${digestOf('something else').slice(7)}.json`;
    const path = file();
    await writeRawTar(path, [
      { name: wrong, content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: wrong, RepoTags: ['c:1'], Layers: [] }]) },
    ]);
    await expectInvalid(path, /damaged: its content hashes to/);
  });

  it('refuses a layer whose bytes do not match the config diff_id', async () => {
    const config = JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [digestOf('original')] } });
    const cfg = `${digestOf(config).slice(7)}.json`;
    const path = file();
    await writeRawTar(path, [
      { name: 'l/layer.tar', content: 'tampered' },
      { name: cfg, content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: cfg, RepoTags: ['c:1'], Layers: ['l/layer.tar'] }]) },
    ]);
    await expectInvalid(path, /does not match the image config/);
  });

  it('refuses a tar that is not an image archive, and too many entries', async () => {
    const plain = file();
    await writeRawTar(plain, [{ name: 'readme.txt', content: 'hi' }]);
    await expectInvalid(plain, /neither manifest.json .* nor index.json/);
    const many = file();
    await writeRawTar(many, Array.from({ length: 10_001 }, (_, i) => ({ name: `f${i}/VERSION`, content: '' })));
    await expectInvalid(many, /more than 10,000 entries/);
  });

  it('says so when the file does not exist', async () => {
    await expect(previewArchive(join(dir, 'nope.tar'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(readFileSync).toBeDefined();
  });
});

describe('previewArchive: OCI layout bombs', () => {
  it('refuses indexes that list the same child over and over (exponential walk) quickly', async () => {
    const entries: Array<{ name: string; content: string }> = [{ name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' }];
    const blob = (content: string) => {
      entries.push({ name: `blobs/sha256/${digestOf(content).slice(7)}`, content });
      return { digest: digestOf(content), size: Buffer.byteLength(content) };
    };
    const config = blob(JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] } }));
    let child = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...blob(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [] })),
    };
    // 6 levels of indexes, each naming its child 10 times: 10^6 walks if nothing stops it.
    for (let level = 0; level < 6; level++) {
      const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: Array.from({ length: 10 }, () => child) });
      child = { mediaType: 'application/vnd.oci.image.index.v1+json', ...blob(index) };
    }
    entries.push({ name: 'index.json', content: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [child] }) });
    const path = file();
    await writeRawTar(path, entries);
    const started = Date.now();
    await expectInvalid(path, /more than 10000 manifests/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
