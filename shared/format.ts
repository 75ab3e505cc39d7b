/**
 * How numbers read in the UI: sizes in decimal units like the docker CLI ("12.3 MB"), times relative to
 * now ("3 minutes ago"), durations ("2m 05s"), short ids and digests. Pure, so it is unit tested.
 */

const sizeUnits = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes in decimal units, the way `docker images` prints them, so the two can be compared by eye. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < sizeUnits.length - 1) {
    value /= 1000;
    unit++;
  }
  // Three significant digits: 1.23 MB, 12.3 MB, 123 MB.
  const text = value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  return `${text} ${sizeUnits[unit]}`;
}

export function formatRate(bytesPerSecond: number | undefined): string {
  if (bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '—';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Seconds as "45s", "2m 05s", "1h 02m". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

const relativeSteps: Array<[limit: number, divisor: number, unit: Intl.RelativeTimeFormatUnit]> = [
  [60, 1, 'second'],
  [3600, 60, 'minute'],
  [86400, 3600, 'hour'],
  [86400 * 30, 86400, 'day'],
  [86400 * 365, 86400 * 30, 'month'],
  [Infinity, 86400 * 365, 'year'],
];

const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** A moment (ms since epoch) relative to `now`: "5 minutes ago", "yesterday", "2 years ago". */
export function formatRelative(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return '—';
  const delta = (ms - now) / 1000;
  const abs = Math.abs(delta);
  if (abs < 10) return 'just now';
  for (const [limit, divisor, unit] of relativeSteps) {
    if (abs < limit) return relativeFormat.format(Math.round(delta / divisor), unit);
  }
  return '—';
}

/** An absolute timestamp for tooltips. */
export function formatDate(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** 'sha256:abcdef…' → 'abcdef012345' (12 hex digits, like the docker CLI's IMAGE ID). */
export function shortId(id: string): string {
  const hex = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return hex.slice(0, 12);
}

/** 'sha256:abcdef…' → 'sha256:abcdef012345' for digests shown in a column. */
export function shortDigest(digest: string): string {
  const i = digest.indexOf(':');
  return i < 0 ? digest.slice(0, 12) : `${digest.slice(0, i)}:${digest.slice(i + 1, i + 13)}`;
}

/** Percent of done/total, clamped to 0..100; undefined when the total is not known yet. */
export function percent(done: number, total: number | undefined): number | undefined {
  if (total === undefined || total <= 0) return undefined;
  return Math.max(0, Math.min(100, (done / total) * 100));
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Legacy builders record `/bin/sh -c #(nop) ENV …`; show the instruction as it was written. */
export function cleanCreatedBy(text: string): string {
  return text
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/^\/bin\/sh -c /, 'RUN ')
    .trim();
}
