import { describe, expect, it } from 'vitest';
import { explainRepositoryName, isDigest, isRepositoryName, isTag, looksLikeDigest, parseDigest, shortDigest } from './digest';

const hex64 = 'a'.repeat(64);

describe('digests', () => {
  it('accepts sha256 and sha512 with lowercase hex of the right length', () => {
    expect(parseDigest(`sha256:${hex64}`)).toEqual({ algorithm: 'sha256', hex: hex64 });
    expect(isDigest(`sha512:${'0'.repeat(128)}`)).toBe(true);
  });
  it.each([
    ['uppercase hex', `sha256:${'A'.repeat(64)}`],
    ['short', 'sha256:abc'],
    ['long', `sha256:${hex64}0`],
    ['sha512 of sha256 length', `sha512:${hex64}`],
    ['unsupported algorithm', `md5:${'a'.repeat(32)}`],
    ['no algorithm', hex64],
    ['empty', ''],
    ['path traversal', `sha256:../../${hex64}`],
  ])('refuses %s', (_why, d) => {
    expect(isDigest(d)).toBe(false);
    expect(parseDigest(d)).toBeUndefined();
  });
  it('tells digest-shaped references from tags', () => {
    expect(looksLikeDigest(`sha256:${hex64}`)).toBe(true);
    expect(looksLikeDigest('md5:abc')).toBe(true);
    expect(looksLikeDigest('latest')).toBe(false);
    expect(looksLikeDigest('v1.2.3')).toBe(false);
  });
  it('shortens for people', () => {
    expect(shortDigest(`sha256:${hex64}`)).toBe('sha256:aaaaaaaaaaaa');
  });
});

describe('repository names', () => {
  it.each(['a', 'library/ubuntu', 'my-org/my.app/sub_dir', 'a__b', 'a---b', 'x'.repeat(255), '0/1'])('accepts %s', (n) => {
    expect(isRepositoryName(n)).toBe(true);
  });
  it.each(['', 'Upper', 'a/../b', '..', 'a//b', '/a', 'a/', '-a', 'a-', 'a___b', 'a..b', 'a\\b', 'a\0b', 'a b', 'x'.repeat(256), 'a:b', 'a%2fb'])('refuses %j', (n) => {
    expect(isRepositoryName(n)).toBe(false);
    expect(explainRepositoryName(n)).toBeTruthy();
  });
  it('explains uppercase with the lowercase form', () => {
    expect(explainRepositoryName('My/App')).toMatch(/"my\/app"/);
  });
});

describe('tags', () => {
  it.each(['latest', 'v1.2.3', '_x', 'A-b_c.d', 'a'.repeat(128)])('accepts %s', (t) => expect(isTag(t)).toBe(true));
  it.each(['', '.x', '-x', 'a'.repeat(129), 'a/b', 'a:b', 'a b', 'a+b'])('refuses %j', (t) => expect(isTag(t)).toBe(false));
});
