import { describe, expect, it } from 'vitest';
import { cleanCreatedBy, formatBytes, formatDuration, formatRate, formatRelative, percent, plural, shortDigest, shortId } from './format';

describe('formatBytes', () => {
  it('prints decimal units with three significant digits like the docker CLI', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1000)).toBe('1.00 kB');
    expect(formatBytes(12_345_678)).toBe('12.3 MB');
    expect(formatBytes(123_456_789)).toBe('123 MB');
    expect(formatBytes(5.5e9)).toBe('5.50 GB');
  });
  it('shows a dash for unknown or invalid sizes', () => {
    expect(formatBytes(undefined)).toBe('—');
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
  });
  it('formats rates and hides a zero rate', () => {
    expect(formatRate(2_500_000)).toBe('2.50 MB/s');
    expect(formatRate(0)).toBe('—');
  });
});

describe('formatDuration', () => {
  it('reads as seconds, minutes or hours', () => {
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(125)).toBe('2m 05s');
    expect(formatDuration(3720)).toBe('1h 02m');
    expect(formatDuration(undefined)).toBe('—');
  });
});

describe('formatRelative', () => {
  const now = Date.UTC(2026, 0, 10, 12, 0, 0);
  it('says how long ago', () => {
    expect(formatRelative(now - 3000, now)).toBe('just now');
    expect(formatRelative(now - 5 * 60_000, now)).toBe('5 minutes ago');
    expect(formatRelative(now - 3 * 3_600_000, now)).toBe('3 hours ago');
    expect(formatRelative(now - 86_400_000, now)).toBe('yesterday');
    expect(formatRelative(now - 2 * 365 * 86_400_000, now)).toBe('2 years ago');
  });
  it('shows a dash for an unknown time', () => {
    expect(formatRelative(undefined, now)).toBe('—');
    expect(formatRelative(0, now)).toBe('—');
  });
});

describe('ids and digests', () => {
  const hex = 'a'.repeat(10) + 'bc' + 'd'.repeat(52);
  it('shortens ids like the docker CLI', () => {
    expect(shortId(`sha256:${hex}`)).toBe('aaaaaaaaaabc');
    expect(shortId(hex)).toBe('aaaaaaaaaabc');
    expect(shortDigest(`sha256:${hex}`)).toBe('sha256:aaaaaaaaaabc');
  });
  it('computes percent only with a known total', () => {
    expect(percent(50, 200)).toBe(25);
    expect(percent(300, 200)).toBe(100);
    expect(percent(5, undefined)).toBeUndefined();
    expect(plural(1, 'tag')).toBe('1 tag');
    expect(plural(3, 'tag')).toBe('3 tags');
  });
});

describe('cleanCreatedBy', () => {
  it('shows build steps as they were written', () => {
    expect(cleanCreatedBy('/bin/sh -c #(nop)  ENV A=1')).toBe('ENV A=1');
    expect(cleanCreatedBy('/bin/sh -c apk add curl')).toBe('RUN apk add curl');
    expect(cleanCreatedBy('COPY file:abc in /')).toBe('COPY file:abc in /');
  });
});
