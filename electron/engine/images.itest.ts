/**
 * EngineService against the real engine at DOCKER_HOST (the private dockerd `npm test` starts, or the
 * developer's own): list, inspect, history, tag, events; remove and prune only on a private engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../app/events';
import { createDispatch } from '../app/dispatch';
import type { Services } from '../app/backend';
import type { BerthEvent } from '../../shared/events';
import type { BerthHandlers } from '../../shared/api';
import { engineHandlers } from './api';
import { EngineService } from './service';
import { rejection, waitFor } from './itest-helpers';
import {
  cliTags,
  createTestImage,
  docker,
  onPrivateEngine,
  privateEngineSkipReason,
  randomTestName,
  removeTestImage,
  type TestImage,
} from '../../tests/support/images';

const host = process.env.DOCKER_HOST;
const events: BerthEvent[] = [];
const bus = new EventBus();
bus.subscribe((e) => events.push(e));
const engine = new EngineService({ events: bus, log: () => {}, dockerHost: host, debounceMs: 100 });
// Only the engine's handlers: the dispatch validates inputs with the contract's schemas as in the app.
const dispatch = createDispatch(engineHandlers({ engine } as Services) as BerthHandlers);
const cleanup: string[] = [];
const containers: string[] = [];

let image: TestImage;
let builtAt: number;

beforeAll(async () => {
  builtAt = Math.floor(Date.now() / 1000);
  image = await createTestImage({
    name: randomTestName('engine'),
    tag: '1.0',
    layers: 3,
    layerSize: 4096,
    labels: { 'org.opencontainers.image.title': 'berth test', team: 'engine' },
    env: { GREETING: 'hello world', MODE: 'test' },
    entrypoint: ['/bin/app'],
    cmd: ['--serve', '--port=8080'],
    workdir: '/srv',
    user: '1000:1000',
    expose: ['8080/tcp'],
  });
  cleanup.push(image.name);
});

afterAll(async () => {
  engine.close();
  for (const c of containers) await docker(['rm', '-f', c]).catch(() => undefined);
  for (const name of cleanup) {
    for (const tag of await cliTags(name).catch(() => [])) await removeTestImage(tag);
  }
});

describe('EngineService against the real engine', () => {
  it('connects and says which engine it is', async () => {
    const status = await engine.getStatus(true);
    const version = JSON.parse(await docker(['version', '--format', '{{json .Server}}'])) as { Version: string; ApiVersion: string; Os: string; Arch: string };
    expect(status).toMatchObject({ connected: true, version: version.Version, apiVersion: version.ApiVersion, os: version.Os, arch: version.Arch });
    expect(status.name).toMatch(/Engine/);
  });

  it('lists the test image with its size, created time and labels', async () => {
    const list = (await dispatch('images.list', {}, { transport: 'direct' })) as { ok: true; result: Awaited<ReturnType<EngineService['listImages']>> };
    expect(list.ok).toBe(true);
    const mine = list.result.find((i) => i.id === image.id);
    expect(mine).toBeDefined();
    expect(mine!.repoTags).toEqual([image.reference]);
    expect(mine!.size).toBe(3 * 4096);
    expect(mine!.created).toBeGreaterThanOrEqual(builtAt - 2);
    expect(mine!.created).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 2);
    expect(mine!.dangling).toBe(false);
    expect(mine!.containers).toBe(0);
    expect(mine!.labels).toMatchObject({ team: 'engine' });
  });

  it('inspects config, layers and history as the Dockerfile set them', async () => {
    const d = await engine.inspectImage(image.reference);
    expect(d.id).toBe(image.id);
    expect(d.config).toEqual({
      entrypoint: ['/bin/app'],
      cmd: ['--serve', '--port=8080'],
      env: expect.arrayContaining(['GREETING=hello world', 'MODE=test']),
      labels: { 'org.opencontainers.image.title': 'berth test', team: 'engine' },
      exposedPorts: ['8080/tcp'],
      workingDir: '/srv',
      user: '1000:1000',
    });
    expect(d.os).toBe('linux');
    expect(d.layers.length).toBeGreaterThanOrEqual(3);
    expect(d.layers.every((l) => /^sha256:[a-f0-9]{64}$/.test(l))).toBe(true);
    // History: newest first; three COPY steps of 4 KiB each, metadata steps empty.
    const copies = d.history.filter((h) => h.createdBy.includes('COPY'));
    expect(copies.map((h) => h.size)).toEqual([4096, 4096, 4096]);
    expect(copies.every((h) => !h.emptyLayer)).toBe(true);
    const env = d.history.find((h) => h.createdBy.includes('ENV MODE'));
    expect(env).toMatchObject({ size: 0, emptyLayer: true });
    expect(d.history[0].createdBy).toContain('CMD');
    expect(d.usedBy).toEqual([]);
  });

  it('inspecting an image that does not exist is NOT_FOUND', async () => {
    const err = await rejection(engine.inspectImage(`${randomTestName('missing')}:nope`));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toMatch(/No such image/i);
  });

  it('tags an image; the tag shows in docker images', async () => {
    const target = `localhost:5999/${image.name}:v2`;
    cleanup.push(`localhost:5999/${image.name}`);
    const r = await engine.tagImage(image.id, target);
    expect(r.reference).toBe(target);
    expect(await cliTags(`localhost:5999/${image.name}`)).toEqual([target]);
    // No tag given → latest, as docker does.
    await engine.tagImage(image.reference, `${image.name}`);
    expect(await cliTags(image.name)).toEqual([`${image.name}:1.0`, `${image.name}:latest`]);
  });

  it('refuses an invalid tag with the reason, and nothing reaches the engine', async () => {
    const before = await cliTags(image.name);
    for (const [target, reason] of [
      [`${image.name}:${'x'.repeat(129)}`, /at most 128 characters/],
      [`${image.name.toUpperCase()}:1`, /must be lowercase/],
      [`${image.name}:-bad`, /must start with a letter/],
      [`${image.name}@sha256:${'a'.repeat(64)}`, /cannot contain a digest/],
    ] as const) {
      const envelope = await dispatch('images.tag', { id: image.id, target }, { transport: 'direct' });
      expect(envelope.ok).toBe(false);
      if (envelope.ok) continue;
      expect(envelope.error.code).toBe('INVALID_INPUT');
      expect(envelope.error.message).toMatch(reason);
    }
    expect(await cliTags(image.name)).toEqual(before);
  });

  it('publishes engine.images-changed when the docker CLI tags or creates a container', async () => {
    const watcher = new EngineService({ events: bus, log: () => {}, dockerHost: host, debounceMs: 100 });
    try {
      watcher.watch();
      await waitFor(() => watcher.status().connected || undefined, 10_000, 'the watcher to connect');
      await new Promise((r) => setTimeout(r, 600)); // let the connect-time event go by
      events.length = 0;
      await docker(['tag', image.reference, `${image.name}:evented`]);
      await waitFor(() => events.find((e) => e.type === 'engine.images-changed'), 5000, 'engine.images-changed after docker tag');
      events.length = 0;
      const name = randomTestName('ctr');
      containers.push(name);
      await docker(['create', '--name', name, image.reference]);
      await waitFor(() => events.find((e) => e.type === 'engine.images-changed'), 5000, 'engine.images-changed after docker create');
      const listed = (await engine.listImages()).find((i) => i.id === image.id);
      expect(listed?.containers).toBe(1);
      const details = await engine.inspectImage(image.id);
      expect(details.usedBy).toEqual([{ id: expect.any(String), name, state: 'created' }]);
    } finally {
      watcher.close();
    }
  });

  it.skipIf(!onPrivateEngine)(`removing an image a container uses is CONFLICT naming the container (${privateEngineSkipReason})`, async () => {
    const img = await createTestImage({ name: randomTestName('inuse'), cmd: ['/x'] });
    cleanup.push(img.name);
    const name = randomTestName('web');
    containers.push(name);
    await docker(['create', '--name', name, img.reference]);
    const err = await rejection(engine.removeImage(img.reference));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toBe(`Image ${img.reference} is used by container ${name} (created). Stop and remove it, or force.`);
    expect(err.detail).toEqual({ containers: [{ id: expect.any(String), name, state: 'created' }] });
    expect(await cliTags(img.name)).toEqual([img.reference]);
    // Force untags it (docker keeps the image for the container).
    const forced = await engine.removeImage(img.reference, true);
    expect(forced.untagged).toContain(img.reference);
    expect(await cliTags(img.name)).toEqual([]);
  });

  it.skipIf(!onPrivateEngine)(`removes an image by tag and by id (${privateEngineSkipReason})`, async () => {
    const img = await createTestImage({ name: randomTestName('rm') });
    cleanup.push(img.name);
    await docker(['tag', img.reference, `${img.name}:second`]);
    const byId = await rejection(engine.removeImage(img.id));
    expect(byId.code).toBe('CONFLICT');
    expect(byId.message).toMatch(/has 2 tags .*Remove a tag, or force/);
    const first = await engine.removeImage(`${img.name}:second`);
    expect(first).toEqual({ deleted: [], untagged: [`${img.name}:second`] });
    const second = await engine.removeImage(img.id);
    expect(second.deleted).toContain(img.id);
    expect(await cliTags(img.name)).toEqual([]);
    expect((await rejection(engine.removeImage(img.id))).code).toBe('NOT_FOUND');
  });

  it.skipIf(!onPrivateEngine)(`prunes dangling images only (${privateEngineSkipReason})`, async () => {
    const kept = await createTestImage({ name: randomTestName('kept') });
    const name = randomTestName('rebuilt');
    cleanup.push(kept.name, name);
    // A rebuild moves the tag to the new image and leaves the old one dangling, as in real life.
    const old = await createTestImage({ name, tag: 'v1' });
    const rebuilt = await createTestImage({ name, tag: 'v1' });
    expect(rebuilt.id).not.toBe(old.id);
    const before = await engine.listImages();
    expect(before.find((i) => i.id === old.id)).toMatchObject({ dangling: true, repoTags: [] });
    const r = await engine.pruneImages();
    expect(r.deleted).toContain(old.id);
    expect(r.spaceReclaimed).toBeGreaterThanOrEqual(1024);
    const after = await engine.listImages();
    expect(after.some((i) => i.id === old.id)).toBe(false);
    expect(after.some((i) => i.id === kept.id)).toBe(true);
    expect(after.some((i) => i.id === rebuilt.id)).toBe(true);
  });
});
