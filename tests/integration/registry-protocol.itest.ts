/**
 * Wire behaviours real clients rely on that the docker/skopeo/podman suites do not reach: chunked uploads
 * with Content-Range (and the 416 + GET Location recovery), Range reads (docker resumes pulls with them),
 * tag and catalog paging through Link, a wrong digest refused. Same client, both registries: a check that
 * passes on the reference registry is what clients actually get there.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drain, expectStatus, getManifest, listCatalog, pushBlobMonolithic, putManifest, request, sha256, startUpload, text } from '../support/registry-client';
import { startRegistryTarget, targetCases, type RegistryTarget } from '../support/registry-target';

describe.each(targetCases(['berth', 'reference']))('Distribution API details — $label', ({ name, unavailable }) => {
  let target: RegistryTarget;
  const blob = randomBytes(3 * 1024 * 1024 + 17);
  const digest = sha256(blob);
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');

  beforeAll(async () => {
    if (!unavailable) target = await startRegistryTarget(name);
  });
  afterAll(async () => {
    await target?.stop();
  });

  /** PATCH one chunk with Content-Range; returns the response (body drained). */
  async function patchChunk(location: string, start: number, end: number) {
    const res = await request(location, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${end - 1}`, 'Content-Length': end - start },
      body: blob.subarray(start, end),
    });
    await drain(res);
    return { status: res.status, range: res.headers.range, location: new URL(res.headers.location as string, target.url).toString() };
  }
  const MiB = 1024 * 1024;

  it.skipIf(unavailable)('chunked upload: PATCHes with Content-Range, the last chunk on the closing PUT', async () => {
    const first = await patchChunk(await startUpload(target.url, 'berth-test/chunked'), 0, MiB);
    expect([first.status, first.range]).toEqual([202, `0-${MiB - 1}`]);
    const second = await patchChunk(first.location, MiB, 2 * MiB);
    expect([second.status, second.range]).toEqual([202, `0-${2 * MiB - 1}`]);
    const closing = new URL(second.location);
    closing.searchParams.set('digest', digest);
    const put = await request(closing.toString(), { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: blob.subarray(2 * MiB) });
    await expectStatus(put, 201, 'closing PUT');
    expect(put.headers['docker-content-digest']).toBe(digest);
    const head = await request(`${target.url}/v2/berth-test/chunked/blobs/${digest}`, { method: 'HEAD' });
    await drain(head);
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(blob.length);
  });

  // distribution 2.8 ignores Content-Range and appends whatever arrives (a gap the spec closed), so this
  // one runs on Berth only.
  it.skipIf(unavailable || name === 'reference')('a chunk at the wrong offset → 416, nothing appended; GET Location says where to resume (Berth only)', async () => {
    const first = await patchChunk(await startUpload(target.url, 'berth-test/chunked-416'), 0, MiB);
    expect(first.status).toBe(202);
    const skipped = await patchChunk(first.location, MiB + 10, MiB + 20);
    expect(skipped.status).toBe(416);
    const status = await request(first.location);
    await drain(status);
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe(`0-${MiB - 1}`);
    const resumed = await patchChunk(first.location, MiB, blob.length);
    expect([resumed.status, resumed.range]).toEqual([202, `0-${blob.length - 1}`]);
    const closing = new URL(resumed.location);
    closing.searchParams.set('digest', digest);
    await expectStatus(await request(closing.toString(), { method: 'PUT', headers: { 'Content-Length': 0 } }), 201, 'closing PUT');
  });

  it.skipIf(unavailable)('Range reads: 206 with the asked bytes; a range past the end → 416', async () => {
    await pushBlobMonolithic(target.url, 'berth-test/range', digest, blob.length, () => blob);
    const part = await request(`${target.url}/v2/berth-test/range/blobs/${digest}`, { headers: { Range: 'bytes=1000-1999' } });
    const chunks: Buffer[] = [];
    for await (const c of part.body) chunks.push(c as Buffer);
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-1999/${blob.length}`);
    expect(Buffer.concat(chunks).equals(blob.subarray(1000, 2000))).toBe(true);
    const beyond = await request(`${target.url}/v2/berth-test/range/blobs/${digest}`, { headers: { Range: `bytes=${blob.length + 5}-` } });
    // The reference announces the blob's full Content-Length on its 416 and then sends a short error body,
    // so the body is cut off there; the status is what clients act on.
    await drain(beyond).catch(() => undefined);
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${blob.length}`);
  });

  it.skipIf(unavailable)('a blob whose bytes do not match the digest is refused with DIGEST_INVALID', async () => {
    const location = new URL(await startUpload(target.url, 'berth-test/wrong'));
    location.searchParams.set('digest', sha256('something else'));
    const put = await request(location.toString(), { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: blob.subarray(0, 4096) });
    const body = await text(put);
    expect(put.status).toBe(400);
    expect(JSON.parse(body).errors[0].code).toBe('DIGEST_INVALID');
    const head = await request(`${target.url}/v2/berth-test/wrong/blobs/${sha256('something else')}`, { method: 'HEAD' });
    await drain(head);
    expect(head.status).toBe(404);
  });

  const pageRepos = ['berth-test/page-a', 'berth-test/page-b', 'berth-test/page-c'];
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: blob.length }],
    }),
  );

  it.skipIf(unavailable)('catalog pages through Link rel="next"; deleting a manifest by digest removes every tag on it', async () => {
    for (const repo of pageRepos) {
      await pushBlobMonolithic(target.url, repo, sha256(config), config.length, () => config);
      await pushBlobMonolithic(target.url, repo, digest, blob.length, () => blob);
      for (const tag of ['v3', 'v1', 'v5', 'v2', 'v4']) expect(await putManifest(target.url, repo, tag, 'application/vnd.oci.image.manifest.v1+json', manifest)).toBe(sha256(manifest));
    }
    const catalog = await listCatalog(target.url, 2);
    expect(catalog.filter((r) => pageRepos.includes(r))).toEqual(pageRepos);

    const del = await request(`${target.url}/v2/${pageRepos[1]}/manifests/${sha256(manifest)}`, { method: 'DELETE' });
    await drain(del);
    expect(del.status).toBe(202);
    for (const tag of ['v1', 'v5']) expect((await getManifest(target.url, pageRepos[1], tag)).status).toBe(404);
    expect((await getManifest(target.url, pageRepos[0], 'v1')).status).toBe(200);
  });

  // distribution 2.8 ignores n= on tags/list (paging arrived in 3.0): Berth only.
  it.skipIf(unavailable || name === 'reference')('tags/list pages with n= and Link, sorted, last exclusive (Berth only)', async () => {
    const seen: string[] = [];
    let next: string | undefined = `${target.url}/v2/${pageRepos[0]}/tags/list?n=2`;
    while (next) {
      const res = await request(next);
      const page = JSON.parse(await expectStatus(res, 200, 'tags page')) as { tags: string[] };
      expect(page.tags.length).toBeLessThanOrEqual(2);
      seen.push(...page.tags);
      const m = /<([^>]+)>;\s*rel="?next"?/.exec((res.headers.link as string) ?? '');
      next = m ? new URL(m[1], target.url).toString() : undefined;
    }
    expect(seen).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    const after = JSON.parse(await expectStatus(await request(`${target.url}/v2/${pageRepos[0]}/tags/list?last=v3`), 200, 'tags after v3'));
    expect(after.tags).toEqual(['v4', 'v5']);
  });
});
