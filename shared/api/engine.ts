/** The local Docker engine: connection, images. */
import { z } from 'zod';
import { method } from '../contract';

export interface EngineEndpoint {
  /** 'unix' socket path, Windows 'npipe', 'tcp' URL (http or https), or 'ssh' URL (ssh://user@host) */
  kind: 'unix' | 'npipe' | 'tcp' | 'ssh';
  address: string;
  /** Where we found it: 'DOCKER_HOST', 'context:<name>', 'docker-desktop', 'colima', 'podman', 'default', … */
  source: string;
  /** tcp only: the connection uses TLS (DOCKER_TLS_VERIFY, port 2376, or a context with TLS material). */
  tls?: boolean;
  /** In `EngineStatus.tried`: why this endpoint did not answer (e.g. 'connection refused'). */
  error?: string;
}

export interface EngineStatus {
  connected: boolean;
  endpoint?: EngineEndpoint;
  /** Engine product name (e.g. 'Docker Engine - Community', 'Podman Engine'), version, API version, platform. */
  name?: string;
  version?: string;
  apiVersion?: string;
  os?: string;
  arch?: string;
  /**
   * Connected, but not to the engine the user configured (DOCKER_HOST or the docker context did not answer
   * and a later candidate did): say so, or images would be removed from an engine the user did not mean.
   */
  warning?: string;
  /** When not connected: what went wrong and what the user can do about it. */
  error?: string;
  hint?: string;
  /** Every endpoint that was tried, in order. */
  tried?: EngineEndpoint[];
}

export interface ImageSummary {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  /** seconds since epoch */
  created: number;
  size: number;
  dangling: boolean;
  /** Containers (any state) that use this image. */
  containers: number;
  labels: Record<string, string>;
}

export interface ContainerRef {
  id: string;
  name: string;
  state: string;
}

export interface ImageHistoryStep {
  id: string;
  created: number;
  createdBy: string;
  size: number;
  comment: string;
  tags: string[];
  /** Steps like ENV or CMD add metadata, not a layer. */
  emptyLayer: boolean;
}

export interface ImageDetails {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: string;
  size: number;
  os: string;
  architecture: string;
  variant?: string;
  author?: string;
  config: {
    entrypoint: string[];
    cmd: string[];
    env: string[];
    labels: Record<string, string>;
    exposedPorts: string[];
    workingDir: string;
    user: string;
  };
  /** rootfs diff ids, bottom first */
  layers: string[];
  history: ImageHistoryStep[];
  usedBy: ContainerRef[];
}

const imageId = z.string().min(1).max(512);

export const engineMethods = {
  'engine.status': method(z.object({ refresh: z.boolean().optional() }).strict()).returns<EngineStatus>(),
  'images.list': method(z.object({}).strict()).returns<ImageSummary[]>(),
  'images.inspect': method(z.object({ id: imageId }).strict()).returns<ImageDetails>(),
  'images.tag': method(z.object({ id: imageId, target: z.string().min(1).max(512) }).strict()).returns<{ reference: string }>(),
  'images.remove': method(z.object({ id: imageId, force: z.boolean().optional() }).strict()).returns<{ deleted: string[]; untagged: string[] }>(),
  'images.prune': method(z.object({}).strict()).returns<{ deleted: string[]; spaceReclaimed: number }>(),
};
