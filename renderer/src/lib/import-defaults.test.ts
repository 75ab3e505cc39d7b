import { describe, expect, it } from 'vitest';
import type { ArchivePreview } from '../../../shared/api/archive';
import { defaultRows, defaultTarget, rowOverrides, splitTags, targetFromTags, targetProblem } from './import-defaults';

describe('targetFromTags', () => {
  it('drops the host and Docker Hub library prefix and keeps the tags of the first repository', () => {
    expect(targetFromTags(['alpine:3.20', 'alpine:latest'])).toEqual({ repository: 'alpine', tags: ['3.20', 'latest'] });
    expect(targetFromTags(['localhost:5000/team/app:1'])).toEqual({ repository: 'team/app', tags: ['1'] });
    expect(targetFromTags(['ghcr.io/org/tool:v2', 'other:1'])).toEqual({ repository: 'org/tool', tags: ['v2'] });
  });
  it('falls back to nothing when the archive carries no usable tag', () => {
    expect(targetFromTags([])).toEqual({ repository: '', tags: [] });
    expect(targetFromTags(['NOT VALID'])).toEqual({ repository: '', tags: [] });
  });
});

describe('defaultTarget', () => {
  const image = (tags: string[]) => ({ tags, mediaType: 'x', platforms: [], size: 0 });
  it('names a single image from its tags, and leaves several images to their own names', () => {
    const one: ArchivePreview = { format: 'docker-archive', compressed: false, size: 1, images: [image(['web:2'])] };
    expect(defaultTarget(one)).toEqual({ repository: 'web', tags: ['2'] });
    expect(defaultTarget({ ...one, images: [image(['a:1']), image(['b:1'])] })).toEqual({ repository: '', tags: [] });
  });
});

describe('tags and problems', () => {
  it('splits tags on commas and spaces, without duplicates', () => {
    expect(splitTags(' 1.0, latest  stable,latest')).toEqual(['1.0', 'latest', 'stable']);
  });
  it('explains a bad repository or tag, and accepts good ones', () => {
    expect(targetProblem('App', ['1'], true)).toMatch(/lowercase/);
    expect(targetProblem('app', [], true)).toMatch(/at least one tag/);
    expect(targetProblem('app', ['-bad'], true)).toMatch(/^Tag "-bad"/);
    expect(targetProblem('team/app', ['1.0', 'latest'], true)).toBeUndefined();
    expect(targetProblem('', [], false)).toBeUndefined();
    expect(targetProblem('', [], true)).toMatch(/empty/);
  });
});

describe('one repository and tags per image', () => {
  const image = (tags: string[]) => ({ tags, mediaType: 'x', platforms: [], size: 0 });
  const preview: ArchivePreview = { format: 'docker-archive', compressed: false, size: 1, images: [image(['web:1']), image(['docker.io/library/api:2', 'api:latest']), image([])] };

  it('starts from each image\'s own names and sends only the rows the user changed', () => {
    const rows = defaultRows(preview);
    expect(rows).toEqual([
      { repository: 'web', tagsText: '1' },
      { repository: 'api', tagsText: '2, latest' },
      { repository: '', tagsText: '' },
    ]);
    expect(rowOverrides(preview, rows)).toEqual({ overrides: [] });
    const edited = [{ repository: 'team/web', tagsText: '1' }, { repository: 'api', tagsText: 'latest,2' }, { repository: 'misc', tagsText: 'x y' }];
    expect(rowOverrides(preview, edited)).toEqual({
      overrides: [
        { image: 0, repository: 'team/web', tags: ['1'] },
        { image: 1, repository: 'api', tags: ['latest', '2'] },
        { image: 2, repository: 'misc', tags: ['x', 'y'] },
      ],
    });
  });

  it('names the image whose row is wrong', () => {
    const rows = defaultRows(preview);
    rows[1] = { repository: 'Team/API', tagsText: '2' };
    expect(rowOverrides(preview, rows).problem).toMatch(/^Image 2: /);
    rows[1] = { repository: 'api', tagsText: '' };
    expect(rowOverrides(preview, rows).problem).toBe('Image 2: Enter at least one tag, e.g. latest.');
  });
});
