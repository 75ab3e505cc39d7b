import { describe, expect, it } from 'vitest';
import { isDigest } from './digest';
import { ManifestError, MediaType, baseMediaType, formatPlatform, parseManifest } from './media-types';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const image = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: d('a'), size: 10 },
    layers: [{ mediaType: 'application/x-anything', digest: d('b'), size: 20 }],
    ...extra,
  });
const parse = (text: string, type: string) => parseManifest(text, type, isDigest);

describe('parseManifest', () => {
  it('reads an image manifest: blobs, artifactType from config, subject', () => {
    const m = parse(image({ subject: { mediaType: MediaType.ociManifest, digest: d('c'), size: 5 } }), `${MediaType.ociManifest}; charset=utf-8`);
    expect(m.blobs.map((b) => b.digest)).toEqual([d('a'), d('b')]);
    expect(m.artifactType).toBe(MediaType.ociConfig);
    expect(m.subject?.digest).toBe(d('c'));
  });
  it('artifactType wins over the config media type', () => {
    expect(parse(image({ artifactType: 'application/x-sig' }), MediaType.ociManifest).artifactType).toBe('application/x-sig');
  });
  it('reads an index with platforms', () => {
    const m = parse(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [{ mediaType: MediaType.dockerManifest, digest: d('a'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }] }),
      MediaType.dockerManifestList,
    );
    expect(m.manifests[0]?.platform && formatPlatform(m.manifests[0].platform)).toBe('linux/arm/v7');
  });
  it('takes the media type from Content-Type when the document has none', () => {
    const text = JSON.stringify({ schemaVersion: 2, config: { mediaType: MediaType.ociConfig, digest: d('a'), size: 1 }, layers: [] });
    expect(parse(text, MediaType.ociManifest).mediaType).toBe(MediaType.ociManifest);
  });
  it.each([
    ['not JSON', '{', MediaType.ociManifest],
    ['schemaVersion 3', image({ schemaVersion: 3 }), MediaType.ociManifest],
    ['schema 1', JSON.stringify({ schemaVersion: 1, fsLayers: [] }), 'application/json'],
    ['schema 1 content type', image(), MediaType.dockerSchema1Signed],
    ['mediaType ≠ Content-Type', image(), MediaType.dockerManifest],
    ['descriptor without digest', image({ layers: [{ mediaType: 'x/y', size: 1 }] }), MediaType.ociManifest],
    ['descriptor without size', image({ layers: [{ mediaType: 'x/y', digest: d('b') }] }), MediaType.ociManifest],
    ['negative size', image({ layers: [{ mediaType: 'x/y', digest: d('b'), size: -1 }] }), MediaType.ociManifest],
    ['bad digest', image({ layers: [{ mediaType: 'x/y', digest: 'sha256:zz', size: 1 }] }), MediaType.ociManifest],
    ['index without manifests', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex }), MediaType.ociIndex],
    ['unknown media type', image({ mediaType: 'application/x-unknown' }), 'application/x-unknown'],
    ['array', '[]', MediaType.ociManifest],
  ])('refuses %s', (_why, text, type) => {
    expect(() => parse(text, type)).toThrow(ManifestError);
  });
  it('baseMediaType drops parameters', () => {
    expect(baseMediaType('Application/JSON; charset=utf-8')).toBe('application/json');
  });
});
