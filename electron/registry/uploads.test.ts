import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobFiles } from './blobs';
import { UploadSessions } from './uploads';

const dirs: string[] = [];
afterEach(async () => {
  while (dirs.length) await rm(dirs.pop()!, { recursive: true, force: true });
});

async function sessions(): Promise<UploadSessions> {
  const root = await mkdtemp(join(tmpdir(), 'berth-uploads-'));
  dirs.push(root);
  const blobs = new BlobFiles(root);
  await blobs.init();
  const uploads = new UploadSessions(root, blobs);
  await uploads.init();
  return uploads;
}

const MINUTE = 60_000;
const ID = '0b7e3a52-9a43-4c1e-8d2f-5a6b7c8d9e0f';

async function makeOld(path: string, ms: number): Promise<void> {
  const t = (Date.now() - ms) / 1000;
  await utimes(path, t, t);
}

describe('upload session expiry', () => {
  it('an expired session leaves the in-memory map too, even when its files went some other way', async () => {
    const uploads = await sessions();
    const a = await uploads.start('exp/a');
    const b = await uploads.start('exp/b');
    await uploads.append('exp/a', a.id, [Buffer.from('some bytes')]);
    await rm(join(uploads.dir, b.id), { force: true });
    await rm(join(uploads.dir, `${b.id}.json`), { force: true });
    expect(await uploads.status('exp/b', b.id)).toEqual({ offset: 0 }); // still known in memory
    const expired = await uploads.expire(MINUTE, Date.now() + 2 * MINUTE);
    expect(expired).toEqual({ count: 2, bytes: 10 });
    await expect(uploads.status('exp/b', b.id)).rejects.toMatchObject({ oci: 'BLOB_UPLOAD_UNKNOWN' });
    expect(uploads.openSessions).toBe(0);
    expect(await readdir(uploads.dir)).toEqual([]);
  });

  it('files a session being started has written so far are not debris: young ones stay, old ones go', async () => {
    const uploads = await sessions();
    // What start() leaves on disk between its steps: the metadata's atomic temp file, then the
    // metadata without the data file.
    const tmp = join(uploads.dir, `${ID}.json.a1b2c3d4e5f6.tmp`);
    const meta = join(uploads.dir, `${ID}.json`);
    await writeFile(tmp, '{"repo":"race/app"');
    expect((await uploads.expire(MINUTE)).count).toBe(0);
    await writeFile(meta, JSON.stringify({ repo: 'race/app', startedAt: Date.now() }));
    expect((await uploads.expire(MINUTE)).count).toBe(0);
    expect((await readdir(uploads.dir)).sort()).toEqual([`${ID}.json`, `${ID}.json.a1b2c3d4e5f6.tmp`]);
    // Left like that for longer than the expiry age, they are debris of a crash.
    await makeOld(tmp, 2 * MINUTE);
    await makeOld(meta, 2 * MINUTE);
    expect((await uploads.expire(MINUTE)).count).toBe(1);
    expect(await readdir(uploads.dir)).toEqual([]);
  });

  it('sessions started while the sweep runs are never harmed (start and expire interleaved)', async () => {
    const uploads = await sessions();
    const started: Array<Promise<{ id: string }>> = [];
    const sweeps: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) {
      started.push(uploads.start(`race/${i}`));
      sweeps.push(uploads.expire(MINUTE));
    }
    const ids = (await Promise.all(started)).map((s) => s.id);
    await Promise.all(sweeps);
    expect((await readdir(uploads.dir)).sort()).toEqual(ids.flatMap((id) => [id, `${id}.json`]).sort());
    for (const [i, id] of ids.entries()) expect(await uploads.status(`race/${i}`, id)).toEqual({ offset: 0 });
  });

  it('a session with a request running is not expired under it; an idle one is', async () => {
    const uploads = await sessions();
    const busy = await uploads.start('exp/busy');
    const idle = await uploads.start('exp/idle');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const writing = uploads.append('exp/busy', busy.id, (async function* () {
      yield Buffer.from('first ');
      await gate;
      yield Buffer.from('second');
    })());
    await new Promise((r) => setTimeout(r, 20));
    const expired = await uploads.expire(MINUTE, Date.now() + 2 * MINUTE);
    expect(expired.count).toBe(1);
    release();
    expect(await writing).toEqual({ offset: 12 });
    expect(await uploads.status('exp/busy', busy.id)).toEqual({ offset: 12 });
    await expect(uploads.status('exp/idle', idle.id)).rejects.toMatchObject({ oci: 'BLOB_UPLOAD_UNKNOWN' });
  });
});
