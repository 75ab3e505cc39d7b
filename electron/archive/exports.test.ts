import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreparedExport } from '../../shared/api/archive';
import { BerthError } from '../../shared/errors';
import { writeDockerArchive } from '../../tests/fixtures/archives';
import { EventBus } from '../app/events';
import { EngineService } from '../engine/service';
import { RegistryService } from '../registry/service';
import { JobManager } from '../transfers/jobs';
import { ExportCache, exportFileName, exportsDir, isExportId, newExportId, resolvePreparedExport } from './exports';
import { previewArchive } from './preview';
import { importIntoRegistry } from './registry-import';
import { ArchiveService } from './service';

const root = mkdtempSync(join(tmpdir(), 'berth-exports-unit-'));
const events = new EventBus();
const jobs = new JobManager(events);
const log = () => {};
let dataDir: string;
let registry: RegistryService;
let archive: ArchiveService;
let digest = '';

beforeAll(async () => {
  dataDir = join(root, 'data');
  mkdirSync(dataDir);
  registry = new RegistryService({ dataDir, events, log });
  await registry.store.open();
  // An engine nobody answers at: these tests export from the registry only.
  const engine = new EngineService({ events, log, dockerHost: 'tcp://127.0.0.1:9' });
  archive = new ArchiveService({ dataDir, registry, engine, jobs, log });
  const input = join(root, 'in.tar');
  await writeDockerArchive(input, [{ tags: ['team/app:v1'], layers: [[{ name: 'a', size: 600_000, seed: 'a' }], [{ name: 'b', content: 'b' }]] }]);
  digest = (await importIntoRegistry(registry.store, input, {})).images[0].digest;
});

afterAll(async () => {
  await jobs.close();
  await registry.close();
  rmSync(root, { recursive: true, force: true });
});

const newCache = (opts: Partial<ConstructorParameters<typeof ExportCache>[0]> = {}) => {
  const cache = new ExportCache({ dataDir, archive, jobs, log, sweepEveryMs: 3600_000, ...opts });
  cache.start();
  return cache;
};

async function prepared(cache: ExportCache, images = ['team/app:v1']): Promise<PreparedExport> {
  const job = cache.prepare({ from: 'registry', images, format: 'oci' });
  const done = await jobs.wait(job.id);
  expect(done.error).toBeUndefined();
  expect(done.state).toBe('done');
  return done.result as PreparedExport;
}

describe('exportFileName', () => {
  it('names the file <repository>_<tag>.tar with only safe characters', () => {
    expect(exportFileName(['team/app:v1'])).toBe('team-app_v1.tar');
    expect(exportFileName(['alpine'])).toBe('alpine.tar');
    expect(exportFileName(['localhost:5000/tools/alpine:3.20'])).toBe('tools-alpine_3.20.tar');
    expect(exportFileName([`app@sha256:${'ab'.repeat(32)}`])).toBe('app_sha256-abababababab.tar');
    expect(exportFileName([`sha256:${'c'.repeat(64)}`])).toBe('image_cccccccccccc.tar');
    expect(exportFileName(['a:1', 'b:2', 'c:3'])).toBe('a_1_and_2_more.tar');
  });
  it('never lets a separator, a leading dot or a control character through', () => {
    for (const evil of ['../../etc/passwd', '..\\..\\win.ini', '.hidden', 'a\u0000b', 'x"; filename=evil.sh', '/abs/path']) {
      const name = exportFileName([evil]);
      expect(name).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*\.tar$/);
    }
  });
});

