import { describe, expect, it } from 'vitest';
import { parseNormalizedReference, parseReference, parseTagTarget, validateTag } from './reference';

const sha256 = 'sha256:' + 'f'.repeat(64);
const sha512 = 'sha512:' + 'f'.repeat(128);

// Cases from distribution/reference reference_test.go (TestReferenceParse): input → expected parts.
const valid: Array<{ input: string; name: string; domain?: string; tag?: string; digest?: string }> = [
  { input: 'test_com', name: 'test_com' },
  { input: 'test.com:tag', name: 'test.com', tag: 'tag' },
  { input: 'test.com:5000', name: 'test.com', tag: '5000' },
  { input: 'test.com/repo:tag', domain: 'test.com', name: 'test.com/repo', tag: 'tag' },
  { input: 'test:5000/repo', domain: 'test:5000', name: 'test:5000/repo' },
  { input: 'test:5000/repo:tag', domain: 'test:5000', name: 'test:5000/repo', tag: 'tag' },
  { input: `test:5000/repo@${sha256}`, domain: 'test:5000', name: 'test:5000/repo', digest: sha256 },
  { input: `test:5000/repo:tag@${sha256}`, domain: 'test:5000', name: 'test:5000/repo', tag: 'tag', digest: sha256 },
  { input: 'lowercase:Uppercase', name: 'lowercase', tag: 'Uppercase' },
  { input: 'a/'.repeat(127) + 'a:tag-puts-this-over-max', domain: 'a', name: 'a/'.repeat(127) + 'a', tag: 'tag-puts-this-over-max' },
  { input: 'sub-dom1.foo.com/bar/baz/quux', domain: 'sub-dom1.foo.com', name: 'sub-dom1.foo.com/bar/baz/quux' },
  { input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', domain: 'sub-dom1.foo.com', name: 'sub-dom1.foo.com/bar/baz/quux', tag: 'some-long-tag' },
  { input: 'b.gcr.io/test.example.com/my-app:test.example.com', domain: 'b.gcr.io', name: 'b.gcr.io/test.example.com/my-app', tag: 'test.example.com' },
  { input: 'xn--n3h.com/myimage:xn--n3h.com', domain: 'xn--n3h.com', name: 'xn--n3h.com/myimage', tag: 'xn--n3h.com' },
  { input: `xn--7o8h.com/myimage:xn--7o8h.com@${sha512}`, domain: 'xn--7o8h.com', name: 'xn--7o8h.com/myimage', tag: 'xn--7o8h.com', digest: sha512 },
  { input: 'foo_bar.com:8080', name: 'foo_bar.com', tag: '8080' },
  { input: 'foo/foo_bar.com:8080', domain: 'foo', name: 'foo/foo_bar.com', tag: '8080' },
  { input: '192.168.1.1', name: '192.168.1.1' },
  { input: '192.168.1.1:tag', name: '192.168.1.1', tag: 'tag' },
  { input: '192.168.1.1:5000', name: '192.168.1.1', tag: '5000' },
  { input: '192.168.1.1/repo', domain: '192.168.1.1', name: '192.168.1.1/repo' },
  { input: '192.168.1.1:5000/repo', domain: '192.168.1.1:5000', name: '192.168.1.1:5000/repo' },
  { input: '192.168.1.1:5000/repo:5050', domain: '192.168.1.1:5000', name: '192.168.1.1:5000/repo', tag: '5050' },
  { input: '[2001:db8::1]/repo', domain: '[2001:db8::1]', name: '[2001:db8::1]/repo' },
  { input: '[2001:db8:1:2:3:4:5:6]/repo:tag', domain: '[2001:db8:1:2:3:4:5:6]', name: '[2001:db8:1:2:3:4:5:6]/repo', tag: 'tag' },
  { input: '[2001:db8::1]:5000/repo', domain: '[2001:db8::1]:5000', name: '[2001:db8::1]:5000/repo' },
  { input: `[2001:db8::1]:5000/repo:tag@${sha256}`, domain: '[2001:db8::1]:5000', name: '[2001:db8::1]:5000/repo', tag: 'tag', digest: sha256 },
  { input: '[::1]:5000/repo', domain: '[::1]:5000', name: '[::1]:5000/repo' },
  { input: 'localhost:5000/a__b/c---d/e.f', domain: 'localhost:5000', name: 'localhost:5000/a__b/c---d/e.f' },
  { input: 'x:' + 'T'.repeat(128), name: 'x', tag: 'T'.repeat(128) },
];

const invalid: Array<{ input: string; code: string; reason?: RegExp }> = [
  { input: '', code: 'EMPTY' },
  { input: ':justtag', code: 'INVALID_NAME', reason: /repository name is required/ },
  { input: `@${sha256}`, code: 'INVALID_NAME' },
  { input: 'repo@sha256:' + 'f'.repeat(34), code: 'INVALID_DIGEST', reason: /64 hexadecimal characters; this one has 34/ },
  { input: `validname@invaliddigest:${'f'.repeat(64)}`, code: 'UNSUPPORTED_DIGEST', reason: /Unsupported digest algorithm "invaliddigest"/ },
  { input: 'Uppercase:tag', code: 'UPPERCASE', reason: /must be lowercase/ },
  { input: 'test:5000/Uppercase/lowercase:tag', code: 'UPPERCASE', reason: /"Uppercase"/ },
  { input: 'a/'.repeat(128) + 'a:tag', code: 'NAME_TOO_LONG', reason: /at most 255 characters.*257/ },
  { input: 'aa/asdf$$^/aa', code: 'INVALID_NAME', reason: /only lowercase letters/ },
  { input: '[2001:db8::1]', code: 'INVALID_NAME', reason: /followed by \/repository/ },
  { input: '[2001:db8::1]:5000', code: 'INVALID_NAME' },
  { input: '[2001:db8::1]:tag', code: 'INVALID_NAME' },
  { input: '[fe80::1%eth0]:5000/repo', code: 'INVALID_DOMAIN' },
  { input: '[fe80::1%@invalidzone]:5000/repo', code: 'INVALID_DIGEST' },
  { input: 'repo:' + 'a'.repeat(129), code: 'TAG_TOO_LONG', reason: /at most 128 characters; this one has 129/ },
  { input: 'repo:-tag', code: 'INVALID_TAG', reason: /must start with a letter/ },
  { input: 'repo:ta+g', code: 'INVALID_TAG', reason: /only letters, digits/ },
  { input: 'repo:', code: 'INVALID_TAG', reason: /empty/ },
  { input: 'my repo', code: 'INVALID_FORMAT', reason: /spaces/ },
  { input: 'https://example.com/repo', code: 'INVALID_FORMAT', reason: /scheme/ },
  { input: 'host:port/repo', code: 'INVALID_DOMAIN', reason: /"host:port" is not a valid registry/ },
  { input: 'dock..er/docker', code: 'INVALID_DOMAIN' },
  { input: 'library/dock..er', code: 'INVALID_NAME', reason: /Separators/ },
  { input: 'docker-/docker', code: 'INVALID_NAME', reason: /start and end/ },
  { input: 'a//b', code: 'INVALID_NAME', reason: /empty parts/ },
  { input: 'x'.repeat(2000), code: 'TOO_LONG' },
];

describe('parseReference (distribution reference.Parse)', () => {
  it.each(valid)('accepts $input', ({ input, name, domain, tag, digest }) => {
    const r = parseReference(input);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.value.name).toBe(name);
    expect(r.value.domain).toBe(domain ?? '');
    expect(r.value.tag).toBe(tag);
    expect(r.value.digest).toBe(digest);
  });

  it.each(invalid)('refuses $input with $code', ({ input, code, reason }) => {
    const r = parseReference(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    expect(r.error.reason.length).toBeGreaterThan(10);
    if (reason) expect(r.error.reason).toMatch(reason);
  });

  it('stays fast on pathological input (no catastrophic backtracking)', () => {
    const start = performance.now();
    for (const s of ['a-'.repeat(500) + '!', 'a.'.repeat(500) + '/', 'a'.repeat(1000) + '$', '[' + ':'.repeat(1000)]) parseReference(s);
    expect(performance.now() - start).toBeLessThan(500);
  });
});

// normalize_test.go: TestValidateReferenceName, TestValidateRemoteName, TestParseRepositoryInfo, TestNormalizedSplitHostname.
describe('parseNormalizedReference (distribution ParseNormalizedNamed)', () => {
  const validNames = [
    'docker/docker', 'library/debian', 'debian', 'docker.io/docker/docker', 'docker.io/library/debian', 'docker.io/debian',
    'index.docker.io/docker/docker', 'index.docker.io/library/debian', 'index.docker.io/debian', '127.0.0.1:5000/docker/docker',
    '127.0.0.1:5000/library/debian', '127.0.0.1:5000/debian', '192.168.0.1', '192.168.0.1:80', '192.168.0.1:8/debian',
    '192.168.0.2:25000/debian', 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', '[fc00::1]:5000/docker',
    '[fc00::1]:5000/docker/docker', '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'Docker/docker', 'DOCKER/docker',
    'docker-rules/docker', 'docker---rules/docker', 'doc/docker', 'd/docker', 'jess/t', 'dock__er/docker',
  ];
  const invalidNames = [
    'https://github.com/docker/docker', 'docker/Docker', '-docker', '-docker/docker', '-docker.io/docker/docker', 'docker///docker',
    'docker.io/docker/Docker', 'docker.io/docker///docker', '[fc00::1]', '[fc00::1]:5000', 'fc00::1:5000/debian',
    '[fe80::1%eth0]:5000/debian', '[2001:db8:3:4::192.0.2.33]:5000/debian',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'docker-/docker', '-docker-/docker', '____/____',
    '_docker/_docker', 'dock..er/docker', 'dock_.er/docker', 'dock-.er/docker', 'docker/',
    'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4) + '/docker',
  ];
  it.each(validNames)('accepts %s', (name) => expect(parseNormalizedReference(name).ok).toBe(true));
  it.each(invalidNames)('refuses %s with a reason', (name) => {
    const r = parseNormalizedReference(name);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).not.toBe('');
  });

  it.each([
    ['fooo/bar', 'docker.io', 'fooo/bar', 'fooo/bar'],
    ['library/ubuntu', 'docker.io', 'library/ubuntu', 'ubuntu'],
    ['ubuntu', 'docker.io', 'library/ubuntu', 'ubuntu'],
    ['docker.io/ubuntu', 'docker.io', 'library/ubuntu', 'ubuntu'],
    ['index.docker.io/library/ubuntu', 'docker.io', 'library/ubuntu', 'ubuntu'],
    ['other/library', 'docker.io', 'other/library', 'other/library'],
    ['library/foo/bar', 'docker.io', 'library/foo/bar', 'library/foo/bar'],
    ['127.0.0.1:8000/private/moonbase', '127.0.0.1:8000', 'private/moonbase', '127.0.0.1:8000/private/moonbase'],
    ['example.com/privatebase', 'example.com', 'privatebase', 'example.com/privatebase'],
    ['localhost/app', 'localhost', 'app', 'localhost/app'],
    ['test_com/foo', 'docker.io', 'test_com/foo', 'test_com/foo'],
    ['Foo/bar', 'Foo', 'bar', 'Foo/bar'],
  ])('normalises %s → domain %s, path %s, familiar %s', (input, domain, path, familiar) => {
    const r = parseNormalizedReference(input);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.domain).toBe(domain);
    expect(r.value.path).toBe(path);
    expect(r.value.familiarName).toBe(familiar);
    expect(r.value.canonical).toBe(`${domain}/${path}`);
  });

  it('keeps tag and digest (TestParseReferenceWithTagAndDigest)', () => {
    const short = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
    const r = parseNormalizedReference(short);
    expect(r.ok && r.value.canonical).toBe(`docker.io/library/${short}`);
    expect(r.ok && r.value.familiar).toBe(short);
  });

  it('says an uppercase repository must be lowercase', () => {
    const r = parseNormalizedReference('docker/Docker:1');
    expect(!r.ok && r.error).toEqual({ code: 'UPPERCASE', reason: 'Repository names must be lowercase ("docker/Docker")' });
  });

  it('says a 64-hex name is an image id', () => {
    const r = parseNormalizedReference('f'.repeat(64));
    expect(!r.ok && r.error.code).toBe('IDENTIFIER');
  });
});

describe('parseTagTarget and validateTag', () => {
  it('defaults the tag to latest', () => {
    const r = parseTagTarget('localhost:5000/app');
    expect(r.ok && [r.value.familiarName, r.value.tag, r.value.familiar]).toEqual(['localhost:5000/app', 'latest', 'localhost:5000/app:latest']);
  });
  it('refuses a digest in a tag target', () => {
    const r = parseTagTarget(`app@${sha256}`);
    expect(!r.ok && r.error.code).toBe('DIGEST_NOT_ALLOWED');
  });
  it.each([
    ['latest', undefined],
    ['v1.0_rc-2', undefined],
    ['_x', undefined],
    ['', 'INVALID_TAG'],
    ['.x', 'INVALID_TAG'],
    ['a/b', 'INVALID_TAG'],
    ['a'.repeat(129), 'TAG_TOO_LONG'],
  ])('validateTag(%s) → %s', (tag, code) => expect(validateTag(tag)?.code).toBe(code));
});
