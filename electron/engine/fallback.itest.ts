/**
 * Falling back and switching back, on two private dockerds this file starts and stops itself: the
 * "preferred" one is DOCKER_HOST, the fallback is reached through a docker context. When the preferred
 * engine stops, Berth moves to the fallback and warns; when it starts again at the same socket, Berth
 * switches back on its own (no restart, no refresh), drops the warning and follows the preferred
 * engine's events again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain ESM script without types
import { canStartPrivateEngine, startPrivateEngine } from '../../scripts/private-engine.mjs';
import { EventBus } from '../app/events';
import type { EngineStatus } from '../../shared/api/engine';
import type { BerthEvent } from '../../shared/events';
import { EngineService } from './service';
import { useDockerContext, waitFor } from './itest-helpers';
import { createTestImage, randomTestName } from '../../tests/support/images';

type PrivateEngine = { host: string; stop(): Promise<void> };
const canRun = canStartPrivateEngine() as boolean;

const root = mkdtempSync(join(tmpdir(), 'berth-fallback-'));
const preferredRoot = join(root, 'preferred');
const fallbackRoot = join(root, 'fallback');
const preferredSocket = join(preferredRoot, 'docker.sock');
const fallbackSocket = join(fallbackRoot, 'docker.sock');
let preferred: PrivateEngine | undefined;
let fallback: PrivateEngine | undefined;
let service: EngineService | undefined;

afterAll(async () => {
  service?.close();
  await Promise.all([preferred?.stop(), fallback?.stop()]);
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!canRun)('engine fallback and switch back (needs root on Linux with dockerd to start two private engines)', () => {
  it('falls back with a warning when DOCKER_HOST stops answering, and switches back when it returns', async () => {
    useDockerContext(join(root, 'home'), 'berth-fallback', `unix://${fallbackSocket}`);
    [preferred, fallback] = (await Promise.all([startPrivateEngine(preferredRoot), startPrivateEngine(fallbackRoot)])) as PrivateEngine[];
    const events: BerthEvent[] = [];
    const bus = new EventBus();
    bus.subscribe((e) => events.push(e));
    const logs: string[] = [];
    service = new EngineService({
      events: bus,
      log: (l) => logs.push(l),
      discovery: { env: { DOCKER_HOST: `unix://${preferredSocket}` }, home: join(root, 'home'), platform: 'linux' },
      retry: { minMs: 200, maxMs: 1000 },
      preferredProbe: { minMs: 300, maxMs: 1200 },
      pingTimeoutMs: 2000,
      debounceMs: 50,
    });
    const s = service;
    const statuses = () => events.flatMap((e): EngineStatus[] => (e.type === 'engine.status' ? [e.status] : []));
    s.watch();

    // 1. Both answer: the preferred one (DOCKER_HOST) wins, no warning.
    const first = await waitFor(() => statuses().find((st) => st.connected), 15_000, 'a first connection');
    expect(first.endpoint).toMatchObject({ address: preferredSocket, source: 'DOCKER_HOST' });
    expect(first.warning).toBeUndefined();

    // 2. The preferred engine stops: Berth moves to the context's engine and says so.
    events.length = 0;
    await preferred!.stop();
    preferred = undefined;
    const onFallback = await waitFor(() => statuses().find((st) => st.connected && st.endpoint?.address === fallbackSocket), 30_000, 'the fallback');
    expect(onFallback.endpoint?.source).toBe('context:berth-fallback');
    expect(onFallback.warning).toMatch(/^DOCKER_HOST \(.*preferred\/docker\.sock\) did not answer/);
    expect(onFallback.warning).toMatch(/Berth switches back as soon as it answers\.$/);
    // Calls go to the fallback meanwhile: an image made there is listed.
    const onlyThere = await createTestImage({ name: randomTestName('fallback'), host: `unix://${fallbackSocket}` });
    expect((await s.listImages()).map((i) => i.id)).toContain(onlyThere.id);

    // 3. The preferred engine starts again at the same socket: Berth switches back without being asked.
    events.length = 0;
    preferred = (await startPrivateEngine(preferredRoot)) as PrivateEngine;
    const back = await waitFor(() => statuses().find((st) => st.connected && st.endpoint?.address === preferredSocket), 30_000, 'the switch back');
    expect(back.endpoint?.source).toBe('DOCKER_HOST');
    expect(back.warning).toBeUndefined(); // the UI banner goes away with it
    expect(s.status()).toMatchObject({ connected: true, endpoint: { address: preferredSocket } });
    expect(s.status().warning).toBeUndefined();
    expect(logs.some((l) => l.includes(`${preferredSocket} (DOCKER_HOST) answers again`))).toBe(true);
    // The fresh preferred engine is empty: calls reach it, not the fallback.
    expect(await s.listImages()).toEqual([]);

    // 4. The event stream follows the preferred engine again: an image made there is announced.
    events.length = 0;
    const made = await createTestImage({ name: randomTestName('preferred'), host: `unix://${preferredSocket}` });
    await waitFor(() => events.find((e) => e.type === 'engine.images-changed'), 15_000, 'engine.images-changed from the preferred engine');
    expect((await s.listImages()).map((i) => i.id)).toEqual([made.id]);
  });
});