describe('resolvePreparedExport', () => {
  it('refuses anything that is not an id, before touching a path', () => {
    for (const bad of ['', '..', '../registry', '/etc/passwd', 'ABCDEF0123456789abcdef0123456789', `${'a'.repeat(32)}/../x`, 'a'.repeat(31), 42, undefined]) {
      const err = (() => {
        try {
          resolvePreparedExport(dataDir, bad);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(BerthError);
      expect((err as BerthError).code).toBe('INVALID_INPUT');
    }
    expect(isExportId(newExportId())).toBe(true);
  });

  it('says NOT_FOUND for an unknown id, an archive still being written, and a link out of the cache', () => {
    const id = newExportId();
    expect(() => resolvePreparedExport(dataDir, id)).toThrow(/no longer prepared/);
    const folder = join(exportsDir(dataDir), id);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, '.app.tar.0123.tmp'), 'half');
    expect(() => resolvePreparedExport(dataDir, id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    writeFileSync(join(root, 'outside.tar'), 'secret');
    symlinkSync(join(root, 'outside.tar'), join(folder, 'app.tar'));
    expect(() => resolvePreparedExport(dataDir, id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    rmSync(folder, { recursive: true });
  });
});

describe('ExportCache', () => {
  it('prepares a registry tag as a job: a whole OCI archive under <data>/exports/<id>/, 0700, found by its id', async () => {
    const cache = newCache();
    const seen: number[] = [];
    const off = events.subscribe((e) => e.type === 'job' && e.job.kind === 'export' && seen.push(e.job.done));
    const result = await prepared(cache);
    off();
    cache.close();
    expect(result).toMatchObject({ name: 'team-app_v1.tar', format: 'oci', images: ['team/app:v1'] });
    expect(isExportId(result.id)).toBe(true);
    expect(Math.max(...seen)).toBeGreaterThan(600_000); // progress was reported while bytes flowed
    const found = resolvePreparedExport(dataDir, result.id);
    expect(found).toMatchObject({ path: join(exportsDir(dataDir), result.id, 'team-app_v1.tar'), name: 'team-app_v1.tar', size: result.size });
    expect(statSync(found.path).size).toBe(result.size);
    expect(statSync(exportsDir(dataDir)).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(exportsDir(dataDir), result.id))).toEqual(['team-app_v1.tar']); // no temp file left
    const preview = await previewArchive(found.path);
    expect(preview.images[0]).toMatchObject({ digest, digestPreserved: true, tags: ['team/app:v1'] });
  });

  it('two exports of the same tag get different ids and the same clean name', async () => {
    const cache = newCache();
    const [a, b] = await Promise.all([prepared(cache), prepared(cache)]);
    cache.close();
    expect(a.id).not.toBe(b.id);
    expect(resolvePreparedExport(dataDir, a.id).name).toBe(resolvePreparedExport(dataDir, b.id).name);
  });

  it('a failed export leaves nothing in the cache', async () => {
    const cache = newCache();
    const job = cache.prepare({ from: 'registry', images: ['team/app:nope'], format: 'oci' });
    const done = await jobs.wait(job.id);
    cache.close();
    expect(done.state).toBe('failed');
    expect(readdirSync(cache.dir)).toEqual([]);
  });

  it('is emptied when a backend starts: ids of an earlier run are gone', async () => {
    const first = newCache();
    const old = await prepared(first);
    first.close();
    const second = newCache();
    second.close();
    expect(() => resolvePreparedExport(dataDir, old.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(readdirSync(second.dir)).toEqual([]);
  });

  it('drops exports an hour after their last use; using one (touch) restarts its hour', async () => {
    const cache = newCache();
    const used = await prepared(cache);
    const unused = await prepared(cache);
    const hourAgo = (Date.now() - 3600_000 - 60_000) / 1000;
    for (const e of [used, unused]) utimesSync(resolvePreparedExport(dataDir, e.id).path, hourAgo, hourAgo);
    resolvePreparedExport(dataDir, used.id, { touch: true });
    cache.sweep();
    cache.close();
    expect(resolvePreparedExport(dataDir, used.id).name).toBe('team-app_v1.tar');
    expect(() => resolvePreparedExport(dataDir, unused.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(existsSync(join(cache.dir, unused.id))).toBe(false);
  });

  it('keeps the cache under its size bound, least recently used first, but never drops the export just made', async () => {
    const probe = newCache();
    const size = (await prepared(probe)).size;
    probe.close();
    const cache = newCache({ maxTotalBytes: size * 2 + 10 });
    const a = await prepared(cache);
    const b = await prepared(cache);
    const c = await prepared(cache); // a is the least recently used: it goes
    expect(() => resolvePreparedExport(dataDir, a.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(resolvePreparedExport(dataDir, b.id).size).toBe(size);
    expect(resolvePreparedExport(dataDir, c.id).size).toBe(size);
    cache.close();

    const tiny = newCache({ maxTotalBytes: 1 });
    const big = await prepared(tiny);
    tiny.close();
    expect(resolvePreparedExport(dataDir, big.id).size).toBe(size);
  });

  it('removes folders a crash left without an archive, but not one being written', async () => {
    const cache = newCache();
    const orphan = newExportId();
    mkdirSync(join(cache.dir, orphan));
    writeFileSync(join(cache.dir, orphan, '.x.tar.1.tmp'), 'half');
    const job = cache.prepare({ from: 'registry', images: ['team/app:v1'], format: 'docker' });
    cache.sweep();
    expect(existsSync(join(cache.dir, orphan))).toBe(false);
    const done = await jobs.wait(job.id);
    cache.close();
    expect(done.state).toBe('done');
    expect(resolvePreparedExport(dataDir, (done.result as PreparedExport).id).name).toBe('team-app_v1.tar');
  });
});
