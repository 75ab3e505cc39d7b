import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BerthEvent } from '../../shared/events';
import type { GcReport, FsckReport } from '../../shared/api/registry';
import { BerthError } from '../../shared/errors';
import { EventBus } from '../app/events';
import type { Services } from '../app/backend';
import { JobManager } from '../transfers/jobs';
import { registryHandlers } from './api';
import { RegistryService } from './service';
import { pushImage, sha256 } from './test-helpers';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function service(): Promise<{ svc: RegistryService; events: BerthEvent[]; bus: EventBus }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-svc-'));
  const bus = new EventBus();
  const events: BerthEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const svc = new RegistryService({ dataDir: dir, events: bus, log: () => {} });
  cleanups.push(async () => {
    await svc.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { svc, events, bus };
}

describe('RegistryService', () => {
  it('port 0 picks a free port; binds 127.0.0.1 and ::1; publishes status on start and stop', async () => {
    const { svc, events } = await service();
    await svc.configure({ host: '127.0.0.1', port: 0 });
    await svc.start();
    const st = svc.status();
    expect(st.running).toBe(true);
    expect(st.port).toBeGreaterThan(0);
    expect(st.address).toBe(`localhost:${st.port}`);
    expect((await fetch(`http://127.0.0.1:${st.port}/v2/`)).status).toBe(200);
    const v6 = await fetch(`http://[::1]:${st.port}/v2/`).then((r) => r.status).catch(() => 'no-ipv6');
    expect([200, 'no-ipv6']).toContain(v6);
    await svc.stop();
    expect(svc.status().running).toBe(false);
    expect(events.filter((e) => e.type === 'registry.status').map((e) => (e as { status: { running: boolean } }).status.running)).toEqual([true, false]);
  });

  it('a taken port: PORT_IN_USE, a clear message and a free suggested port in the status', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const port = (blocker.address() as { port: number }).port;
    const { svc } = await service();
    await svc.configure({ host: '127.0.0.1', port });
    const err = await svc.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe('PORT_IN_USE');
    const st = svc.status();
    expect(st.running).toBe(false);
    expect(st.error).toMatch(new RegExp(`Port ${port} .*already in use.*port ${st.suggestedPort} is free`));
    expect(st.suggestedPort).toBeGreaterThan(0);
    await svc.configure({ host: '127.0.0.1', port: st.suggestedPort! });
    await svc.start();
    expect(svc.status()).toMatchObject({ running: true, port: st.suggestedPort });
    expect(svc.status().error).toBeUndefined();
  });

  it('configure moves a running registry to the new port; pushes publish registry.changed (coalesced)', async () => {
    const { svc, events } = await service();
    await svc.configure({ host: '127.0.0.1', port: 0 });
    await svc.start();
    const first = svc.status().port;
    await pushImage(`http://127.0.0.1:${first}`, 'evt/app', 'v1');
    await new Promise((r) => setTimeout(r, 400));
    const changed = events.filter((e) => e.type === 'registry.changed');
    expect(changed.length).toBeGreaterThanOrEqual(1);
    expect(changed.length).toBeLessThan(4); // 4 index changes (3 links + 1 manifest) coalesced
    expect(changed.at(-1)).toEqual({ type: 'registry.changed', repository: 'evt/app' });
    await svc.configure({ host: '127.0.0.1', port: 0 });
    expect(svc.status().running).toBe(true);
    expect((await fetch(`http://127.0.0.1:${svc.status().port}/v2/evt/app/tags/list`)).status).toBe(200);
  });
});

describe('registry contract handlers', () => {
  it('repositories, tags with platforms, manifest, config, deleteTag, usage, gc and fsck jobs', async () => {
    const { svc, bus } = await service();
    await svc.configure({ host: '127.0.0.1', port: 0 });
    await svc.start();
    const url = `http://127.0.0.1:${svc.status().port}`;
    const jobs = new JobManager(bus);
    cleanups.push(() => jobs.close());
    const h = registryHandlers({ registry: svc, jobs } as unknown as Services);
    const ctx = { transport: 'direct' as const };
    const img = await pushImage(url, 'api/app', 'v1', { config: JSON.stringify({ os: 'linux', architecture: 'arm64' }) });
    expect((await h['registry.status']({}, ctx)).running).toBe(true);
    const repos = await h['registry.repositories']({}, ctx);
    expect(repos).toEqual([expect.objectContaining({ name: 'api/app', tagCount: 1, manifestCount: 1 })]);
    const tags = await h['registry.tags']({ repository: 'api/app' }, ctx);
    expect(tags).toEqual([expect.objectContaining({ tag: 'v1', digest: img.digest, platforms: ['linux/arm64'], size: repos[0]!.size })]);
    const m = await h['registry.manifest']({ repository: 'api/app', reference: 'v1' }, ctx);
    expect(m.digest).toBe(img.digest);
    expect(await h['registry.config']({ repository: 'api/app', digest: img.config }, ctx)).toEqual({ os: 'linux', architecture: 'arm64' });
    await expect(h['registry.config']({ repository: 'api/app', digest: sha256('nope') }, ctx)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await h['registry.deleteTag']({ repository: 'api/app', tag: 'v1' }, ctx);
    expect(await h['registry.tags']({ repository: 'api/app' }, ctx)).toEqual([]);
    const usage = await h['registry.usage']({}, ctx);
    expect(usage.blobCount).toBe(3);
    const gc = await jobs.wait((await h['registry.gc']({ graceSeconds: 0 }, ctx)).id);
    expect(gc.state).toBe('done');
    expect((gc.result as GcReport).blobsRemoved).toBe(0); // untagged manifests are kept (reachable by digest)
    const fsck = await jobs.wait((await h['registry.fsck']({}, ctx)).id);
    expect((fsck.result as FsckReport).problems).toEqual([]);
    await h['registry.deleteRepository']({ repository: 'api/app' }, ctx);
    const gc2 = await jobs.wait((await h['registry.gc']({ graceSeconds: 0 }, ctx)).id);
    expect((gc2.result as GcReport).blobsRemoved).toBe(3);
    expect(await h['registry.repositories']({}, ctx)).toEqual([]);
    await expect(h['registry.deleteRepository']({ repository: 'api/app' }, ctx)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await h['registry.stop']({}, ctx)).running).toBe(false);
  });
});
