/**
 * The real `berth` command, as a user runs it (`node bin/berth.mjs …`, what `npm run berth --` does),
 * against the real engine at DOCKER_HOST: `berth serve` prints a tokened URL, the bridge answers 401
 * without the token and lists the engine's images with it, a second instance is told who holds the
 * directory, a taken port gets a free one suggested, Ctrl-C stops it cleanly.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageSummary } from '../../shared/api/engine';
import { createTestImage, onPrivateEngine, removeTestImage, type TestImage } from '../../tests/support/images';

const bin = fileURLToPath(new URL('../../bin/berth.mjs', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function berth(args: string[]): Running {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function waitFor(r: Running, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(r.out());
    if (m) return m;
    if (r.child.exitCode !== null) throw new Error(`berth exited ${r.child.exitCode}: ${r.err()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; stdout: ${r.out()} stderr: ${r.err()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-cli-itest-'));
  dirs.push(d);
  return d;
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('berth serve', () => {
  let image: TestImage;
  beforeAll(async () => {
    image = await createTestImage({ layers: 1, layerSize: 64 });
  });
  afterAll(async () => {
    // Removing images is allowed only on the private engine; on a shared one the test image stays (berth-test-*).
    if (onPrivateEngine && image) await removeTestImage(image.reference);
  });

  it('prints a tokened URL; 401 without the token; lists the engine images with it; stops cleanly on SIGTERM', async () => {
    const data = tempDir();
    const port = await freePort();
    const serve = berth(['serve', '--port', String(port), '--data', data, '--no-registry']);
    const [, url, token] = await waitFor(serve, /(http:\/\/127\.0\.0\.1:\d+)\/#token=([A-Za-z0-9_-]{43})/);
    expect(url).toBe(`http://127.0.0.1:${port}`);

    const anonymous = await fetch(`${url}/api/call/images.list`, { method: 'POST', body: '{}' });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });

    const listed = await fetch(`${url}/api/call/images.list`, { method: 'POST', body: '{}', headers: { Authorization: `Bearer ${token}` } });
    expect(listed.status).toBe(200);
    const envelope = (await listed.json()) as { ok: boolean; result: ImageSummary[] };
    expect(envelope.ok).toBe(true);
    expect(envelope.result.find((i) => i.id === image.id)?.repoTags).toContain(image.reference);

    // A second instance on the same directory is told who holds it; exit code 1.
    const second = berth(['serve', '--port', '0', '--data', data, '--no-registry']);
    expect(await second.exit).toBe(1);
    expect(second.err()).toContain(`is in use by berth serve (pid ${serve.child.pid}, started `);

    serve.child.kill('SIGTERM');
    expect(await serve.exit).toBe(0);
    expect(existsSync(join(data, 'berth.lock'))).toBe(false);
    expect(existsSync(join(data, 'berth.sock'))).toBe(false);
  });

  it('names a free port and the flag to use when a port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const serve = berth(['serve', '--port', String(taken), '--data', tempDir(), '--no-registry']);
      expect(await serve.exit).toBe(1);
      expect(serve.err()).toMatch(new RegExp(`Port ${taken} on 127\\.0\\.0\\.1 is already in use.*Port (\\d+) is free: try --port \\1\\.`));
      // The registry's port: the message names the flag that sets it for each command.
      const withRegistry = berth(['serve', '--port', '0', '--registry-port', String(taken), '--data', tempDir()]);
      expect(await withRegistry.exit).toBe(1);
      expect(withRegistry.err()).toMatch(new RegExp(`The registry cannot listen on 127\\.0\\.0\\.1:${taken}: the port is in use\\. Port (\\d+) is free: try --registry-port \\1\\.`));
      const registry = berth(['registry', '--port', String(taken), '--data', tempDir()]);
      expect(await registry.exit).toBe(1);
      expect(registry.err()).toMatch(/Port (\d+) is free: try --port \1\./);
    } finally {
      blocker.close();
    }
  });
});

describe('berth registry', () => {
  it('prints exactly one stdout line when ready, with the real port for --port 0, and serves the registry API', async () => {
    const data = tempDir();
    const registry = berth(['registry', '--port', '0', '--data', data]);
    const [line, base] = await waitFor(registry, /Berth registry listening on (http:\/\/127\.0\.0\.1:(\d+)) \(data: .*\)\n/);
    expect(line).toBe(`Berth registry listening on ${base} (data: ${data})\n`);
    expect(base).not.toMatch(/:0$/);
    const v2 = await fetch(`${base}/v2/`);
    expect(v2.status).toBe(200);
    expect(v2.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    registry.child.kill('SIGINT');
    expect(await registry.exit).toBe(0);
    expect(registry.out().split('\n').filter(Boolean)).toHaveLength(1);
    expect(existsSync(join(data, 'berth.lock'))).toBe(false);
  });
});
