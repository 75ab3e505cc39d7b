import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkStore } from './fsck';
import { RegistryStore } from './store';

let dir: string;
let store: RegistryStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-fsck-'));
  store = new RegistryStore({ root: dir });
  await store.open();
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A one-layer image pushed the way a client does: blobs, links, then the manifest under a tag. */
async function pushImage(repo: string, tag: string, seed: string): Promise<{ manifest: string; config: string; layer: string }> {
  const layer = Buffer.from(`layer bytes of ${seed}\n`.repeat(100));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layer)] } }));
  for (const b of [layer, config]) {
    await store.writeBlob([b], { expectedDigest: digestOf(b) });
    await store.linkBlob(repo, digestOf(b));
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.length }],
    }),
  );
  const { digest } = await store.putManifest(repo, tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
  return { manifest: digest, config: digestOf(config), layer: digestOf(layer) };
}

describe('checkStore (berth fsck)', () => {
  it('a healthy store: every blob re-hashed, every manifest checked, nothing to report', async () => {
    await pushImage('team/a', 'v1', 'a');
    await pushImage('team/b', 'v1', 'b');
    const report = await checkStore(store);
    expect(report.problems).toEqual([]);
    expect(report.blobsChecked).toBe(6); // two layers, two configs, two manifests
    expect(report.manifestsChecked).toBe(2);
    expect(report.remaining).toBe(0);
  });

  it('a corrupt layer: reported with what depends on it; repair removes the bytes and the link, and says the image must be pushed again', async () => {
    const img = await pushImage('team/a', 'v1', 'a');
    await writeFile(store.blobs.path(img.layer), 'not the layer any more');
    const found = await checkStore(store);
    expect(found.problems.map((p) => p.kind).sort()).toEqual(['corrupt-blob', 'dangling-link', 'missing-blob']);
    expect(found.problems.every((p) => !p.repaired)).toBe(true);
    expect(await stat(store.blobs.path(img.layer))).toBeTruthy(); // a check changes nothing

    const repaired = await checkStore(store, { repair: true });
    const byKind = Object.fromEntries(repaired.problems.map((p) => [p.kind, p]));
    expect(byKind['corrupt-blob']!.repaired).toBe(true);
    expect(byKind['dangling-link']!.repaired).toBe(true);
    expect(byKind['missing-blob']!.repaired).toBe(false); // the bytes are gone: only a new push helps
    expect(byKind['missing-blob']!.message).toMatch(/push the image again/);
    await expect(stat(store.blobs.path(img.layer))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(repaired.remaining).toBe(1);
  });

  it('a manifest whose own blob is gone: repair drops the manifest and so its tags', async () => {
    const img = await pushImage('team/a', 'v1', 'a');
    await pushImage('team/a', 'v2', 'other');
    await rm(store.blobs.path(img.manifest));
    const found = await checkStore(store);
    expect(found.problems).toEqual([expect.objectContaining({ kind: 'missing-manifest-blob', digest: img.manifest, repository: 'team/a', repaired: false })]);
    expect(await store.tags('team/a')).toEqual(['v1', 'v2']);
    const repaired = await checkStore(store, { repair: true });
    expect(repaired.problems[0]).toMatchObject({ kind: 'missing-manifest-blob', repaired: true });
    expect(await store.tags('team/a')).toEqual(['v2']);
    expect((await checkStore(store)).problems).toEqual([]);
  });

  it('a file under blobs/ not named like a blob is stray: reported, and removed on repair', async () => {
    await pushImage('team/a', 'v1', 'a');
    const stray = join(store.blobs.blobsDir, 'sha256', 'zz-not-a-digest');
    await writeFile(stray, 'x');
    expect((await checkStore(store)).problems).toEqual([expect.objectContaining({ kind: 'stray-file', repaired: false })]);
    expect((await checkStore(store, { repair: true })).problems).toEqual([expect.objectContaining({ kind: 'stray-file', repaired: true })]);
    await expect(stat(stray)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
