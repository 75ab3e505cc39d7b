/**
 * The archive formats that need the engine: `berth export --engine --format oci` (docker save converted to
 * an OCI archive) read back by skopeo, the reference registry and docker load; a multi-image docker save
 * imported with one repository and tags per image (`--map`); and a Docker 25+ style docker save (OCI layout +
 * manifest.json), rebuilt from a real docker save because the engine here is 20.10, imported with its
 * digests and names kept.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDocker25Archive } from '../fixtures/archives';
import { onPrivateEngine } from '../support/images';
import { startReferenceRegistry, type ReferenceRegistry } from '../support/reference-registry';
import { buildTestImage, docker, dockerUnavailable, imageId, removeImages, run, toolUnavailable, uniqueSuffix } from '../support/registry-images';
import { runBerthAsync, startBerthRegistry, type RegistryTarget } from '../support/registry-target';
import { berthCliOn, inspect, skopeo } from '../support/archive-cli';

const unavailable = dockerUnavailable() ?? toolUnavailable('skopeo') ?? toolUnavailable('docker-registry');
const work = mkdtempSync(join(tmpdir(), 'berth-archive-formats-'));
const suffix = uniqueSuffix();
const first = `berth-test-fmt-a-${suffix}:1`;
const second = `berth-test-fmt-b-${suffix}:2`;
const ids: Record<string, string> = {};
let berth: RegistryTarget;
let reference: ReferenceRegistry;
const made: string[] = [];

const berthCli = berthCliOn(() => berth);

describe.skipIf(unavailable)('archive formats with the engine', () => {
  beforeAll(async () => {
    ids[first] = await buildTestImage(first, { layers: 2, layerSize: 3 * 1024 * 1024 });
    ids[second] = await buildTestImage(second, { layers: 1, layerSize: 64 * 1024 });
    made.push(first, second);
    berth = await startBerthRegistry({ dataDir: join(work, 'data') });
    reference = await startReferenceRegistry();
  });

  afterAll(async () => {
    await berth?.stop();
    await reference?.stop();
    if (onPrivateEngine) removeImages(made);
    rmSync(work, { recursive: true, force: true });
  });

  it('berth export --engine --format oci: skopeo reads it, copies it into the reference registry, docker load gives the same image ID', async () => {
    const out = join(work, 'engine.oci.tar');
    const r = await berthCli('export', '--engine', first, '-o', out, '--format', 'oci');
    expect(r.stdout).toMatch(/Wrote .*engine\.oci\.tar \(oci, \d+ bytes\)/);
    expect(run('tar', ['-tf', out]).stdout.split('\n')).toEqual(expect.arrayContaining(['oci-layout', 'index.json', 'manifest.json']));

    // The config is the engine's own (its digest is the image ID); layers are the uncompressed tars, OCI-typed.
    const raw = inspect(`oci-archive:${out}`, '--raw');
    expect(raw.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(raw.config.digest).toBe(ids[first]);
    expect(raw.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar']);
    const diffIds = JSON.parse(docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', first]).stdout);
    expect(raw.layers.map((l: { digest: string }) => l.digest)).toEqual(diffIds);

    skopeo('copy', '--dest-tls-verify=false', `oci-archive:${out}`, `docker://${reference.hostPort}/from-engine/app:1`);
    expect(inspect(`docker://${reference.hostPort}/from-engine/app:1`, '--raw').config.digest).toBe(ids[first]);

    if (onPrivateEngine) removeImages([first]);
    const loaded = docker(['load', '-i', out]).stdout;
    expect(loaded).toContain(`Loaded image: ${first}`);
    expect(imageId(first)).toBe(ids[first]);
  });

  it('berth export --engine --format docker stays the engine\'s own docker save', async () => {
    const out = join(work, 'engine.docker.tar');
    const r = await berthCli('export', '--engine', first, '-o', out, '--format', 'docker');
    expect(r.stdout).toMatch(/\(docker, \d+ bytes\)/);
    const preview = await berthCli('import', out, '--preview');
    expect(preview.stdout.split('\n')[0]).toMatch(/^docker-archive, 1 image/);
    expect(run('tar', ['-tf', out]).stdout).not.toContain('index.json');
  });

  it('a multi-image docker save: --map gives each image its own repository and tags', async () => {
    const saved = join(work, 'two.tar');
    docker(['save', '-o', saved, first, second]);
    const preview = await berthCli('import', saved, '--preview');
    const position = preview.stdout.split('\n').find((l) => l.includes(first))!.match(/^#(\d+)/)![1];
    const r = await berthCli('import', saved, '--map', `#${position}=maps/first:a,b`, '--map', `${second}=maps/second`);
    expect(r.stdout).toMatch(/^maps\/first:a,b {2}sha256:/m);
    expect(r.stdout).toMatch(/^maps\/second:2 {2}sha256:/m);
    expect(inspect(`docker://${berth.hostPort}/maps/first:b`, '--raw').config.digest).toBe(ids[first]);
    expect(inspect(`docker://${berth.hostPort}/maps/second:2`, '--raw').config.digest).toBe(ids[second]);
    const bad = await runBerthAsync(['import', saved, '--map', 'nothing:9=x/y', '--data', berth.dataDir!]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/No image in the archive matches "nothing:9"/);
  });

  it('a Docker 25+ docker save (rebuilt from a real one): digests kept, names from index.json, docker pull gives the same image ID', async () => {
    const legacy = join(work, 'legacy.tar');
    docker(['save', '-o', legacy, first]);
    const archive = join(work, 'docker25.tar');
    const [image] = await writeDocker25Archive(legacy, archive);
    expect(image.imageNames).toEqual([`docker.io/library/${first}`]);
    const preview = await berthCli('import', archive, '--preview');
    expect(preview.stdout.split('\n')[0]).toMatch(/^docker-oci, 1 image/);
    expect(preview.stdout).toContain(image.manifestDigest);

    const r = await berthCli('import', archive);
    const [repo, tag] = first.split(':');
    expect(r.stdout).toContain(`${repo}:${tag}  ${image.manifestDigest}`);
    // The registry keeps the archive's own manifest: same digest, pull by digest works.
    expect(inspect(`docker://${berth.hostPort}/${repo}:${tag}`).Digest).toBe(image.manifestDigest);
    expect(inspect(`docker://${berth.hostPort}/${repo}@${image.manifestDigest}`, '--raw').config.digest).toBe(ids[first]);
    // The legacy v1 JSONs Docker 25 keeps in blobs/ are referenced by nothing: the import did not keep them.
    expect(image.v1JsonDigests).toHaveLength(2);
    for (const d of image.v1JsonDigests) {
      const hex = d.slice('sha256:'.length);
      expect(existsSync(join(berth.dataDir!, 'blobs', 'sha256', hex.slice(0, 2), hex)), d).toBe(false);
    }
    const ref = `${berth.hostPort}/${repo}:${tag}`;
    if (onPrivateEngine) removeImages([first]); // every layer must come from Berth
    docker(['pull', ref]);
    made.push(ref);
    expect(imageId(ref)).toBe(ids[first]);
  });
});
