/**
 * Reading stored manifests and image configs for display. The registry hands them over parsed but
 * untyped (`unknown`): these functions pick out what the browser shows and never throw on odd input.
 */
import { isIndexType } from '../../../shared/media-types';

export interface PlatformEntry {
  platform: string;
  digest: string;
  size: number;
  mediaType: string;
  /** Attestations and other artifacts in an index (buildx puts them next to the images). */
  artifact: boolean;
}

export interface LayerEntry {
  digest: string;
  size: number;
  mediaType: string;
}

export type ManifestSummary =
  | { kind: 'index'; platforms: PlatformEntry[]; annotations: Record<string, string> }
  | { kind: 'image'; config?: LayerEntry; layers: LayerEntry[]; artifactType?: string; subject?: string; annotations: Record<string, string> };

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const strMap = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));

function descriptor(v: unknown): LayerEntry {
  const d = obj(v);
  return { digest: str(d.digest), size: num(d.size), mediaType: str(d.mediaType) };
}

export function summarizeManifest(mediaType: string, manifest: unknown): ManifestSummary {
  const m = obj(manifest);
  const annotations = strMap(m.annotations);
  if (isIndexType(mediaType) || (Array.isArray(m.manifests) && !Array.isArray(m.layers))) {
    const platforms = arr(m.manifests).map((child): PlatformEntry => {
      const c = obj(child);
      const p = obj(c.platform);
      const ann = strMap(c.annotations);
      const platform = [str(p.os), str(p.architecture), str(p.variant)].filter(Boolean).join('/') || 'unknown';
      const artifact = ann['vnd.docker.reference.type'] !== undefined || (str(p.os) === 'unknown' && str(p.architecture) === 'unknown');
      return { ...descriptor(c), platform: artifact ? `${ann['vnd.docker.reference.type'] ?? 'artifact'}` : platform, artifact };
    });
    return { kind: 'index', platforms, annotations };
  }
  return {
    kind: 'image',
    config: m.config ? descriptor(m.config) : undefined,
    layers: arr(m.layers).map(descriptor),
    artifactType: str(m.artifactType) || undefined,
    subject: m.subject ? str(obj(m.subject).digest) : undefined,
    annotations,
  };
}

export interface ConfigSummary {
  platform: string;
  created?: number;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
  exposedPorts: string[];
  labels: Record<string, string>;
  history: Array<{ created?: number; createdBy: string; emptyLayer: boolean; comment: string }>;
}

const strings = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');

export function summarizeConfig(config: unknown): ConfigSummary {
  const c = obj(config);
  const inner = obj(c.config);
  const when = (v: unknown): number | undefined => {
    const t = Date.parse(str(v));
    return Number.isFinite(t) ? t : undefined;
  };
  return {
    platform: [str(c.os), str(c.architecture), str(c.variant)].filter(Boolean).join('/'),
    created: when(c.created),
    entrypoint: strings(inner.Entrypoint),
    cmd: strings(inner.Cmd),
    env: strings(inner.Env),
    workingDir: str(inner.WorkingDir),
    user: str(inner.User),
    exposedPorts: Object.keys(obj(inner.ExposedPorts)),
    labels: strMap(inner.Labels),
    history: arr(c.history).map((h) => {
      const x = obj(h);
      return { created: when(x.created), createdBy: str(x.created_by), emptyLayer: x.empty_layer === true, comment: str(x.comment) };
    }),
  };
}
