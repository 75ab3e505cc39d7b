import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDataDir } from '../app/data-dir';
import { commands, runCli } from './main';

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('berth CLI', () => {
  it('lists its commands', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of commands) expect(r.out).toContain(`  ${c.name}`);
    expect((await cli([])).code).toBe(2);
  });

  it('answers --help on every command, and `help <command>` the same', async () => {
    for (const c of commands) {
      const r = await cli([c.name, '--help']);
      expect(r.code, c.name).toBe(0);
      expect(r.out).toBe(c.usage);
      expect((await cli(['help', c.name])).out).toBe(c.usage);
    }
  });

  it('prints usage errors as one line and exits 2', async () => {
    const unknown = await cli(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2, err: 'berth: unknown command "frobnicate". Run `berth help` for the list.' });
    const badPort = await cli(['serve', '--port', 'eighty']);
    expect(badPort.code).toBe(2);
    expect(badPort.err.split('\n')[0]).toBe('berth serve: --port must be a port number from 0 to 65535, not "eighty".');
    const badFlag = await cli(['registry', '--colour']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toMatch(/^berth registry: Unknown option '--colour'/);
    expect(badFlag.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('says who holds the data directory and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
    const lock = lockDataDir(dir, { mode: 'the Berth desktop app' });
    try {
      const r = await cli(['registry', '--port', '0', '--data', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`berth registry: The data directory ${dir} is in use by the Berth desktop app (pid ${process.pid}, started ${lock.holder.startedAt}). Stop it or use --data to pick another directory.`);
    } finally {
      lock.release();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints the version', async () => {
    expect((await cli(['version'])).out).toMatch(/^\d+\.\d+\.\d+/);
  });
});
