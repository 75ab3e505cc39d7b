import { describe, expect, it } from 'vitest';
import { defaultSelection, downloadUrlData, exportKey, exportName } from './export-out';

describe('export out helpers', () => {
  it('keys a selection by everything that changes the archive', () => {
    const a = defaultSelection('registry', ['team/app:v1']);
    expect(exportKey(a)).toBe(exportKey({ ...a }));
    expect(exportKey(a)).not.toBe(exportKey({ ...a, format: 'docker' }));
    expect(exportKey(a)).not.toBe(exportKey({ ...a, referrers: false }));
    expect(exportKey(a)).not.toBe(exportKey({ ...a, images: ['team/app:v2'] }));
    expect(exportKey(a)).not.toBe(exportKey({ ...a, from: 'engine' }));
  });
  it('defaults: OCI with referrers from the registry, the engine’s own docker save from the engine', () => {
    expect(defaultSelection('registry', ['a:1'])).toEqual({ from: 'registry', images: ['a:1'], format: 'oci', referrers: true });
    expect(defaultSelection('engine', ['a:1'])).toEqual({ from: 'engine', images: ['a:1'], format: 'docker' });
  });
  it('names an engine image by its first real tag, else its id', () => {
    expect(exportName({ id: 'sha256:abc', repoTags: ['<none>:<none>', 'app:1', 'app:latest'] })).toBe('app:1');
    expect(exportName({ id: 'sha256:abc', repoTags: ['<none>:<none>'] })).toBe('sha256:abc');
  });
  it("writes Chromium's DownloadURL as mime:name:absolute-url and refuses what would break it", () => {
    expect(downloadUrlData('app_v1.tar', 'http://127.0.0.1:7780/api/exports/ab')).toBe('application/x-tar:app_v1.tar:http://127.0.0.1:7780/api/exports/ab');
    expect(() => downloadUrlData('a:b.tar', 'http://x/')).toThrow(/cannot contain/);
    expect(() => downloadUrlData('a.tar', '/api/exports/ab')).toThrow(/absolute/);
  });
});
