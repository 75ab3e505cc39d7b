/**
 * The registry's identifiers: digests, repository names and tags. Pure TypeScript (no Node imports) so
 * the UI validates input with the same rules the registry enforces.
 *
 * Grammar from the OCI Distribution Specification v1.1 and the image-spec's digest rules. Only the
 * algorithms a registry must verify are accepted: a digest we cannot recompute is a digest we cannot trust.
 */

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  /** Lowercase hex, 64 characters for sha256 and 128 for sha512. */
  hex: string;
}

const digestPattern = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
/** Anything shaped like `algorithm:encoded`: used to tell a digest reference from a tag. */
const digestLike = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isDigest(value: string): boolean {
  return digestPattern.test(value);
}

/** Parses a digest; returns undefined when it is malformed or its algorithm is unsupported. */
export function parseDigest(value: string): ParsedDigest | undefined {
  if (!digestPattern.test(value)) return undefined;
  const colon = value.indexOf(':');
  return { algorithm: value.slice(0, colon) as DigestAlgorithm, hex: value.slice(colon + 1) };
}

/** True for `algo:encoded` strings, valid or not: a manifest reference that looks like this is a digest. */
export function looksLikeDigest(value: string): boolean {
  return value.includes(':') && digestLike.test(value);
}

/** Short form for people: `sha256:0123456789ab`. */
export function shortDigest(digest: string): string {
  const p = parseDigest(digest);
  return p ? `${p.algorithm}:${p.hex.slice(0, 12)}` : digest;
}

/** Repository name components: lowercase alphanumerics separated by `.`, `_`, `__` or runs of `-`. */
const namePattern = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/**
 * The spec caps name + registry host at 255 characters; we leave room for a host such as
 * `localhost:5000/` by capping the bare name at 255 as the reference registry does.
 */
export const MAX_NAME_LENGTH = 255;

export function isRepositoryName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && namePattern.test(name);
}

const tagPattern = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export function isTag(tag: string): boolean {
  return tagPattern.test(tag);
}

/** Why a repository name is refused, in words a person can act on; undefined when it is fine. */
export function explainRepositoryName(name: string): string | undefined {
  if (name.length === 0) return 'The repository name is empty.';
  if (name.length > MAX_NAME_LENGTH) return `The repository name is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}.`;
  if (/[A-Z]/.test(name)) return `Repository names are lowercase: use "${name.toLowerCase()}".`;
  if (!namePattern.test(name)) {
    return 'A repository name is lowercase letters, digits and separators (".", "_", "__", "-") between them, in path components joined by "/", with no empty components.';
  }
  return undefined;
}
