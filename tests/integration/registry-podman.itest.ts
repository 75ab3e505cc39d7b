/**
 * podman push/pull (--tls-verify=false) against a registry. Podman runs rootful with its own temp
 * --root/--runroot and the vfs driver (no overlay mounts needed inside a container), so it never touches
 * a system image store. The image comes from a `docker save` archive; podman's image ID is the config
 * digest, so "same ID after the round trip" means the registry kept the config byte for byte.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getManifest } from '../support/registry-client';
import { buildTestImage, docker, dockerUnavailable, removeImages, run, toolUnavailable, uniqueSuffix } from '../support/registry-images';
import { startRegistryTarget, targetCases, type RegistryTarget } from '../support/registry-target';

const missing = toolUnavailable('podman') ?? dockerUnavailable();

describe.each(targetCases(['berth', 'reference'], missing))('podman ↔ $label', ({ name, unavailable }) => {
  const suffix = uniqueSuffix();
  const local = `berth-test-regpodman-${suffix}:v1`;
  const repo = `berth-test/podman-${suffix}`;
  let target: RegistryTarget;
  let work: string;
  let id: string;

  const podman = (args: string[]) =>
    run('podman', ['--root', join(work, 'root'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args]);

  beforeAll(async () => {
    if (unavailable) return;
    target = await startRegistryTarget(name);
    work = await mkdtemp(join(tmpdir(), 'berth-test-podman-'));
    await buildTestImage(local, { layers: 3 });
    docker(['save', '-o', join(work, 'image.tar'), local]);
    removeImages([local]);
    podman(['pull', '-q', `docker-archive:${join(work, 'image.tar')}`]);
    id = podman(['image', 'inspect', '--format', '{{.Id}}', `localhost/${local}`]).stdout.trim();
  });

  afterAll(async () => {
    if (unavailable) return;
    removeImages([local]);
    await target?.stop();
    if (work) {
      run('podman', ['--root', join(work, 'root'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', 'system', 'reset', '--force'], { allowFailure: true });
      await rm(work, { recursive: true, force: true });
    }
  });

  it.skipIf(unavailable)('push, remove, pull back: same image ID', async () => {
    const ref = `${target.hostPort}/${repo}:v1`;
    podman(['push', '--tls-verify=false', `localhost/${local}`, `docker://${ref}`]);
    expect((await getManifest(target.url, repo, 'v1')).status).toBe(200);
    podman(['rmi', '--force', id]);
    expect(podman(['images', '-q']).stdout.trim()).toBe('');
    podman(['pull', '-q', '--tls-verify=false', ref]);
    expect(podman(['image', 'inspect', '--format', '{{.Id}}', ref]).stdout.trim()).toBe(id);
  });

  it.skipIf(unavailable)('push as OCI (--format oci) and pull it by digest', async () => {
    const ref = `${target.hostPort}/${repo}:oci`;
    podman(['push', '--tls-verify=false', '--format', 'oci', '--digestfile', join(work, 'digest'), `${target.hostPort}/${repo}:v1`, `docker://${ref}`]);
    const manifest = await getManifest(target.url, repo, 'oci');
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const digest = run('cat', [join(work, 'digest')]).stdout.trim();
    expect(digest).toBe(manifest.digest);
    podman(['rmi', '--all', '--force']);
    podman(['pull', '-q', '--tls-verify=false', `${target.hostPort}/${repo}@${digest}`]);
    // Converting to OCI rewrites the config, so the ID is the config digest the OCI manifest names.
    const configDigest = JSON.parse(manifest.bytes.toString()).config.digest as string;
    expect(podman(['images', '-q', '--no-trunc']).stdout.trim()).toBe(configDigest);
  });
});
