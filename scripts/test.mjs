#!/usr/bin/env node
// `npm test`: everything the project's tests need, then the tests.
//  1. System tools the integration and e2e tests drive (docker engine + CLI, skopeo, podman, the reference
//     registry, chromium): installed from Debian when missing and we are root; otherwise we say what is missing.
//  2. An engine: a private dockerd (root on Linux) — or, on a developer laptop, the existing engine,
//     where tests touch only their own `berth-test-` images and never remove or prune anything else.
//  3. vitest (unit + integration), the UI build, Playwright e2e against `berth serve`.
// Flags: --unit (unit tests only), --no-e2e.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canStartPrivateEngine, commandExists, startPrivateEngine } from './private-engine.mjs';

const args = new Set(process.argv.slice(2));
const unitOnly = args.has('--unit');
const withE2e = !args.has('--no-e2e') && !unitOnly;

const tools = [
  { cmd: 'dockerd', pkg: 'docker.io' },
  { cmd: 'docker', pkg: 'docker.io' },
  { cmd: 'skopeo', pkg: 'skopeo' },
  { cmd: 'podman', pkg: 'podman' },
  { cmd: 'docker-registry', pkg: 'docker-registry' },
  { cmd: 'chromium', pkg: 'chromium' },
];

function run(cmd, argv, env = process.env) {
  console.log(`\n$ ${cmd} ${argv.join(' ')}`);
  const r = spawnSync(cmd, argv, { stdio: 'inherit', env });
  return r.status ?? 1;
}

function ensureSystemTools() {
  const missing = tools.filter((t) => !commandExists(t.cmd));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  if (process.platform === 'linux' && process.getuid?.() === 0 && commandExists('apt-get')) {
    console.log(`Installing test dependencies from Debian: ${pkgs.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (run('apt-get', ['update', '-qq'], env) !== 0 || run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs, 'uidmap', 'fuse-overlayfs', 'iptables', 'ca-certificates'], env) !== 0) {
      console.error('apt-get failed; tests that need these tools will fail.');
    }
  } else {
    console.warn(`Missing test tools: ${missing.map((t) => t.cmd).join(', ')} (Debian packages: ${pkgs.join(' ')}). Tests that need them will say so.`);
  }
}

async function main() {
  const env = { ...process.env };
  let engine;
  if (!unitOnly) {
    ensureSystemTools();
    if (process.env.BERTH_TEST_DOCKER_HOST) {
      env.DOCKER_HOST = process.env.BERTH_TEST_DOCKER_HOST;
      env.BERTH_TEST_PRIVATE_ENGINE = process.env.BERTH_TEST_PRIVATE_ENGINE ?? '0';
    } else if (canStartPrivateEngine()) {
      engine = await startPrivateEngine(join(tmpdir(), `berth-test-engine-${process.pid}`));
      console.log(`Private Docker engine: ${engine.host} (log: ${engine.logFile})`);
      env.DOCKER_HOST = engine.host;
      env.BERTH_TEST_PRIVATE_ENGINE = '1';
    } else {
      console.log('Using the existing Docker engine: tests create only berth-test-* images and never remove or prune others.');
      env.BERTH_TEST_PRIVATE_ENGINE = '0';
    }
  }
  let status = 0;
  try {
    status = run('npx', ['vitest', 'run', ...(unitOnly ? ['--project', 'unit'] : [])], env);
    if (withE2e) {
      status ||= run('npx', ['electron-vite', 'build'], env);
      status ||= run('npx', ['playwright', 'test'], env);
    }
  } finally {
    await engine?.stop();
  }
  process.exit(status);
}

if (!existsSync('node_modules')) {
  console.error('Run `npm install` first (or `npm ci`).');
  process.exit(1);
}
await main();
