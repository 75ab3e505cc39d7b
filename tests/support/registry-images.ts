/**
 * Offline test images for the registry suites: no Docker Hub here, so images are built from random files
 * (`FROM scratch` + one COPY per layer, classic builder), and multi-platform indexes are written by hand
 * as an OCI image layout that skopeo reads. Every engine image is named `berth-test-…`.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { sha256 } from './registry-client';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion; throws with its stderr unless `allowFailure`. */
export function run(cmd: string, args: string[], options: SpawnSyncOptions & { allowFailure?: boolean } = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20, ...options });
  const result = { status: r.status ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') + (r.error ? String(r.error) : '') };
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}):\n${result.stderr}\n${result.stdout}`.slice(0, 4000));
  }
  return result;
}

/** The docker CLI against DOCKER_HOST (scripts/test.mjs sets it; in development, the shared dev engine). */
export function docker(args: string[], options: { allowFailure?: boolean; env?: NodeJS.ProcessEnv } = {}): RunResult {
  return run('docker', args, { ...options, env: { ...process.env, DOCKER_BUILDKIT: '0', ...options.env } });
}

/** Why the docker CLI + engine cannot be used, or undefined when they can. */
export function dockerUnavailable(): string | undefined {
  const r = docker(['version', '--format', '{{.Server.Version}}'], { allowFailure: true });
  return r.status === 0 ? undefined : `no Docker engine answers at ${process.env.DOCKER_HOST ?? 'the default socket'}: ${r.stderr.trim().slice(0, 200)}`;
}

export function toolUnavailable(tool: string): string | undefined {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0 ? undefined : `${tool} is not installed`;
}

export function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Builds `tag` (must start with berth-test-) from `layers` random files of `layerSize` bytes each, one
 * layer per COPY, and returns the image ID.
 */
export async function buildTestImage(tag: string, options: { layers?: number; layerSize?: number } = {}): Promise<string> {
  if (!tag.startsWith('berth-test-')) throw new Error(`test images are named berth-test-…, not ${tag}`);
  const layers = options.layers ?? 3;
  const layerSize = options.layerSize ?? 256 * 1024;
  const context = await mkdtemp(join(tmpdir(), 'berth-test-build-'));
  try {
    const lines = ['FROM scratch'];
    for (let i = 0; i < layers; i++) {
      await writeFile(join(context, `layer${i}.bin`), randomBytes(layerSize));
      lines.push(`COPY layer${i}.bin /data/layer${i}.bin`);
    }
    lines.push(`LABEL berth.test=${JSON.stringify(tag)}`);
    await writeFile(join(context, 'Dockerfile'), lines.join('\n') + '\n');
    docker(['build', '-q', '-t', tag, context]);
    return imageId(tag);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

export function imageId(ref: string): string {
  return docker(['image', 'inspect', '--format', '{{.Id}}', ref]).stdout.trim();
}

/** Removes exactly these references (our own berth-test images); missing ones are fine. */
export function removeImages(refs: string[]): void {
  if (refs.length > 0) docker(['rmi', '--force', ...refs], { allowFailure: true });
}

/** The `digest: sha256:… size: N` line docker push prints at the end. */
export function pushedDigest(pushOutput: string): string {
  const m = /digest: (sha256:[0-9a-f]{64})/.exec(pushOutput);
  if (!m) throw new Error(`docker push printed no digest:\n${pushOutput}`);
  return m[1];
}

// ---------- OCI image layout with a multi-platform index (for skopeo --all) ----------

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface OciLayout {
  dir: string;
  tag: string;
  index: Descriptor;
  manifests: Descriptor[];
}

const ociIndexType = 'application/vnd.oci.image.index.v1+json';
const ociManifestType = 'application/vnd.oci.image.manifest.v1+json';

async function tarOf(name: string, content: Buffer): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    tar.on('end', () => resolve());
    tar.on('error', reject);
  });
  tar.entry({ name, size: content.length, mode: 0o644, mtime: new Date(0) }, content);
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * Writes an OCI image layout at `dir` holding one image index tagged `tag` with one image per platform
 * (a real gzip tar layer each, a config whose diff_ids match). Fixtures are a few KiB, so they are built
 * in memory.
 */
export async function writeMultiPlatformLayout(dir: string, tag: string, platforms: Array<{ architecture: string; os: string; variant?: string }>): Promise<OciLayout> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const putBlob = async (bytes: Buffer, mediaType: string): Promise<Descriptor> => {
    const digest = sha256(bytes);
    await writeFile(join(blobs, digest.slice('sha256:'.length)), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const manifests: Descriptor[] = [];
  for (const platform of platforms) {
    const tar = await tarOf(`hello-${platform.architecture}.txt`, randomBytes(8192));
    const layer = await putBlob(gzipSync(tar), 'application/vnd.oci.image.layer.v1.tar+gzip');
    const config = await putBlob(
      Buffer.from(
        JSON.stringify({
          architecture: platform.architecture,
          os: platform.os,
          ...(platform.variant ? { variant: platform.variant } : {}),
          config: {},
          rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
        }),
      ),
      'application/vnd.oci.image.config.v1+json',
    );
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: ociManifestType, config, layers: [layer] }));
    manifests.push({ ...(await putBlob(manifest, ociManifestType)), platform });
  }
  const index = await putBlob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: ociIndexType, manifests })), ociIndexType);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: ociIndexType, manifests: [{ ...index, annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
  );
  return { dir, tag, index, manifests };
}
