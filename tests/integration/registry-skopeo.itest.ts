/**
 * skopeo against a registry: a `docker save` archive into the registry; registry → `oci:` directory and
 * back; a multi-platform index this test writes, copied with --all both ways with every digest intact;
 * inspect, list-tags and delete. Runs on Berth and on the reference registry.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getManifest, listTags, sha256 } from '../support/registry-client';
import { buildTestImage, docker, dockerUnavailable, removeImages, run, toolUnavailable, uniqueSuffix, writeMultiPlatformLayout, type OciLayout } from '../support/registry-images';
import { startRegistryTarget, targetCases, type RegistryTarget } from '../support/registry-target';

const missing = toolUnavailable('skopeo') ?? dockerUnavailable();

function skopeo(args: string[], allowFailure = false) {
  return run('skopeo', ['--insecure-policy', ...args], { allowFailure });
}

describe.each(targetCases(['berth', 'reference'], missing))('skopeo ↔ $label', ({ name, unavailable }) => {
  const suffix = uniqueSuffix();
  const local = `berth-test-regskopeo-${suffix}:v1`;
  const repo = `berth-test/skopeo-${suffix}`;
  let target: RegistryTarget;
  let work: string;
  let diffIds: string[];
  let layout: OciLayout;

  beforeAll(async () => {
    if (unavailable) return;
    target = await startRegistryTarget(name);
    work = await mkdtemp(join(tmpdir(), 'berth-test-skopeo-'));
    await buildTestImage(local, { layers: 3 });
    diffIds = JSON.parse(docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', local]).stdout);
    docker(['save', '-o', join(work, 'image.tar'), local]);
    removeImages([local]);
  });

  afterAll(async () => {
    if (unavailable) return;
    removeImages([local]);
    await target?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const docker_ = (r: string) => `docker://${target.hostPort}/${r}`;
  const configOf = (r: string) => JSON.parse(skopeo(['inspect', '--tls-verify=false', '--config', docker_(r)]).stdout);

  it.skipIf(unavailable)('docker-archive → registry: every layer arrives (diff_ids match the engine)', () => {
    expect(diffIds).toHaveLength(3);
    skopeo(['copy', '--dest-tls-verify=false', `docker-archive:${join(work, 'image.tar')}`, docker_(`${repo}:archive`)]);
    expect(configOf(`${repo}:archive`).rootfs.diff_ids).toEqual(diffIds);
    const info = JSON.parse(skopeo(['inspect', '--tls-verify=false', docker_(`${repo}:archive`)]).stdout);
    expect(info.Layers).toHaveLength(3);
    expect(info.Digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it.skipIf(unavailable)('registry → oci: directory → registry: same layers, same config', async () => {
    const dir = join(work, 'oci-roundtrip');
    skopeo(['copy', '--src-tls-verify=false', docker_(`${repo}:archive`), `oci:${dir}:rt`]);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('rt');
    skopeo(['copy', '--dest-tls-verify=false', `oci:${dir}:rt`, docker_(`${repo}-back:rt`)]);
    const back = await getManifest(target.url, `${repo}-back`, 'rt');
    expect(back.status).toBe(200);
    // The registry serves the exact bytes that were pushed: the digest it names is the hash of the body.
    expect(sha256(back.bytes)).toBe(back.digest);
    expect(back.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(configOf(`${repo}-back:rt`).rootfs.diff_ids).toEqual(diffIds);
  });

  it.skipIf(unavailable)('a multi-platform index copied with --all keeps every digest, both ways', async () => {
    layout = await writeMultiPlatformLayout(join(work, 'multi-src'), 'multi', [
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux', variant: 'v8' },
      { architecture: 's390x', os: 'linux' },
    ]);
    skopeo(['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:multi`, docker_(`${repo}-multi:multi`)]);
    const top = await getManifest(target.url, `${repo}-multi`, 'multi');
    expect(top.status).toBe(200);
    expect(top.digest).toBe(layout.index.digest);
    expect(sha256(top.bytes)).toBe(layout.index.digest);
    expect(top.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    for (const child of layout.manifests) {
      const m = await getManifest(target.url, `${repo}-multi`, child.digest);
      expect(m.status, `platform ${child.platform?.architecture}`).toBe(200);
      expect(sha256(m.bytes)).toBe(child.digest);
    }

    const dir = join(work, 'multi-back');
    skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', docker_(`${repo}-multi:multi`), `oci:${dir}:multi`]);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(layout.index.digest);
    for (const child of layout.manifests) {
      const file = join(dir, 'blobs', 'sha256', child.digest.slice('sha256:'.length));
      expect(sha256(await readFile(file))).toBe(child.digest);
    }
    // Every layer and config of every platform came back too.
    const children = await Promise.all(layout.manifests.map(async (c) => JSON.parse(await readFile(join(dir, 'blobs', 'sha256', c.digest.slice(7)), 'utf8'))));
    for (const m of children) {
      for (const d of [m.config, ...m.layers]) expect((await stat(join(dir, 'blobs', 'sha256', d.digest.slice(7)))).size).toBe(d.size);
    }
  });

  it.skipIf(unavailable)('inspect picks the platform asked for; --raw returns the pushed index', async () => {
    const raw = skopeo(['inspect', '--tls-verify=false', '--raw', docker_(`${repo}-multi:multi`)]).stdout;
    expect(sha256(raw)).toBe(layout.index.digest);
    const arm = JSON.parse(skopeo(['inspect', '--tls-verify=false', '--override-arch', 'arm64', '--override-variant', 'v8', docker_(`${repo}-multi:multi`)]).stdout);
    expect(arm.Architecture).toBe('arm64');
    // skopeo names the digest of what the tag points at (the index); the layers are the arm64 image's.
    expect(arm.Digest).toBe(layout.index.digest);
    const armManifest = JSON.parse(await readFile(join(layout.dir, 'blobs', 'sha256', layout.manifests[1].digest.slice(7)), 'utf8'));
    expect(arm.Layers).toEqual([armManifest.layers[0].digest]);
  });

  it.skipIf(unavailable)('list-tags, then delete a tag: the manifest is gone', async () => {
    skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', docker_(`${repo}:archive`), docker_(`${repo}:second`)]);
    const tags = JSON.parse(skopeo(['list-tags', '--tls-verify=false', docker_(repo)]).stdout);
    expect(tags.Tags.sort()).toEqual(['archive', 'second']);
    // Delete removes the manifest (by digest, which skopeo resolves from the tag) and so every tag on it.
    skopeo(['delete', '--tls-verify=false', docker_(`${repo}:second`)]);
    expect((await getManifest(target.url, repo, 'second')).status).toBe(404);
    expect((await getManifest(target.url, repo, 'archive')).status).toBe(404);
    expect(await listTags(target.url, repo).catch(() => [])).toEqual([]);
    // Another repository holding the same layers is untouched.
    expect((await getManifest(target.url, `${repo}-back`, 'rt')).status).toBe(200);
  });
});
