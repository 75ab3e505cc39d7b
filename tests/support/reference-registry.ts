/**
 * The reference registry: Debian's `docker-registry` (CNCF distribution 2.8) on a random loopback port,
 * with a generated config.yml and its storage in a temp dir. Conformance tests run against it to prove
 * that a test is real (it passes on the reference), and the benchmark measures Berth against it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const referenceRegistryBinary = '/usr/bin/docker-registry';

export interface ReferenceRegistry {
  url: string;
  hostPort: string;
  /** Storage root of the filesystem driver. */
  dataDir: string;
  pid: number;
  stop(): Promise<void>;
}

/** A port the kernel calls free right now. The registry cannot take port 0 and tell us, so ask first. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function configYaml(dataDir: string, hostPort: string): string {
  // Deletes on (the conformance suite deletes manifests); no auth; the in-memory blob descriptor cache is
  // the reference's own default, so the benchmark measures it as people deploy it.
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  cache:',
    '    blobdescriptor: inmemory',
    '  filesystem:',
    `    rootdirectory: ${dataDir}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${hostPort}`,
    '',
  ].join('\n');
}

/** Polls GET /v2/ until it answers 200, the child dies, or the deadline passes. */
export async function waitForV2(url: string, child: ChildProcess, output: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`registry exited (${child.exitCode ?? child.signalCode}) before answering:\n${output()}`);
    }
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`registry at ${url} did not answer GET /v2/ within ${timeoutMs} ms:\n${output()}`);
    await sleep(100);
  }
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function startReferenceRegistry(options: { dataDir?: string } = {}): Promise<ReferenceRegistry> {
  const workDir = await mkdtemp(join(tmpdir(), 'berth-test-refreg-'));
  const dataDir = options.dataDir ?? join(workDir, 'data');
  // A port found free may be taken before the registry binds it; try a few.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const hostPort = `127.0.0.1:${port}`;
    const configFile = join(workDir, 'config.yml');
    await writeFile(configFile, configYaml(dataDir, hostPort));
    const child = spawn(referenceRegistryBinary, ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const keep = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const url = `http://${hostPort}`;
    try {
      await waitForV2(url, child, () => log);
    } catch (error) {
      await stopChild(child);
      if (attempt < 3 && /address already in use/.test(log)) continue;
      await rm(workDir, { recursive: true, force: true });
      throw error;
    }
    return {
      url,
      hostPort,
      dataDir,
      pid: child.pid!,
      async stop() {
        await stopChild(child);
        await rm(workDir, { recursive: true, force: true });
      },
    };
  }
}
