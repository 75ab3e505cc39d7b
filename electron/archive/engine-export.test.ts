import { createReadStream, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDockerArchive, type FixtureImage } from '../../tests/fixtures/archives';
import { writeOciFromDockerSave } from './engine-export';
import { previewArchive } from './preview';

const dir = mkdtempSync(join(tmpdir(), 'berth-engine-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const images: FixtureImage[] = [
  { tags: ['web:1', 'web:latest'], layers: [[{ name: 'big', size: 3_000_000, seed: 'w' }], [{ name: 'etc/x', content: 'x' }]] },
  { tags: [], layers: [[{ name: 'a', content: 'untagged' }]] },
];

describe('writeOciFromDockerSave', () => {
  it('turns a docker save stream into an OCI archive: the config and layers as they were, OCI media types, every name', async () => {
    const save = join(dir, 'save.tar');
    const ids = await writeDockerArchive(save, images);
    const out = join(dir, 'out', 'oci.tar');
    mkdirSync(join(dir, 'out'));
    const original = await previewArchive(save);
    let read = 0;
    let written = 0;
    const { size, names } = await writeOciFromDockerSave(createReadStream(save), out, { onRead: (n) => (read = n), onProgress: (d) => (written = d) });
    expect(names).toEqual(['web:1', 'web:latest']);
    expect(read).toBeGreaterThan(3_000_000);
    expect(written).toBeGreaterThan(3_000_000);
    const p = await previewArchive(out);
    expect(p.format).toBe('docker-oci');
    expect(p.images.map((i) => i.tags)).toEqual([['web:1', 'web:latest'], []]);
    expect(p.images.every((i) => i.digestPreserved && i.mediaType === 'application/vnd.oci.image.manifest.v1+json')).toBe(true);
    expect(p.images.map((i) => i.platforms[0].configDigest)).toEqual(ids);
    // The same layer bytes: digests equal the legacy archive's, only the media type says OCI.
    expect(p.images[0].platforms[0].layers.map((l) => l.digest)).toEqual(original.images[0].platforms[0].layers.map((l) => l.digest));
    expect(p.images[0].platforms[0].layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar')).toBe(true);
    expect(size).toBeGreaterThan(3_000_000);
    // Nothing else beside the output: the spool is gone.
    expect(readdirSync(join(dir, 'out'))).toEqual(['oci.tar']);
  });

  it('cancelled half-way: no archive, no spool, no temp file', async () => {
    const save = join(dir, 'save2.tar');
    await writeDockerArchive(save, images);
    const outDir = mkdtempSync(join(dir, 'cancel-'));
    const controller = new AbortController();
    const done = writeOciFromDockerSave(createReadStream(save, { highWaterMark: 64 << 10 }), join(outDir, 'x.tar'), {
      signal: controller.signal,
      onRead: (n) => n > 1_000_000 && controller.abort(),
    });
    await expect(done).rejects.toThrow();
    expect(readdirSync(outDir)).toEqual([]);
  });
});
