/**
 * The e2e fixture: a real `berth serve` (the built UI, the backend, the embedded registry) as a child
 * process with DOCKER_HOST from the environment, a temp data directory and free ports (port 0). The
 * URL it prints (with the token in the fragment) is what the page opens. Stopped with SIGTERM after.
 */
import { test as base, expect, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BerthServer {
  /** `http://127.0.0.1:P/#token=…` as printed */
  url: string;
  origin: string;
  token: string;
  /** 'localhost:P' of the embedded registry, when it runs */
  registry?: string;
  dataDir: string;
  /** Everything the process printed so far (for failure messages). */
  output(): string;
}

export async function startBerth(opts: { env?: NodeJS.ProcessEnv; registry?: boolean } = {}): Promise<BerthServer & { stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-e2e-'));
  const args = ['bin/berth.mjs', 'serve', '--port', '0', '--data', dataDir, ...(opts.registry === false ? ['--no-registry'] : ['--registry-port', '0'])];
  const child: ChildProcess = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const ready = await new Promise<{ url: string; registry?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth serve printed no URL within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const url = /(http:\/\/[^\s]+#token=[\w-]+)/.exec(out)?.[1];
      const done = /Press Ctrl-C to stop/.test(out);
      if (url && done) {
        clearTimeout(timer);
        resolve({ url, registry: /^Registry: (\S+)$/m.exec(out)?.[1] });
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`berth serve exited (${code}) before it was ready:\n${out}`));
    });
  });
  const u = new URL(ready.url);
  return {
    url: ready.url,
    origin: u.origin,
    token: new URLSearchParams(u.hash.slice(1)).get('token') ?? '',
    registry: ready.registry,
    dataDir,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timeout);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One berth serve per worker (workers: 1 → one for the run); each test opens a fresh page on it. */
export const test = base.extend<{ app: Page }, { berth: BerthServer }>({
  berth: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const server = await startBerth();
      await use(server);
      await server.stop();
    },
    { scope: 'worker', timeout: 90_000 },
  ],
  app: async ({ page, berth }, use) => {
    await page.goto(berth.url);
    await expect(page.getByRole('navigation', { name: 'Views' })).toBeVisible();
    await use(page);
  },
});

export { expect };

/** The row of the Images table whose name cell shows `reference`. */
export const imageRow = (page: Page, reference: string) => page.getByRole('grid', { name: 'Images' }).getByRole('row').filter({ hasText: reference });

/** Selects an image by clicking its name cell (the row's middle may hold a copy button, which does not select). */
export const selectImage = (page: Page, reference: string) => imageRow(page, reference).getByRole('gridcell').first().click();
