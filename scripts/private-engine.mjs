// Starts and stops a private Docker engine for the tests: its own data root (vfs, so it works in any
// container), its own socket, no iptables, no bridge. Tests that remove or prune images run only here,
// never against a developer's own engine.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function canStartPrivateEngine() {
  return process.platform === 'linux' && process.getuid?.() === 0 && commandExists('dockerd');
}

export function commandExists(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Starts dockerd under `root`; resolves with { host, stop } once the engine answers. */
export async function startPrivateEngine(root) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const sock = join(root, 'docker.sock');
  const logFile = join(root, 'dockerd.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    'dockerd',
    [
      '--data-root', join(root, 'data'),
      '--exec-root', join(root, 'exec'),
      '--storage-driver', 'vfs',
      '--iptables=false', '--ip6tables=false', '--bridge=none',
      '--host', `unix://${sock}`,
      '--pidfile', join(root, 'dockerd.pid'),
    ],
    { stdio: ['ignore', out, out], detached: true },
  );
  const host = `unix://${sock}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dockerd exited (${child.exitCode}); see ${logFile}:\n${tail(logFile)}`);
    if (existsSync(sock) && spawnSync('docker', ['-H', host, 'version'], { stdio: 'ignore' }).status === 0) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`dockerd did not answer within 60 s; see ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(250);
  }
  return {
    host,
    logFile,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const until = Date.now() + 20_000;
      while (child.exitCode === null && Date.now() < until) await sleep(100);
      if (child.exitCode === null) child.kill('SIGKILL');
      // vfs layers of a test run are big; leave nothing behind.
      spawnSync('rm', ['-rf', root]);
    },
  };
}

function tail(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}
