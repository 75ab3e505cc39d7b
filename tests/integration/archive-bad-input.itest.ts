/**
 * Bad archives through the real contract (dispatch → ArchiveService → RegistryStore on disk): each import
 * fails with ARCHIVE_INVALID (or a clear refusal) and a message a person can act on, and leaves nothing in
 * the registry — no repository, no blob file, no temp file.
 */
import { mkdtempSync, readdirSync, rmSync, truncateSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BerthApi } from '../../shared/api';
import { createBackend, type Backend } from '../../electron/app/backend';
import { MemoryStore } from '../../electron/app/settings';
import { directApi } from '../../electron/cli/instance';
import { digestOf, writeDockerArchive, writeRawTar } from '../fixtures/archives';

const work = mkdtempSync(join(tmpdir(), 'berth-archive-bad-'));
const dataDir = join(work, 'data');
let backend: Backend;
let api: BerthApi;

beforeAll(async () => {
  backend = createBackend({ mode: 'serve', version: 'test', dataDir, store: new MemoryStore(), registry: false, log: () => {} });
  await backend.start();
  api = directApi(backend);
});
afterAll(async () => {
  await backend?.close();
  rmSync(work, { recursive: true, force: true });
});

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

let n = 0;
const archive = (ext = 'tar') => join(work, `bad${n++}.${ext}`);

async function expectRefused(path: string, pattern: RegExp, code = 'ARCHIVE_INVALID') {
  const job = await api['archive.import']({ source: { path }, target: 'registry', repository: 'victim', tags: ['1'] });
  const done = await backend.services.jobs.wait(job.id);
  expect(done.state).toBe('failed');
  expect(done.error?.code).toBe(code);
  expect(done.error?.message).toMatch(pattern);
  // Nothing left: no repository, no blob, no temp file.
  expect(await api['registry.repositories']({})).toEqual([]);
  expect(files(join(dataDir, 'registry', 'blobs'))).toEqual([]);
  expect(files(join(dataDir, 'registry', 'tmp'))).toEqual([]);
}

const config = (diffIds: string[]) => JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: diffIds } });
const configName = (c: string) => `${digestOf(c).slice(7)}.json`;

describe('archive import refuses bad input and leaves nothing behind', () => {
  it('not a tar', async () => {
    const p = archive();
    writeFileSync(p, 'PK\u0003\u0004 this is a zip, not a tar '.repeat(64));
    await expectRefused(p, /not a tar archive/);
  });

  it('a truncated tar (the layers already streamed into the store are removed again)', async () => {
    const p = archive();
    await writeDockerArchive(p, [{ tags: ['t:1'], layers: [[{ name: 'a', size: 3 << 20, seed: 'a' }], [{ name: 'b', size: 3 << 20, seed: 'b' }]] }]);
    truncateSync(p, statSync(p).size - 5000);
    await expectRefused(p, /truncated/);
  });

  it('gzip of garbage', async () => {
    const p = archive('tar.gz');
    writeFileSync(p, Buffer.concat([gzipSync(Buffer.alloc(0)).subarray(0, 10), Buffer.alloc(4096, 0xa5)]));
    await expectRefused(p, /gzip/);
  });

  it('entries with ../ or an absolute path', async () => {
    const up = archive();
    await writeRawTar(up, [{ name: 'ok/layer.tar', content: 'x' }, { name: 'ok/../../../etc/cron.d/evil', content: 'x' }]);
    await expectRefused(up, /climbs out of the archive/);
    const abs = archive();
    await writeRawTar(abs, [{ name: '/etc/cron.d/evil', content: 'x' }]);
    await expectRefused(abs, /absolute path/);
  });

  it('symlinks and hard links pointing outside', async () => {
    const sym = archive();
    await writeRawTar(sym, [{ name: 'x/layer.tar', type: 'symlink', linkname: '../../../etc/shadow' }]);
    await expectRefused(sym, /points outside the archive/);
    const hard = archive();
    await writeRawTar(hard, [{ name: 'x/layer.tar', type: 'link', linkname: '/etc/shadow' }]);
    await expectRefused(hard, /points outside the archive/);
  });

  it('manifest.json naming a missing layer', async () => {
    const c = config([digestOf('layer')]);
    const p = archive();
    await writeRawTar(p, [
      { name: 'present/layer.tar', content: Buffer.alloc(2 << 20, 1) },
      { name: configName(c), content: c },
      { name: 'manifest.json', content: JSON.stringify([{ Config: configName(c), RepoTags: ['m:1'], Layers: ['missing/layer.tar'] }]) },
    ]);
    await expectRefused(p, /names the layer "missing\/layer.tar", which is not in the archive/);
  });

  it('a config whose digest does not match', async () => {
    const c = config([]);
    const lie = `${digestOf('another config').slice(7)}.json`;
    const p = archive();
    await writeRawTar(p, [
      { name: lie, content: c },
      { name: 'manifest.json', content: JSON.stringify([{ Config: lie, RepoTags: ['c:1'], Layers: [] }]) },
    ]);
    await expectRefused(p, /is damaged: its content hashes to sha256:/);
  });

  it('duplicate entries', async () => {
    const p = archive();
    await writeRawTar(p, [
      { name: 'manifest.json', content: '[]' },
      { name: 'manifest.json', content: '[{"Config":"evil.json","RepoTags":["x:1"],"Layers":[]}]' },
    ]);
    await expectRefused(p, /holds "manifest.json" twice/);
  });

  it('100,000 tiny entries', async () => {
    const p = archive();
    await writeRawTar(p, Array.from({ length: 100_000 }, (_, i) => ({ name: `e/${i}`, content: '' })));
    await expectRefused(p, /more than 10,000 entries/);
  });

  it('an archive larger than the free disk is refused before anything is read', async () => {
    const p = archive();
    writeFileSync(p, '');
    truncateSync(p, 2 ** 40); // 1 TiB, sparse: costs no disk
    await expectRefused(p, /only .* is free on the disk/, 'INVALID_INPUT');
    rmSync(p);
  });

  it('a path that is not there, or relative, fails the call itself', async () => {
    await expect(api['archive.import']({ source: { path: join(work, 'nope.tar') }, target: 'registry' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(api['archive.import']({ source: { path: 'relative.tar' }, target: 'registry' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
