/**
 * The real docker CLI through the real dockerd against a registry: push a multi-layer image, remove it,
 * pull it back with the same image ID; push to a second repository (cross-repository mount); two tags;
 * pull by digest. Runs on Berth and on the reference registry, which proves each check can fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getManifest, listTags } from '../support/registry-client';
import { buildTestImage, docker, dockerUnavailable, imageId, pushedDigest, removeImages, uniqueSuffix } from '../support/registry-images';
import { startRegistryTarget, targetCases, type RegistryTarget } from '../support/registry-target';

const engineMissing = dockerUnavailable();

describe.each(targetCases(['berth', 'reference'], engineMissing))('docker CLI ↔ $label', ({ name, unavailable }) => {
  const suffix = uniqueSuffix();
  const local = `berth-test-regdocker-${suffix}:v1`;
  const repo = `berth-test/docker-${suffix}`;
  let target: RegistryTarget;
  let id: string;
  const created: string[] = [local];

  beforeAll(async () => {
    if (unavailable) return;
    target = await startRegistryTarget(name);
    id = await buildTestImage(local, { layers: 4, layerSize: 512 * 1024 });
  });

  afterAll(async () => {
    if (unavailable) return;
    removeImages(created);
    await target?.stop();
  });

  const ref = (r: string, tag: string) => `${target.hostPort}/${r}:${tag}`;
  const tagAndRemember = (src: string, dst: string) => {
    docker(['tag', src, dst]);
    created.push(dst);
  };

  it.skipIf(unavailable)('push a 4-layer image, remove it, pull it back: same image ID', () => {
    tagAndRemember(local, ref(repo, 'v1'));
    const push = docker(['push', ref(repo, 'v1')]).stdout;
    expect(push).toMatch(/v1: digest: sha256:[0-9a-f]{64} size: \d+/);
    // Only our own references: after this the engine no longer has the image at all.
    removeImages([local, ref(repo, 'v1')]);
    expect(docker(['image', 'inspect', id], { allowFailure: true }).status).not.toBe(0);
    docker(['pull', ref(repo, 'v1')]);
    expect(imageId(ref(repo, 'v1'))).toBe(id);
    tagAndRemember(ref(repo, 'v1'), local);
  });

  it.skipIf(unavailable)('push the same image to a second repository: layers are mounted, not re-uploaded', async () => {
    const second = `${repo}-second`;
    tagAndRemember(local, ref(second, 'v1'));
    const out = docker(['push', ref(second, 'v1')]).stdout;
    // dockerd knows the layers came from `repo` on this registry and asks for a cross-repository mount.
    expect(out).toMatch(new RegExp(`Mounted from ${repo.replace(/[/.-]/g, '\\$&')}`));
    expect(out).not.toMatch(/Pushed/);
    const manifest = await getManifest(target.url, second, 'v1');
    expect(manifest.status).toBe(200);
    expect(JSON.parse(manifest.bytes.toString()).layers).toHaveLength(4);
  });

  it.skipIf(unavailable)('push two tags of one image; tags/list shows both', async () => {
    tagAndRemember(local, ref(repo, 'v2'));
    const out = docker(['push', ref(repo, 'v2')]).stdout;
    expect(out).toMatch(/Layer already exists/);
    expect((await listTags(target.url, repo)).sort()).toEqual(['v1', 'v2']);
    const [v1, v2] = await Promise.all([getManifest(target.url, repo, 'v1'), getManifest(target.url, repo, 'v2')]);
    expect(v1.status).toBe(200);
    expect(v1.digest).toBe(v2.digest);
  });

  it.skipIf(unavailable)('pull by digest', () => {
    const digest = pushedDigest(docker(['push', ref(repo, 'v1')]).stdout);
    const byDigest = `${target.hostPort}/${repo}@${digest}`;
    removeImages([local, ref(repo, 'v1'), ref(repo, 'v2'), ref(`${repo}-second`, 'v1')]);
    const out = docker(['pull', byDigest]).stdout;
    expect(out).toContain(digest);
    expect(imageId(byDigest)).toBe(id);
    const repoDigests = docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', id]).stdout;
    expect(repoDigests).toContain(`${repo}@${digest}`);
    created.push(byDigest);
  });
});
