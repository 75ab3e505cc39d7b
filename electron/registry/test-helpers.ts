/**
 * Test fixtures for the registry's unit tests: a RegistryService on a random free port in a temp dir,
 * and small builders for blobs and manifests. Not imported by production code.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../app/events';
import { MediaType } from '../../shared/media-types';
import { RegistryService } from './service';

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface TestRegistry {
  service: RegistryService;
  url: string;
  dataDir: string;
  events: EventBus;
  logs: string[];
  close(): Promise<void>;
}

export async function startTestRegistry(dataDir?: string): Promise<TestRegistry> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'berth-registry-')));
  const events = new EventBus();
  const logs: string[] = [];
  const service = new RegistryService({ dataDir: dir, events, log: (l) => logs.push(l) });
  await service.configure({ host: '127.0.0.1', port: 0 });
  await service.start();
  const { port } = service.status();
  return {
    service,
    url: `http://127.0.0.1:${port}`,
    dataDir: dir,
    events,
    logs,
    async close() {
      await service.close();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Monolithic upload (POST ?digest=); returns the digest. */
export async function pushBlob(url: string, repo: string, bytes: Buffer | string): Promise<string> {
  const body = Buffer.from(bytes);
  const digest = sha256(body);
  const res = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body });
  if (res.status !== 201) throw new Error(`push blob: ${res.status} ${await res.text()}`);
  return digest;
}

/** An OCI image manifest over a config and layers (each pushed first). */
export async function pushImage(
  url: string,
  repo: string,
  tag: string | undefined,
  opts: { layers?: string[]; config?: string; extra?: Record<string, unknown>; mediaType?: string } = {},
): Promise<{ digest: string; bytes: Buffer<ArrayBuffer>; layers: string[]; config: string }> {
  const configBytes = opts.config ?? JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  const config = await pushBlob(url, repo, configBytes);
  const layers: string[] = [];
  const layerDescs = [];
  for (const l of opts.layers ?? ['layer-' + Math.random()]) {
    const d = await pushBlob(url, repo, l);
    layers.push(d);
    layerDescs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d, size: Buffer.byteLength(l) });
  }
  const mediaType = opts.mediaType ?? MediaType.ociManifest;
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: mediaType === MediaType.dockerManifest ? MediaType.dockerConfig : MediaType.ociConfig, digest: config, size: Buffer.byteLength(configBytes) },
    layers: layerDescs,
    ...opts.extra,
  };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 2));
  const digest = sha256(bytes);
  const res = await fetch(`${url}/v2/${repo}/manifests/${tag ?? digest}`, { method: 'PUT', body: bytes, headers: { 'Content-Type': mediaType } });
  if (res.status !== 201) throw new Error(`push manifest: ${res.status} ${await res.text()}`);
  return { digest, bytes, layers, config };
}

/** The OCI error code of a response body. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: Array<{ code: string }> };
  return body.errors?.[0]?.code;
}
