/**
 * One interface over the two registries the conformance suite and the benchmark drive: Berth's own
 * (`berth registry` as a child process) and the reference (Debian's docker-registry). A test written
 * against a RegistryTarget runs unchanged on both; passing on the reference proves the test is real.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceRegistryBinary, startReferenceRegistry, stopChild, waitForV2 } from './reference-registry';

export type RegistryTargetName = 'berth' | 'reference';

export interface RegistryTarget {
  name: RegistryTargetName;
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT — what goes in front of an image name. */
  hostPort: string;
  /** Storage root (Berth: the --data directory; reference: the filesystem driver's root). */
  dataDir?: string;
  /** Process id of the registry, for RSS sampling. */
  pid: number;
  /** Graceful stop; removes temp dirs this module created. */
  stop(): Promise<void>;
  /** SIGKILL, no cleanup of the data dir: the crash-safety tests restart on it. */
  kill9?(): Promise<void>;
}

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const berthBin = join(repoRoot, 'bin/berth.mjs');

/** Why Berth's registry cannot be started here, or undefined when it can. */
export function berthUnavailable(): string | undefined {
  if (!existsSync(berthBin)) return `${berthBin} does not exist yet (the \`berth registry\` command is not built)`;
  return undefined;
}

/** Why the reference registry cannot be started here, or undefined when it can. */
export function referenceUnavailable(): string | undefined {
  if (!existsSync(referenceRegistryBinary)) return `${referenceRegistryBinary} is missing (apt-get install docker-registry)`;
  return undefined;
}

export function targetUnavailable(name: RegistryTargetName): string | undefined {
  return name === 'berth' ? berthUnavailable() : referenceUnavailable();
}

/** Runs `berth ARGS…` to completion (fsck, gc): exit status and output. */
export function runBerth(args: string[], timeoutMs = 120_000): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [berthBin, ...args], { encoding: 'utf8', timeout: timeoutMs, cwd: repoRoot });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** Runs `berth ARGS…` without blocking the event loop (needed while the test also serves traffic). */
export function runBerthAsync(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [berthBin, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (error) => resolvePromise({ status: 1, stdout, stderr: stderr + String(error) }));
    child.on('close', (code) => resolvePromise({ status: code ?? 1, stdout, stderr }));
  });
}

const listeningLine = /listening on (http:\/\/([0-9.]+:\d+))/;

/**
 * Starts `berth registry --port 0 --host 127.0.0.1 --data DIR` and waits for its "listening on" line and
 * a 200 from GET /v2/. With `dataDir` given the directory is the caller's (kept on stop) — restart tests
 * pass the same directory twice.
 */
export async function startBerthRegistry(options: { dataDir?: string } = {}): Promise<RegistryTarget> {
  const unavailable = berthUnavailable();
  if (unavailable) throw new Error(unavailable);
  const ownDir = options.dataDir ? undefined : await mkdtemp(join(tmpdir(), 'berth-test-registry-'));
  const dataDir = options.dataDir ?? ownDir!;
  const child: ChildProcess = spawn(process.execPath, [berthBin, 'registry', '--port', '0', '--host', '127.0.0.1', '--data', dataDir], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth registry printed no "listening on" line within 30 s:\n${log}`)), 30_000);
    const onData = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8000);
      const m = listeningLine.exec(log);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`berth registry exited (${code ?? signal}) before listening:\n${log}`));
    });
  }).catch(async (error) => {
    await stopChild(child);
    if (ownDir) await rm(ownDir, { recursive: true, force: true });
    throw error;
  });
  // Keep draining the pipes so a chatty server never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  await waitForV2(url, child, () => log);
  return {
    name: 'berth',
    url,
    hostPort: url.replace(/^http:\/\//, ''),
    dataDir,
    pid: child.pid!,
    async stop() {
      await stopChild(child, 10_000);
      if (ownDir) await rm(ownDir, { recursive: true, force: true });
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function startRegistryTarget(name: RegistryTargetName, options: { dataDir?: string } = {}): Promise<RegistryTarget> {
  if (name === 'berth') return startBerthRegistry(options);
  const reference = await startReferenceRegistry(options);
  return { name: 'reference', ...reference };
}

/**
 * Rows for describe.each: each target with the reason it cannot run here (tool missing, Berth's command not
 * built yet, no engine), and a label that carries that reason into the test report.
 */
export function targetCases(names: RegistryTargetName[], sharedReason?: string): Array<{ name: RegistryTargetName; unavailable?: string; label: string }> {
  return names.map((name) => {
    const unavailable = sharedReason ?? targetUnavailable(name);
    return { name, unavailable, label: unavailable ? `${name} registry (skipped: ${unavailable})` : `${name} registry` };
  });
}
