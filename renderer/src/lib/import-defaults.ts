/**
 * Defaults for the import sheet from what the archive carries: the repository and tags an image lands
 * under, and checks of what the user types instead (same rules the registry applies).
 */
import type { ArchivePreview } from '../../../shared/api/archive';
import { explainRepositoryName } from '../../../shared/digest';
import { parseNormalizedReference, validateTag } from '../../../shared/reference';

export interface ImportTarget {
  repository: string;
  tags: string[];
}

/**
 * 'alpine:3.20' → { repository: 'alpine', tags: ['3.20'] }; 'localhost:5000/team/app:1' → 'team/app'.
 * In the embedded registry a repository has no host part, and Docker Hub's 'library/' is dropped.
 */
export function targetFromTags(archiveTags: readonly string[]): ImportTarget {
  let repository = '';
  const tags: string[] = [];
  for (const t of archiveTags) {
    const r = parseNormalizedReference(t);
    if (!r.ok) continue;
    const path = r.value.domain === 'docker.io' ? r.value.path.replace(/^library\//, '') : r.value.path;
    if (!repository) repository = path;
    if (path === repository && r.value.tag && !tags.includes(r.value.tag)) tags.push(r.value.tag);
  }
  return { repository, tags: tags.length > 0 || !repository ? tags : ['latest'] };
}

export function defaultTarget(preview: ArchivePreview): ImportTarget {
  // Several images in one archive keep their own names; a single one can be renamed.
  if (preview.images.length !== 1) return { repository: '', tags: [] };
  return targetFromTags(preview.images[0].tags);
}

/** Tags typed as "1.0, latest stable" → ['1.0', 'latest', 'stable']. */
export function splitTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/** What is wrong with the chosen repository and tags, or undefined when they can be sent. */
export function targetProblem(repository: string, tags: readonly string[], required: boolean): string | undefined {
  if (!required && repository === '' && tags.length === 0) return undefined;
  const repoProblem = explainRepositoryName(repository);
  if (repoProblem) return repoProblem;
  if (tags.length === 0) return 'Enter at least one tag, e.g. latest.';
  for (const t of tags) {
    const bad = validateTag(t);
    if (bad) return `Tag "${t}": ${bad.reason}`;
  }
  return undefined;
}

/** One image's row in the import sheet when the archive holds several: what the user typed. */
export interface ImageRow {
  repository: string;
  tagsText: string;
}

/** The rows the sheet starts with: each image's own repository and tags. */
export function defaultRows(preview: ArchivePreview): ImageRow[] {
  return preview.images.map((img) => {
    const t = targetFromTags(img.tags);
    return { repository: t.repository, tagsText: t.tags.join(', ') };
  });
}

/**
 * The per-image overrides to send (images by their index in the preview): only rows the user changed, so
 * untouched images — signatures and SBOMs among them — keep what the archive says. Or the first problem.
 */
export function rowOverrides(preview: ArchivePreview, rows: readonly ImageRow[]): { overrides: Array<{ image: number; repository: string; tags: string[] }>; problem?: string } {
  const defaults = defaultRows(preview);
  const overrides: Array<{ image: number; repository: string; tags: string[] }> = [];
  for (const [i, row] of rows.entries()) {
    const repository = row.repository.trim();
    const tags = splitTags(row.tagsText);
    if (repository === defaults[i]?.repository && tags.join(',') === splitTags(defaults[i].tagsText).join(',')) continue;
    const problem = targetProblem(repository, tags, true);
    if (problem) return { overrides, problem: `Image ${i + 1}: ${problem}` };
    overrides.push({ image: i, repository, tags });
  }
  return { overrides };
}
