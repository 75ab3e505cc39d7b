/**
 * Media types the registry understands, and the pure parsing of manifests and indexes (no Node imports:
 * the UI reads manifests with the same code). What the registry must know about a manifest is small:
 * which blobs and child manifests it references, its subject (for the referrers API), its artifact type,
 * and, for an index, the platforms of its children.
 */

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const imageManifestTypes: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];
export const indexTypes: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];
export const manifestTypes: readonly string[] = [...imageManifestTypes, ...indexTypes];

export const isIndexType = (mediaType: string): boolean => indexTypes.includes(mediaType);
export const isImageManifestType = (mediaType: string): boolean => imageManifestTypes.includes(mediaType);
export const isManifestType = (mediaType: string): boolean => manifestTypes.includes(mediaType);

/** `application/json; charset=utf-8` → `application/json` (parameters never change the type). */
export function baseMediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

const mediaTypePattern = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
export const isMediaType = (value: string): boolean => mediaTypePattern.test(value);

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
}

/** `linux/arm64/v8` */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** What the registry keeps about a manifest after parsing it. */
export interface ParsedManifest {
  mediaType: string;
  /** Config and layers (image manifests): blobs that must exist in the repository. */
  blobs: Descriptor[];
  /** Children (indexes): manifests that must exist in the repository. */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** `artifactType`, else the config's media type (OCI 1.1 rule for referrers). */
  artifactType?: string;
  annotations?: Record<string, string>;
}

export class ManifestError extends Error {
  constructor(
    message: string,
    /** 'schema1' when a Docker schema 1 manifest was refused (clients then fall back or fail clearly). */
    readonly kind: 'invalid' | 'schema1' = 'invalid',
  ) {
    super(message);
    this.name = 'ManifestError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseDescriptor(v: unknown, where: string, isDigest: (d: string) => boolean): Descriptor {
  if (!isObject(v)) throw new ManifestError(`${where} is not a descriptor object`);
  const { mediaType, digest, size } = v;
  if (typeof digest !== 'string' || !isDigest(digest)) throw new ManifestError(`${where} has a missing or malformed digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new ManifestError(`${where} has a missing or invalid size`);
  if (typeof mediaType !== 'string' || !isMediaType(mediaType)) throw new ManifestError(`${where} has a missing or malformed mediaType`);
  const d: Descriptor = { mediaType, digest, size };
  if (typeof v.artifactType === 'string') d.artifactType = v.artifactType;
  if (isObject(v.annotations)) d.annotations = v.annotations as Record<string, string>;
  if (isObject(v.platform) && typeof v.platform.os === 'string' && typeof v.platform.architecture === 'string') {
    d.platform = v.platform as unknown as Platform;
  }
  return d;
}

/**
 * Parses manifest bytes (already decoded as text) sent with `contentType`. Checks what the registry must
 * check — JSON, schemaVersion 2, a known manifest type that agrees with the Content-Type, well-formed
 * descriptors — and leaves the rest (unknown layer types, annotations) alone, as the spec asks.
 */
export function parseManifest(text: string, contentType: string, isDigest: (d: string) => boolean): ParsedManifest {
  const declared = baseMediaType(contentType);
  if (declared === MediaType.dockerSchema1 || declared === MediaType.dockerSchema1Signed) {
    throw new ManifestError('Docker schema 1 manifests are not supported; push with a current client (schema 2 or OCI).', 'schema1');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ManifestError('The manifest is not valid JSON.');
  }
  if (!isObject(doc)) throw new ManifestError('The manifest is not a JSON object.');
  if (doc.schemaVersion === 1) throw new ManifestError('Docker schema 1 manifests are not supported; push with a current client (schema 2 or OCI).', 'schema1');
  if (doc.schemaVersion !== 2) throw new ManifestError('The manifest must have "schemaVersion": 2.');
  const own = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (own !== undefined && declared && own !== declared) {
    throw new ManifestError(`The manifest's mediaType (${own}) does not match the Content-Type header (${declared}).`);
  }
  // OCI allows an absent mediaType; then the Content-Type decides, and failing that the shape does.
  let mediaType = own ?? declared;
  if (!isManifestType(mediaType)) {
    if (own !== undefined || (declared && declared !== 'application/json' && declared !== 'application/octet-stream')) {
      throw new ManifestError(`Unsupported manifest media type "${mediaType}". Use an OCI or Docker schema 2 manifest or index.`);
    }
    mediaType = Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
  }
  const result: ParsedManifest = { mediaType, blobs: [], manifests: [] };
  if (isIndexType(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw new ManifestError('An index must have a "manifests" array.');
    result.manifests = doc.manifests.map((m, i) => parseDescriptor(m, `manifests[${i}]`, isDigest));
  } else {
    if (!isObject(doc.config)) throw new ManifestError('An image manifest must have a "config" descriptor.');
    const config = parseDescriptor(doc.config, 'config', isDigest);
    if (doc.layers !== undefined && !Array.isArray(doc.layers)) throw new ManifestError('"layers" must be an array.');
    const layers = ((doc.layers as unknown[] | undefined) ?? []).map((l, i) => parseDescriptor(l, `layers[${i}]`, isDigest));
    result.blobs = [config, ...layers];
    // OCI 1.1: a referrer's artifactType is the manifest's artifactType, else its config's media type.
    result.artifactType = typeof doc.artifactType === 'string' ? doc.artifactType : config.mediaType;
  }
  if (isIndexType(mediaType) && typeof doc.artifactType === 'string') result.artifactType = doc.artifactType;
  if (doc.subject !== undefined) result.subject = parseDescriptor(doc.subject, 'subject', isDigest);
  if (isObject(doc.annotations)) result.annotations = doc.annotations as Record<string, string>;
  return result;
}
