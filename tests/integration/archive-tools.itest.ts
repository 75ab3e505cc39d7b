/**
 * Archives with the real tools: `docker save` from the real engine, archives written by skopeo, an OCI
 * multi-platform layout; imported with the `berth import` CLI handed to a running `berth registry`
 * (the data directory's lock holder), pulled back with docker and skopeo; exported with `berth export`
 * and read by `docker load` and `skopeo copy` into the reference registry.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPrivateEngine } from '../support/images';
import { startReferenceRegistry, type ReferenceRegistry } from '../support/reference-registry';
import { buildTestImage, docker, dockerUnavailable, imageId, removeImages, toolUnavailable, uniqueSuffix, writeMultiPlatformLayout } from '../support/registry-images';
import { runBerthAsync, startBerthRegistry, type RegistryTarget } from '../support/registry-target';
import { berthCliOn, inspect, skopeo } from '../support/archive-cli';

const unavailable = dockerUnavailable() ?? toolUnavailable('skopeo') ?? toolUnavailable('docker-registry');
const work = mkdtempSync(join(tmpdir(), 'berth-archive-tools-'));
const suffix = uniqueSuffix();
const image = `berth-test-archive-${suffix}:1`;
const saved = join(work, 'saved.tar');
let originalId = '';
let berth: RegistryTarget;
let reference: ReferenceRegistry;
const pulled: string[] = [];

const berthCli = berthCliOn(() => berth);

describe.skipIf(unavailable)('archives with the real tools', () => {
  beforeAll(async () => {
    // Layers over 1 MiB of random bytes: gzip on import writes several gzip members per layer, in stored
    // deflate blocks Berth writes itself (random bytes do not compress), which docker must read.
    originalId = await buildTestImage(image, { layers: 3, layerSize: 5 * 1024 * 1024 });
    docker(['save', '-o', saved, image]);
    berth = await startBerthRegistry({ dataDir: join(work, 'data') });
    reference = await startReferenceRegistry();
  });

  afterAll(async () => {
    await berth?.stop();
    await reference?.stop();
    // Removing engine images is for the private engine only; elsewhere our berth-test- images stay.
    if (onPrivateEngine) removeImages([image, ...pulled]);
    rmSync(work, { recursive: true, force: true });
  });

  it('docker save → berth import (handed to the running instance) → docker pull: the same image ID', async () => {
    const r = await berthCli('import', saved, '--repo', 'rt/berth-test-app', '--tag', 'v1');
    expect(r.stderr).toMatch(/Handing the work to berth registry/);
    expect(r.stdout).toMatch(/^rt\/berth-test-app:v1 {2}sha256:[0-9a-f]{64}$/m);
    const ref = `${berth.hostPort}/rt/berth-test-app:v1`;
    if (onPrivateEngine) removeImages([image]); // make the engine fetch every layer from Berth
    docker(['pull', ref]);
    pulled.push(ref);
    expect(imageId(ref)).toBe(originalId);
  });

  it('with no Berth running on the data directory, berth import takes the lock and does the work itself', async () => {
    const own = join(work, 'own-data');
    const r = await runBerthAsync(['import', saved, '--repo', 'local/berth-test-app', '--data', own]);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/Handing the work/);
    expect(r.stdout).toMatch(/^local\/berth-test-app:1 {2}sha256:/m);
    const out = join(work, 'own-export.tar');
    const e = await runBerthAsync(['export', 'local/berth-test-app:1', '-o', out, '--format', 'docker', '--data', own]);
    expect(e.status).toBe(0);
    const preview = await runBerthAsync(['import', out, '--preview', '--data', own]);
    expect(preview.stdout).toContain('local/berth-test-app:1');
  });

  it('gzip on the way in: layers stored compressed, the pulled image is still the original', async () => {
    await berthCli('import', saved, '--repo', 'rt/berth-test-gz', '--tag', 'v1', '--gzip');
    const manifest = inspect(`docker://${berth.hostPort}/rt/berth-test-gz:v1`, '--raw');
    expect(manifest.layers.every((l: { mediaType: string }) => l.mediaType.endsWith('.tar.gzip'))).toBe(true);
    const ref = `${berth.hostPort}/rt/berth-test-gz:v1`;
    docker(['pull', ref]);
    pulled.push(ref);
    expect(imageId(ref)).toBe(originalId);
  });

  it('skopeo docker-archive: → import → skopeo inspect shows the original layer and config digests', async () => {
    const archive = join(work, 'skopeo-docker.tar');
    skopeo('copy', `docker-archive:${saved}`, `docker-archive:${archive}:berth-test/skopeo:2`);
    await berthCli('import', archive);
    const original = inspect(`docker-archive:${archive}`);
    const imported = inspect(`docker://${berth.hostPort}/berth-test/skopeo:2`);
    expect(imported.Layers).toEqual(original.Layers);
    const originalConfig = inspect(`docker-archive:${archive}`, '--raw').config.digest;
    expect(inspect(`docker://${berth.hostPort}/berth-test/skopeo:2`, '--raw').config.digest).toBe(originalConfig);
  });

  it('skopeo oci-archive: → import → the manifest digest is the original (pull by digest works)', async () => {
    const archive = join(work, 'skopeo-oci.tar');
    skopeo('copy', `docker-archive:${saved}`, `oci-archive:${archive}:berth-test/oci:3`);
    const original = inspect(`oci-archive:${archive}`);
    await berthCli('import', archive, '--repo', 'oci/berth-test-app', '--tag', '3');
    const imported = inspect(`docker://${berth.hostPort}/oci/berth-test-app:3`);
    expect(imported.Digest).toBe(original.Digest);
    expect(imported.Layers).toEqual(original.Layers);
    const byDigest = inspect(`docker://${berth.hostPort}/oci/berth-test-app@${original.Digest}`);
    expect(byDigest.Digest).toBe(original.Digest);
  });

  it('a multi-platform OCI archive keeps every platform, and exports back whole', async () => {
    const layoutDir = join(work, 'multi-layout');
    const layout = await writeMultiPlatformLayout(layoutDir, 'multi', [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
    const archive = join(work, 'multi.tar');
    execFileSync('tar', ['-C', layoutDir, '-cf', archive, '.']);
    await berthCli('import', archive, '--repo', 'multi/berth-test-app');
    const index = inspect(`docker://${berth.hostPort}/multi/berth-test-app:multi`, '--raw');
    expect(index.manifests.map((m: { digest: string }) => m.digest)).toEqual(layout.manifests.map((m) => m.digest));

    const exported = join(work, 'multi-export.tar');
    await berthCli('export', 'multi/berth-test-app:multi', '-o', exported, '--format', 'oci');
    skopeo('copy', '--all', '--dest-tls-verify=false', `oci-archive:${exported}`, `docker://${reference.hostPort}/multi/berth-test-app:multi`);
    const there = inspect(`docker://${reference.hostPort}/multi/berth-test-app:multi`, '--raw');
    expect(there.manifests).toHaveLength(3);
    // The index digest survives import and export: pulls by digest work on both registries.
    expect(inspect(`docker://${berth.hostPort}/multi/berth-test-app:multi`).Digest).toBe(layout.index.digest);
    expect(inspect(`docker://${reference.hostPort}/multi/berth-test-app:multi`).Digest).toBe(layout.index.digest);
    const armConfig = inspect(`docker://${reference.hostPort}/multi/berth-test-app:multi`, '--override-arch', 'arm', '--override-variant', 'v7');
    expect(armConfig.Architecture).toBe('arm');
  });

  it('berth export --format docker → docker load gives the original image', async () => {
    const exported = join(work, 'export-docker.tar');
    const r = await berthCli('export', 'rt/berth-test-app:v1', '-o', exported, '--format', 'docker');
    expect(r.stdout).toMatch(/Wrote .*export-docker.tar \(docker, \d+ bytes\)/);
    if (onPrivateEngine) removeImages([image, `${berth.hostPort}/rt/berth-test-app:v1`]);
    const out = docker(['load', '-i', exported]).stdout;
    expect(out).toMatch(/Loaded image: rt\/berth-test-app:v1/);
    pulled.push('rt/berth-test-app:v1');
    expect(imageId('rt/berth-test-app:v1')).toBe(originalId);
  });

  it('berth export --format oci → skopeo copy oci-archive: into the reference registry, and docker load reads it too', async () => {
    const exported = join(work, 'export-oci.tar');
    await berthCli('export', 'oci/berth-test-app:3', '-o', exported);
    skopeo('copy', '--dest-tls-verify=false', `oci-archive:${exported}`, `docker://${reference.hostPort}/from-berth/app:3`);
    const ours = inspect(`docker://${berth.hostPort}/oci/berth-test-app:3`);
    const theirs = inspect(`docker://${reference.hostPort}/from-berth/app:3`);
    expect(theirs.Digest).toBe(ours.Digest);
    const out = docker(['load', '-i', exported]).stdout;
    expect(out).toMatch(/Loaded image: oci\/berth-test-app:3/);
    pulled.push('oci/berth-test-app:3');
    // skopeo rewrote the config when it made the OCI archive; the image ID is that config's digest.
    expect(imageId('oci/berth-test-app:3')).toBe(inspect(`docker://${berth.hostPort}/oci/berth-test-app:3`, '--raw').config.digest);
  });

  it('the engine as the other end: berth import --engine (docker load) and berth export --engine (docker save)', async () => {
    const exported = join(work, 'engine-save.tar');
    // rt/berth-test-app:v1 is in the engine on every engine: the docker-format export test loaded it.
    const r = await berthCli('export', '--engine', 'rt/berth-test-app:v1', '-o', exported);
    expect(r.stdout).toMatch(/Wrote .*engine-save.tar/);
    const preview = await berthCli('import', exported, '--preview');
    expect(preview.stdout).toContain('rt/berth-test-app:v1');
    const loaded = await berthCli('import', exported, '--engine');
    expect(loaded.stdout).toContain('Loaded rt/berth-test-app:v1');
    expect(imageId('rt/berth-test-app:v1')).toBe(originalId);
  });
});
