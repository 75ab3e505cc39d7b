/**
 * The Images view's rows: one row per image (its tags listed together, like Docker Desktop groups them),
 * filtered by a free-text query and sorted by a column. Pure, so it is unit tested.
 */
import type { ImageSummary } from '../../../shared/api/engine';

export type ImageSortKey = 'name' | 'created' | 'size' | 'id';
export interface ImageSort {
  key: ImageSortKey;
  dir: 'asc' | 'desc';
}

/** What a row shows as its name: the first tag, or '<none>' for a dangling image. */
export function displayName(img: ImageSummary): string {
  const tag = img.repoTags.find((t) => t !== '<none>:<none>');
  if (tag) return tag;
  const digest = img.repoDigests[0];
  if (digest) return `${digest.slice(0, digest.indexOf('@'))}:<none>`;
  return '<none>:<none>';
}

/**
 * Words in the query must all match (case-insensitive) a tag, the id, or a status keyword:
 * `dangling`, `in-use`/`used`, `unused`.
 */
export function matches(img: ImageSummary, query: string): boolean {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = [...img.repoTags, ...img.repoDigests, img.id].join(' ').toLowerCase();
  return words.every((w) => {
    if (w === 'dangling') return img.dangling;
    if (w === 'in-use' || w === 'used') return img.containers > 0;
    if (w === 'unused') return img.containers === 0;
    return hay.includes(w) || (w.length >= 3 && img.id.toLowerCase().includes(`sha256:${w}`));
  });
}

export function sortImages(images: readonly ImageSummary[], sort: ImageSort): ImageSummary[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const cmp = (a: ImageSummary, b: ImageSummary): number => {
    switch (sort.key) {
      case 'created':
        return a.created - b.created;
      case 'size':
        return a.size - b.size;
      case 'id':
        return a.id.localeCompare(b.id);
      case 'name': {
        // Dangling images sink to the end whatever the direction: they are rarely what one looks for.
        if (a.dangling !== b.dangling) return (a.dangling ? 1 : -1) * sign;
        return displayName(a).localeCompare(displayName(b));
      }
    }
  };
  return [...images].sort((a, b) => cmp(a, b) * sign || a.id.localeCompare(b.id));
}

export function visibleImages(images: readonly ImageSummary[], query: string, sort: ImageSort): ImageSummary[] {
  return sortImages(images.filter((i) => matches(i, query)), sort);
}
