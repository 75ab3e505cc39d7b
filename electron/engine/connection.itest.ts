/**
 * The engine connection end to end, on a private dockerd this file starts and stops itself: the banner
 * when no engine answers, reconnecting when it returns, discovery through a docker context, and the
 * streaming primitives (save → load between two engines, push → pull through the reference registry).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain ESM script without types
import { canStartPrivateEngine, commandExists, startPrivateEngine } from '../../scripts/private-engine.mjs';
import { EventBus } from '../app/events';
import { JobManager } from '../transfers/jobs';
import type { BerthEvent } from '../../shared/events';
import { EngineService } from './service';
import { rejection, useDockerContext, waitFor } from './itest-helpers';
import { cliTags, createTestImage, docker, randomTestName, removeTestImage, type TestImage } from '../../tests/support/images';

type PrivateEngine = { host: string; stop(): Promise<void> };
const canRun = canStartPrivateEngine() as boolean;
const skipReason = 'needs root on Linux with dockerd to start a private engine';

const root = mkdtempSync(join(tmpdir(), 'berth-conn-'));
const engineRoot = join(root, 'engine');
const socket = join(engineRoot, 'docker.sock');
const events: BerthEvent[] = [];
const bus = new EventBus();
bus.subscribe((e) => events.push(e));
let engine: PrivateEngine | undefined;
const services: EngineService[] = [];

function service(opts: Partial<ConstructorParameters<typeof EngineService>[0]> = {}): EngineService {
  const s = new EngineService({ events: bus, log: () => {}, retry: { minMs: 200, maxMs: 1000 }, pingTimeoutMs: 2000, ...opts });
  services.push(s);
  return s;
}

afterAll(async () => {
  for (const s of services) s.close();
  await engine?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!canRun)(`engine connection (${skipReason})`, () => {
  it('says no engine answered, with a hint and what was tried; API calls are ENGINE_UNAVAILABLE', async () => {
    const s = service({ dockerHost: `unix://${socket}` });
    const status = await s.getStatus(true);
    expect(status.connected).toBe(false);
    expect(status.error).toBe('No container engine answered.');
    expect(status.hint).toMatch(/set DOCKER_HOST/);
    expect(status.hint).toContain(socket);
    expect(status.tried).toEqual([{ kind: 'unix', address: socket, source: 'configured', error: 'no socket there' }]);
    const err = await rejection(s.listImages());
    expect(err.code).toBe('ENGINE_UNAVAILABLE');
    expect(err.message).toMatch(/No container engine answered\. .*DOCKER_HOST/);
  });

  it('connects when the engine starts, says so when it stops, and reconnects when it returns', async () => {
    const s = service({ dockerHost: `unix://${socket}` });
    s.watch();
    const statusEvents = () => events.filter((e): e is Extract<BerthEvent, { type: 'engine.status' }> => e.type === 'engine.status');
    await waitFor(() => s.status().tried, 5000, 'a first connection attempt');
    expect(s.status().connected).toBe(false);

    events.length = 0;
    engine = (await startPrivateEngine(engineRoot)) as PrivateEngine;
    const up = await waitFor(() => statusEvents().find((e) => e.status.connected), 15_000, 'engine.status connected');
    expect(up.status).toMatchObject({ connected: true, endpoint: { address: socket }, apiVersion: expect.stringMatching(/^1\.\d+$/) });

    events.length = 0;
    await engine.stop();
    engine = undefined;
    const down = await waitFor(() => statusEvents().find((e) => !e.status.connected), 15_000, 'engine.status disconnected');
    expect(down.status.hint).toMatch(/Start the Docker daemon|DOCKER_HOST/);

    events.length = 0;
    engine = (await startPrivateEngine(engineRoot)) as PrivateEngine;
    await waitFor(() => statusEvents().find((e) => e.status.connected), 15_000, 'engine.status connected again');
    expect(s.status().connected).toBe(true);
    await expect(s.listImages()).resolves.toEqual([]);
  });

  it('discovers the engine through a docker context after a dead DOCKER_HOST, and warns that it fell back', async () => {
    const home = join(root, 'home');
    useDockerContext(home, 'berth-test', `unix://${socket}`);
    const s = service({ discovery: { env: { DOCKER_HOST: `unix://${join(root, 'nothing.sock')}` }, home, platform: 'linux' } });
    const status = await s.getStatus();
    expect(status).toMatchObject({ connected: true, endpoint: { kind: 'unix', address: socket, source: 'context:berth-test' } });
    expect(status.tried?.[0]).toMatchObject({ source: 'DOCKER_HOST', error: 'no socket there' });
    // Connected, but not where DOCKER_HOST pointed: the status says so (the UI shows it as a banner).
    expect(status.warning).toMatch(/^DOCKER_HOST \(.*nothing\.sock\) did not answer — no socket there\. Berth is using .* \(context:berth-test\) instead/);
  });

  it('reaches an engine over tcp:// (DOCKER_HOST), through a TCP hop to the real socket', async () => {
    // dockerd here listens on a unix socket only; a plain TCP relay in front of it is a tcp engine.
    const relay = createServer((client) => {
      const upstream = connect(socket);
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as { port: number }).port;
    try {
      const s = service({ discovery: { env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` }, home: join(root, 'empty-home'), platform: 'linux' } });
      const status = await s.getStatus();
      expect(status).toMatchObject({ connected: true, endpoint: { kind: 'tcp', address: `tcp://127.0.0.1:${port}`, source: 'DOCKER_HOST' } });
      await expect(s.listImages()).resolves.toBeInstanceOf(Array);
      s.close();
    } finally {
      relay.close();
    }
  });

  describe('streams', () => {
    let image: TestImage;
    const source = service({ dockerHost: process.env.DOCKER_HOST });
    beforeAll(async () => {
      image = await createTestImage({ name: randomTestName('stream'), tag: 'v1', layers: 2, layerSize: 256 * 1024 });
    });
    afterAll(async () => {
      await removeTestImage(image.reference);
    });

    it('saves from one engine and loads into another, with progress', async () => {
      const target = service({ dockerHost: `unix://${socket}` });
      const abort = new AbortController();
      const tar = await source.saveImages([image.reference], abort.signal);
      const progress: string[] = [];
      const r = await target.loadImages(tar, abort.signal, (p) => progress.push(p.status));
      expect(r.loaded).toEqual([image.reference]);
      expect(progress.some((s) => /Loading layer/i.test(s))).toBe(true);
      expect(await cliTags(image.name, `unix://${socket}`)).toEqual([image.reference]);
      const loaded = await target.inspectImage(image.reference);
      expect(loaded.id).toBe(image.id);
    });

    it('cancelling a save destroys the stream', async () => {
      const abort = new AbortController();
      const tar = await source.saveImages([image.reference], abort.signal);
      const ended = new Promise<string>((resolve) => {
        tar.on('error', (e: Error) => resolve(`error: ${e.message}`));
        tar.on('close', () => resolve('closed'));
      });
      tar.once('data', () => abort.abort());
      tar.resume();
      expect(await ended).toMatch(/closed|error/);
      expect((tar as Readable).destroyed).toBe(true);
    });

    it('cancelling a load aborts the upload: CANCELLED, and the engine keeps nothing', async () => {
      const target = service({ dockerHost: `unix://${socket}` });
      const before = await docker(['images', '-aq'], { host: `unix://${socket}` });
      const tar = new PassThrough();
      tar.write(Buffer.alloc(64 * 1024)); // the start of an upload that never finishes
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 300);
      const err = await rejection(target.loadImages(tar, abort.signal));
      expect(err.code).toBe('CANCELLED');
      expect(await docker(['images', '-aq'], { host: `unix://${socket}` })).toBe(before);
    });

    it('a tar that is not an image archive fails with the engine’s reason', async () => {
      const target = service({ dockerHost: `unix://${socket}` });
      const err = await rejection(target.loadImages(Readable.from([Buffer.alloc(4096, 7)]), new AbortController().signal));
      expect(err.code).toBe('ENGINE_ERROR');
      expect(err.message).toMatch(/^The engine could not load the archive: .*tar/);
    });

    it.skipIf(!commandExists('docker-registry'))('pushes to and pulls from the reference registry with per-layer progress', async () => {
      const port = await freePort();
      const registry = startRegistry(port);
      try {
        await waitForRegistry(port);
        const target = service({ dockerHost: `unix://${socket}` });
        const jobs = new JobManager(new EventBus());
        const ref = `127.0.0.1:${port}/${image.name}:v1`;
        await target.tagImage(image.reference, ref);
        const push = jobs.start('push', `Push ${ref}`, (ctx) => target.pushImage(ref, ctx));
        const pushed = await jobs.wait(push.id);
        expect(pushed.state, JSON.stringify(pushed.error)).toBe('done');
        expect(pushed.result).toMatchObject({ reference: ref, digest: expect.stringMatching(/^sha256:/) });
        expect(pushed.items.length).toBe(2);
        expect(pushed.items.every((i) => i.status === 'done' || i.status === 'exists')).toBe(true);

        await docker(['rmi', ref, image.reference], { host: `unix://${socket}` });
        const pull = jobs.start('pull', `Pull ${ref}`, (ctx) => target.pullImage(ref, ctx));
        const pulled = await jobs.wait(pull.id);
        expect(pulled.state, JSON.stringify(pulled.error)).toBe('done');
        expect(pulled.items.length).toBe(2);
        expect(pulled.items.every((i) => i.status === 'done')).toBe(true);
        expect(pulled.done).toBeGreaterThan(0);
        expect(await cliTags(`127.0.0.1:${port}/${image.name}`, `unix://${socket}`)).toEqual([ref]);

        const missing = jobs.start('pull', 'missing', (ctx) => target.pullImage(`127.0.0.1:${port}/${image.name}:nope`, ctx));
        const failed = await jobs.wait(missing.id);
        expect(failed.state).toBe('failed');
        expect(failed.error?.message).toMatch(/not found|manifest unknown/i);
      } finally {
        registry.kill('SIGTERM');
      }
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function startRegistry(port: number): ChildProcess {
  const dir = join(root, `registry-${port}`);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  return spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
}

async function waitForRegistry(port: number): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('docker-registry did not start');
}
