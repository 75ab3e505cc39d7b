/**
 * `berth import --map IMAGE=REPO[:TAG[,TAG…]]`: one image of a multi-image archive to its own repository
 * and tags. IMAGE is `#N` (the N-th image as `--preview` lists them), a name the archive gives it
 * (`alpine:3.20`), its manifest digest or its image ID (`sha256:…`).
 */
import type { ImportOverride } from '../../../shared/api/archive';
import { BerthError } from '../../../shared/errors';

export function parseImageMap(spec: string): ImportOverride {
  const eq = spec.lastIndexOf('=');
  const key = spec.slice(0, Math.max(eq, 0));
  const target = spec.slice(eq + 1);
  if (eq <= 0 || target === '') {
    throw new BerthError('INVALID_INPUT', `--map takes IMAGE=REPOSITORY[:TAG[,TAG…]] (e.g. --map '#2=team/api:1.0' or --map alpine:3.20=tools/alpine), not "${spec}".`);
  }
  const position = /^#(\d+)$/.exec(key);
  if (position && Number(position[1]) < 1) throw new BerthError('INVALID_INPUT', `--map counts images from #1, not ${key}.`);
  const image = position ? Number(position[1]) - 1 : key;
  // A repository in Berth's registry has no host part, so a ':' after the last '/' starts the tags.
  const colon = target.lastIndexOf(':');
  const hasTags = colon > target.lastIndexOf('/');
  const repository = hasTags ? target.slice(0, colon) : target;
  const tags = hasTags ? target.slice(colon + 1).split(',').filter(Boolean) : undefined;
  return { image, ...(repository ? { repository } : {}), ...(tags?.length ? { tags } : {}) };
}
