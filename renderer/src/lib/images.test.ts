import { describe, expect, it } from 'vitest';
import type { ImageSummary } from '../../../shared/api/engine';
import { displayName, matches, sortImages, visibleImages } from './images';

const img = (over: Partial<ImageSummary>): ImageSummary => ({
  id: `sha256:${'0'.repeat(64)}`,
  repoTags: [],
  repoDigests: [],
  created: 0,
  size: 0,
  dangling: false,
  containers: 0,
  labels: {},
  ...over,
});

const alpine = img({ id: `sha256:a1${'1'.repeat(62)}`, repoTags: ['alpine:3.20', 'alpine:latest'], created: 300, size: 8e6 });
const app = img({ id: `sha256:b2${'2'.repeat(62)}`, repoTags: ['berth-test-app:v1'], created: 100, size: 50e6, containers: 2 });
const dangling = img({ id: `sha256:c3${'3'.repeat(62)}`, repoTags: ['<none>:<none>'], dangling: true, created: 200, size: 1e6 });

describe('displayName', () => {
  it('uses the first real tag, else the repository of a digest, else <none>', () => {
    expect(displayName(alpine)).toBe('alpine:3.20');
    expect(displayName(dangling)).toBe('<none>:<none>');
    expect(displayName(img({ repoDigests: ['localhost:5000/x@sha256:abc'] }))).toBe('localhost:5000/x:<none>');
  });
});

describe('matches', () => {
  it('matches every word against tags and id', () => {
    expect(matches(alpine, 'alp latest')).toBe(true);
    expect(matches(alpine, 'alp nginx')).toBe(false);
    expect(matches(alpine, 'a111')).toBe(true);
    expect(matches(alpine, '   ')).toBe(true);
  });
  it('understands status keywords', () => {
    expect(matches(dangling, 'dangling')).toBe(true);
    expect(matches(alpine, 'dangling')).toBe(false);
    expect(matches(app, 'in-use')).toBe(true);
    expect(matches(alpine, 'unused')).toBe(true);
    expect(matches(app, 'unused')).toBe(false);
  });
});

describe('sortImages', () => {
  it('sorts by created, size and name in both directions', () => {
    const all = [alpine, app, dangling];
    expect(sortImages(all, { key: 'created', dir: 'desc' }).map(displayName)).toEqual(['alpine:3.20', '<none>:<none>', 'berth-test-app:v1']);
    expect(sortImages(all, { key: 'size', dir: 'asc' }).map((i) => i.size)).toEqual([1e6, 8e6, 50e6]);
    expect(sortImages(all, { key: 'name', dir: 'asc' }).map(displayName)).toEqual(['alpine:3.20', 'berth-test-app:v1', '<none>:<none>']);
    expect(sortImages(all, { key: 'name', dir: 'desc' }).map(displayName)).toEqual(['berth-test-app:v1', 'alpine:3.20', '<none>:<none>']);
  });
  it('filters then sorts', () => {
    expect(visibleImages([alpine, app, dangling], 'berth', { key: 'name', dir: 'asc' })).toEqual([app]);
  });
});
