/** Pure helpers for exports that leave the app as a file (drag out, download): no React, no transport. */
import type { PrepareExportRequest } from '../../../shared/api/archive';
import type { ImageSummary } from '../../../shared/api/engine';

/** What the engine saves an image by: its first tag (kept in the archive as RepoTags), else its id. */
export const exportName = (i: Pick<ImageSummary, 'repoTags' | 'id'>): string => i.repoTags.find((t) => t !== '<none>:<none>') ?? i.id;

/** The same choice of images, source, format and referrers is prepared once and reused. */
export const exportKey = (sel: PrepareExportRequest): string => JSON.stringify([sel.from, sel.format, sel.referrers ?? false, sel.images]);

/**
 * What a prepared export is called by default: registry exports as an OCI archive with referrers (index.json
 * keeps multi-arch images whole, and its manifest.json still serves `docker load`); engine exports are the
 * engine's own `docker save`.
 */
export const defaultSelection = (from: 'registry' | 'engine', images: string[]): PrepareExportRequest =>
  from === 'registry' ? { from, images, format: 'oci', referrers: true } : { from, images, format: 'docker' };

/**
 * Chromium's DownloadURL drag data: `<mime>:<file name>:<absolute url>`. Dropped on the desktop, the browser
 * downloads the URL under that name. The name must not contain ':' (it ends the field); export names never do.
 */
export function downloadUrlData(name: string, url: string): string {
  if (name.includes(':')) throw new Error(`A DownloadURL file name cannot contain ":" (${name}).`);
  if (!/^https?:\/\//.test(url)) throw new Error(`A DownloadURL needs an absolute http(s) URL, not ${url}.`);
  return `application/x-tar:${name}:${url}`;
}
