/**
 * Test images made offline (no Docker Hub here): a `FROM scratch` Dockerfile with one COPY per layer,
 * built by the classic builder (`DOCKER_BUILDKIT=0 docker build`) on the engine at DOCKER_HOST. Every
 * image is named `berth-test-…` so tests only ever touch their own images.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNormalizedReference } from '../../shared/reference';

export const TEST_PREFIX = 'berth-test-';

/** True when the tests run against a private engine they started (remove/prune tests run only then). */
export const onPrivateEngine = process.env.BERTH_TEST_PRIVATE_ENGINE === '1';
export const privateEngineSkipReason =
  'removes or prunes images: runs only against the private engine scripts/test.mjs starts (BERTH_TEST_PRIVATE_ENGINE=1)';

export interface TestImageSpec {
  /** Repository name; must start with 'berth-test-'. Default: berth-test-<random>. */
  name?: string;
  tag?: string;
  /**
   * Layers: a number N makes N layers of `layerSize` random bytes each (one file per layer);
   * or give the files of each layer explicitly (path inside the image → content).
   */
  layers?: number | Array<Record<string, string | Buffer>>;
  layerSize?: number;
  labels?: Record<string, string>;
  env?: Record<string, string>;
  cmd?: string[];
  entrypoint?: string[];
  workdir?: string;
  user?: string;
  expose?: string[];
  /** Engine to build on; default DOCKER_HOST. */
  host?: string;
}

export interface TestImage {
  id: string;
  name: string;
  tag: string;
  /** name:tag */
  reference: string;
}

/** Runs the docker CLI against `host` (default DOCKER_HOST); resolves with stdout, rejects with stderr. */
export function docker(args: string[], opts: { host?: string; env?: Record<string, string> } = {}): Promise<string> {
  const env = { ...process.env, ...opts.env };
  if (opts.host) env.DOCKER_HOST = opts.host;
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`docker ${args.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

export function randomTestName(hint = 'img'): string {
  return `${TEST_PREFIX}${hint}-${randomBytes(4).toString('hex')}`;
}

export async function createTestImage(spec: TestImageSpec = {}): Promise<TestImage> {
  const name = spec.name ?? randomTestName();
  if (!name.startsWith(TEST_PREFIX)) throw new Error(`Test images must be named ${TEST_PREFIX}…, not ${name}`);
  const tag = spec.tag ?? 'latest';
  const ctx = mkdtempSync(join(tmpdir(), 'berth-test-build-'));
  try {
    const layers =
      typeof spec.layers === 'object'
        ? spec.layers
        : Array.from({ length: spec.layers ?? 1 }, (_, i) => ({ [`/layer-${i}.bin`]: randomBytes(spec.layerSize ?? 1024) }));
    const lines = ['FROM scratch'];
    layers.forEach((files, i) => {
      const dir = join(ctx, `layer${i}`);
      for (const [path, content] of Object.entries(files)) {
        const target = join(dir, path);
        mkdirSync(join(target, '..'), { recursive: true });
        writeFileSync(target, content);
      }
      lines.push(`COPY layer${i}/ /`);
    });
    for (const [k, v] of Object.entries(spec.labels ?? {})) lines.push(`LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`);
    for (const [k, v] of Object.entries(spec.env ?? {})) lines.push(`ENV ${k}=${JSON.stringify(v)}`);
    if (spec.workdir) lines.push(`WORKDIR ${spec.workdir}`);
    if (spec.user) lines.push(`USER ${spec.user}`);
    for (const p of spec.expose ?? []) lines.push(`EXPOSE ${p}`);
    if (spec.entrypoint) lines.push(`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`);
    if (spec.cmd) lines.push(`CMD ${JSON.stringify(spec.cmd)}`);
    writeFileSync(join(ctx, 'Dockerfile'), lines.join('\n') + '\n');
    const reference = `${name}:${tag}`;
    await docker(['build', '-q', '-t', reference, ctx], { host: spec.host, env: { DOCKER_BUILDKIT: '0' } });
    const id = await docker(['image', 'inspect', '--format', '{{.Id}}', reference], { host: spec.host });
    return { id, name, tag, reference };
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

/** Removes a test image by reference or id (forced, so leftover tags go too). Never fails. */
export async function removeTestImage(refOrId: string, host?: string): Promise<void> {
  if (!isTestReference(refOrId) && !/^(sha256:)?[a-f0-9]{12,64}$/.test(refOrId)) {
    throw new Error(`Refusing to remove ${refOrId}: not a ${TEST_PREFIX} image`);
  }
  await docker(['rmi', '-f', refOrId], { host }).catch(() => undefined);
}

/** True for references whose repository's last component is a `berth-test-…` name (any registry host). */
export function isTestReference(ref: string): boolean {
  const parsed = parseNormalizedReference(ref);
  return parsed.ok && (parsed.value.path.split('/').pop() ?? '').startsWith(TEST_PREFIX);
}

/** Tags of `docker images` for a repository (what a user sees in the CLI). */
export async function cliTags(repository: string, host?: string): Promise<string[]> {
  const out = await docker(['images', '--format', '{{.Repository}}:{{.Tag}}', repository], { host });
  return out ? out.split('\n').sort() : [];
}
