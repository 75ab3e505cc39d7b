import { describe, expect, it } from 'vitest';
import { summarizeConfig, summarizeManifest } from './manifest';

const d = (n: string) => `sha256:${n.repeat(64)}`;

describe('summarizeManifest', () => {
  it('lists the platforms of an index and marks attestations', () => {
    const s = summarizeManifest('application/vnd.oci.image.index.v1+json', {
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('a'), size: 500, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('b'), size: 400, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
      ],
    });
    expect(s.kind).toBe('index');
    if (s.kind !== 'index') return;
    expect(s.platforms.map((p) => [p.platform, p.artifact])).toEqual([
      ['linux/arm64/v8', false],
      ['attestation-manifest', true],
    ]);
  });
  it('reads config and layers of an image manifest', () => {
    const s = summarizeManifest('application/vnd.docker.distribution.manifest.v2+json', {
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: d('c'), size: 1200 },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: d('1'), size: 3_000_000 }],
    });
    expect(s).toMatchObject({ kind: 'image', config: { digest: d('c'), size: 1200 }, layers: [{ digest: d('1'), size: 3_000_000 }] });
  });
  it('survives garbage', () => {
    expect(summarizeManifest('x', null)).toEqual({ kind: 'image', config: undefined, layers: [], artifactType: undefined, subject: undefined, annotations: {} });
  });
});

describe('summarizeConfig', () => {
  it('picks the fields the browser shows', () => {
    const s = summarizeConfig({
      os: 'linux',
      architecture: 'amd64',
      created: '2026-01-02T03:04:05Z',
      config: { Entrypoint: ['/app'], Cmd: ['--serve'], Env: ['A=1'], WorkingDir: '/srv', User: '1000', ExposedPorts: { '8080/tcp': {} }, Labels: { team: 'x' } },
      history: [{ created: '2026-01-02T03:04:05Z', created_by: 'COPY app /app', empty_layer: false }, { created_by: 'ENV A=1', empty_layer: true }],
    });
    expect(s.platform).toBe('linux/amd64');
    expect(s.created).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(s.exposedPorts).toEqual(['8080/tcp']);
    expect(s.history).toHaveLength(2);
    expect(s.history[1]).toMatchObject({ createdBy: 'ENV A=1', emptyLayer: true, created: undefined });
  });
});
