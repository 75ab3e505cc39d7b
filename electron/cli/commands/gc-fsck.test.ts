import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryStore } from '../../registry/store';
import type { CliIO } from '../command';
import { fsckCommand } from './fsck';
import { gcCommand, parseDuration } from './gc';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function capture(): CliIO & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), tty: false };
}

/** A data directory whose registry holds one blob that nothing references, two hours old. */
async function dataDirWithGarbage(): Promise<{ dir: string; digest: string; store: RegistryStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-gc-'));
  dirs.push(dir);
  const store = new RegistryStore({ root: join(dir, 'registry') });
  const { digest } = await store.writeBlob([Buffer.from('nobody wants me')]);
  await store.close();
  const old = (Date.now() - 2 * 3600_000) / 1000;
  await utimes(store.blobs.path(digest), old, old);
  return { dir, digest, store };
}

describe('berth gc', () => {
  it('parses durations', () => {
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(() => parseDuration('soon')).toThrow(/duration/);
  });

  it('--dry-run reports without deleting; a real run frees the blob', async () => {
    const { dir, digest, store } = await dataDirWithGarbage();
    const dry = capture();
    expect(await gcCommand.run(['--data', dir, '--dry-run'], dry)).toBe(0);
    expect(dry.lines[0]).toMatch(/^Would remove 1 blob\(s\), freeing 15 B/);
    expect(await store.hasBlob(digest)).toBe(15);
    await store.close();
    const real = capture();
    expect(await gcCommand.run(['--data', dir, '--grace', '30m'], real)).toBe(0);
    expect(real.lines[0]).toMatch(/^Removed 1 blob\(s\), freed 15 B/);
    expect(await store.hasBlob(digest)).toBeUndefined();
    await store.close();
  });
});

describe('berth fsck', () => {
  it('exits 1 while problems remain and 0 once repaired', async () => {
    const { dir, digest, store } = await dataDirWithGarbage();
    const clean = capture();
    expect(await fsckCommand.run(['--data', dir], clean)).toBe(0);
    expect(clean.lines.at(-1)).toBe('No problems found.');
    await writeFile(store.blobs.path(digest), 'tampered');
    const found = capture();
    expect(await fsckCommand.run(['--data', dir], found)).toBe(1);
    expect(found.lines.join('\n')).toMatch(/corrupt-blob/);
    const repaired = capture();
    expect(await fsckCommand.run(['--data', dir, '--repair'], repaired)).toBe(0);
    expect(repaired.lines.join('\n')).toMatch(/1 repaired, 0 remaining/);
    expect(await store.hasBlob(digest)).toBeUndefined();
    await store.close();
  });
});
