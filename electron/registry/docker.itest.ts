/**
 * Smoke test with the real docker CLI and dockerd (DOCKER_HOST): push an image to the in-process
 * registry and pull it back. The broad real-client suite lives in tests/integration/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestImage, docker, onPrivateEngine, removeTestImage, randomTestName, type TestImage } from '../../tests/support/images';
import { EventBus } from '../app/events';
import { RegistryService } from './service';

const engineReachable = await docker(['version', '--format', '{{.Server.Version}}']).then(
  () => true,
  () => false,
);

describe.skipIf(!engineReachable)('docker CLI against the in-process registry', () => {
  let dir: string;
  let svc: RegistryService;
  let image: TestImage;
  let target: string;
  const created: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-docker-itest-'));
    svc = new RegistryService({ dataDir: dir, events: new EventBus(), log: () => {} });
    await svc.configure({ host: '127.0.0.1', port: 0 });
    await svc.start();
    image = await createTestImage({ name: randomTestName('regsmoke'), tag: 'v1', layers: 3, layerSize: 256 * 1024 });
    created.push(image.reference);
    target = `127.0.0.1:${svc.status().port}/${image.name}:v1`;
    await docker(['tag', image.reference, target]);
    created.push(target);
  });

  afterAll(async () => {
    for (const ref of created) await removeTestImage(ref);
    await svc?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('docker push stores the image; docker pull brings back the same image ID', async () => {
    const out = await docker(['push', target]);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(out)?.[1];
    expect(digest).toBeDefined();
    expect(await svc.store.tags(image.name)).toEqual(['v1']);
    expect(await svc.store.tagDigest(image.name, 'v1')).toBe(digest);
    expect((await svc.store.fsck()).problems).toEqual([]);

    if (onPrivateEngine) {
      // Only on the private engine may a test remove images: pull for real, layers and all.
      await removeTestImage(target);
      await removeTestImage(image.reference);
      const pulled = await docker(['pull', target]);
      expect(pulled).toMatch(/Downloaded newer image|Pull complete/);
    } else {
      // On a shared engine the layers stay cached; pulling by digest still fetches and checks the manifest.
      await docker(['pull', `127.0.0.1:${svc.status().port}/${image.name}@${digest}`]);
    }
    expect(await docker(['image', 'inspect', '--format', '{{.Id}}', target])).toBe(image.id);
  });
});
