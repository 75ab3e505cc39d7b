/**
 * Image references: `[registry[:port]/]path[:tag][@digest]`, parsed exactly as distribution/reference
 * (the package docker, containerd and the registry use) decides what is valid, so the UI can refuse a
 * bad tag as the user types and the backend can refuse it before anything is sent to an engine.
 *
 * Two rules decide validity, both ported from distribution/reference:
 *  - `parseReference` = reference.Parse: the strict grammar, no normalisation ("ubuntu" stays "ubuntu").
 *  - `parseNormalizedReference` = reference.ParseNormalizedNamed: what `docker tag`/`docker pull` accept;
 *    familiar names are expanded ("ubuntu" → "docker.io/library/ubuntu").
 * Where distribution only says "invalid reference format", we diagnose which part is wrong and say it in
 * words a person can act on; the verdict (valid or not) never differs from distribution's.
 *
 * Pure TypeScript: no Node or DOM imports.
 */

/** Docker Hub's canonical domain, and its legacy alias that normalises to it. */
export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
/** distribution's NameTotalLengthMax: the name including its registry host. */
export const NAME_TOTAL_LENGTH_MAX = 255;
export const TAG_LENGTH_MAX = 128;

// The grammar, one production per constant, as in distribution/reference regexp.go.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const optionalPort = '(?::[0-9]+)?';
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const identifierPat = '[a-f0-9]{64}';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = host + optionalPort;
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

const referenceRe = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const anchoredNameRe = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const anchoredTagRe = new RegExp(`^${tagPat}$`);
const anchoredDomainRe = new RegExp(`^${domainAndPort}$`);
const anchoredPathComponentRe = new RegExp(`^${pathComponent}$`);
const anchoredIdentifierRe = new RegExp(`^${identifierPat}$`);

/** Digest algorithms docker's go-digest knows, with the hex length each one has. */
const digestHexLength: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** Longer than any valid reference (255 name + 129 tag + 136 digest); refused before any regex runs. */
const INPUT_LENGTH_MAX = 1024;

export interface ImageReference {
  /** Registry host[:port] as written (parseReference) or normalised ('docker.io', parseNormalizedReference); '' when none. */
  domain: string;
  /** Repository path without the domain, e.g. 'library/ubuntu'. */
  path: string;
  /** domain + '/' + path, or path alone when there is no domain. */
  name: string;
  tag?: string;
  digest?: string;
}

export interface NormalizedReference extends ImageReference {
  /** What docker prints: 'ubuntu:22.04', 'localhost:5000/app@sha256:…'. */
  familiar: string;
  /** The full form: 'docker.io/library/ubuntu:22.04'. */
  canonical: string;
  /** Familiar repository name without tag or digest: 'ubuntu', 'localhost:5000/app'. */
  familiarName: string;
}

export type ReferenceErrorCode =
  | 'EMPTY'
  | 'TOO_LONG'
  | 'NAME_TOO_LONG'
  | 'UPPERCASE'
  | 'INVALID_FORMAT'
  | 'INVALID_NAME'
  | 'INVALID_DOMAIN'
  | 'INVALID_TAG'
  | 'TAG_TOO_LONG'
  | 'INVALID_DIGEST'
  | 'UNSUPPORTED_DIGEST'
  | 'IDENTIFIER'
  | 'DIGEST_NOT_ALLOWED';

export interface ReferenceError {
  code: ReferenceErrorCode;
  /** A sentence for a person: what is wrong and, where it helps, what is allowed. */
  reason: string;
}

export type ReferenceResult<T> = { ok: true; value: T } | { ok: false; error: ReferenceError };

const fail = (code: ReferenceErrorCode, reason: string): { ok: false; error: ReferenceError } => ({
  ok: false,
  error: { code, reason },
});

/** reference.Parse: the strict grammar, no normalisation. */
export function parseReference(input: string): ReferenceResult<ImageReference> {
  if (input === '') return fail('EMPTY', 'Enter a repository name, e.g. localhost:5000/app:1.0');
  if (input.length > INPUT_LENGTH_MAX) return fail('TOO_LONG', `References may be at most ${INPUT_LENGTH_MAX} characters`);
  const m = referenceRe.exec(input);
  if (!m) {
    const lower = input.toLowerCase();
    if (lower !== input && referenceRe.test(lower)) {
      return fail('UPPERCASE', diagnose(input)?.reason ?? 'Repository names must be lowercase');
    }
    return { ok: false, error: diagnose(input) ?? { code: 'INVALID_FORMAT', reason: 'Invalid reference format' } };
  }
  const [, name, tag, digest] = m;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    return fail(
      'NAME_TOO_LONG',
      `Repository names may be at most ${NAME_TOTAL_LENGTH_MAX} characters including the registry host; this one has ${name.length}`,
    );
  }
  if (digest !== undefined) {
    const bad = checkDigest(digest);
    if (bad) return { ok: false, error: bad };
  }
  const nm = anchoredNameRe.exec(name);
  const domain = nm?.[1] ?? '';
  const path = nm ? nm[2] : name;
  return { ok: true, value: clean({ domain, path, name, tag, digest }) };
}

/**
 * reference.ParseNormalizedNamed: what `docker tag` and `docker pull` accept. Familiar names get
 * Docker Hub's domain and, for one-component names, its 'library/' namespace.
 */
export function parseNormalizedReference(input: string): ReferenceResult<NormalizedReference> {
  if (input === '') return fail('EMPTY', 'Enter a repository name, e.g. localhost:5000/app:1.0');
  if (anchoredIdentifierRe.test(input)) {
    return fail('IDENTIFIER', 'A 64-character hexadecimal string is an image id, not a repository name');
  }
  const [domain, remainder] = splitDockerDomain(input);
  const colon = remainder.indexOf(':');
  const remote = colon > -1 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) {
    return fail('UPPERCASE', `Repository names must be lowercase ("${remote}")`);
  }
  const parsed = parseReference(`${domain}/${remainder}`);
  if (!parsed.ok) {
    // A grammar error may quote the domain we added; diagnose what the user typed instead.
    const precise = ['NAME_TOO_LONG', 'INVALID_DIGEST', 'UNSUPPORTED_DIGEST', 'TOO_LONG'].includes(parsed.error.code);
    return { ok: false, error: precise ? parsed.error : (diagnose(input) ?? parsed.error) };
  }
  const ref = parsed.value;
  return { ok: true, value: { ...ref, ...familiarForms(ref) } };
}

/**
 * The reference a `docker tag` target must be: normalised, with a tag (default 'latest') and no digest.
 * Returns the repository to send and the tag separately, as the engine's tag endpoint wants them.
 */
export function parseTagTarget(input: string): ReferenceResult<NormalizedReference & { tag: string }> {
  const r = parseNormalizedReference(input);
  if (!r.ok) return r;
  if (r.value.digest) {
    return fail('DIGEST_NOT_ALLOWED', 'A tag cannot contain a digest (@sha256:…); remove it and name a tag instead');
  }
  const tag = r.value.tag ?? DEFAULT_TAG;
  const value = { ...r.value, tag };
  return { ok: true, value: { ...value, ...familiarForms(value) } };
}

/** A tag alone, as typed in a "new tag" field. */
export function validateTag(tag: string): ReferenceError | undefined {
  if (tag === '') return { code: 'INVALID_TAG', reason: 'Enter a tag, e.g. latest or 1.0' };
  if (anchoredTagRe.test(tag)) return undefined;
  return tagProblem(tag) ?? { code: 'INVALID_TAG', reason: 'Invalid tag' };
}

/** Formats a reference back to a string (familiar or canonical is up to the caller's domain/path). */
export function formatReference(ref: Pick<ImageReference, 'name' | 'tag' | 'digest'>): string {
  return ref.name + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** distribution's splitDockerDomain: decide whether the first component is a registry host. */
export function splitDockerDomain(name: string): [domain: string, remainder: string] {
  const slash = name.indexOf('/');
  if (slash === -1) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name];
  const maybeDomain = name.slice(0, slash);
  const maybeRemote = name.slice(slash + 1);
  let domain: string;
  let remote: string;
  if (maybeDomain === 'localhost') [domain, remote] = [maybeDomain, maybeRemote];
  else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) [domain, remote] = [DEFAULT_DOMAIN, maybeRemote];
  else if (/[.:]/.test(maybeDomain)) [domain, remote] = [maybeDomain, maybeRemote];
  // Namespaces are lowercase, so an uppercase first component can only be a host.
  else if (maybeDomain.toLowerCase() !== maybeDomain) [domain, remote] = [maybeDomain, maybeRemote];
  else [domain, remote] = [DEFAULT_DOMAIN, name];
  if (domain === DEFAULT_DOMAIN && !remote.includes('/')) remote = OFFICIAL_REPO_PREFIX + remote;
  return [domain, remote];
}

function familiarForms(ref: ImageReference): Pick<NormalizedReference, 'familiar' | 'canonical' | 'familiarName'> {
  let familiarName = ref.name;
  if (ref.domain === DEFAULT_DOMAIN) {
    familiarName = ref.path;
    const rest = ref.path.startsWith(OFFICIAL_REPO_PREFIX) ? ref.path.slice(OFFICIAL_REPO_PREFIX.length) : undefined;
    if (rest !== undefined && !rest.includes('/')) familiarName = rest;
  }
  return {
    familiarName,
    familiar: formatReference({ name: familiarName, tag: ref.tag, digest: ref.digest }),
    canonical: formatReference(ref),
  };
}

/** go-digest's Parse: a registered algorithm and lowercase hex of exactly its length. */
function checkDigest(digest: string): ReferenceError | undefined {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const want = digestHexLength[algorithm];
  if (want === undefined) {
    return {
      code: 'UNSUPPORTED_DIGEST',
      reason: `Unsupported digest algorithm "${algorithm}"; use sha256, sha384 or sha512`,
    };
  }
  if (!/^[a-f0-9]+$/.test(hex)) {
    return { code: 'INVALID_DIGEST', reason: 'Digests are written in lowercase hexadecimal' };
  }
  if (hex.length !== want) {
    return {
      code: 'INVALID_DIGEST',
      reason: `A ${algorithm} digest has ${want} hexadecimal characters; this one has ${hex.length}`,
    };
  }
  return undefined;
}

function tagProblem(tag: string): ReferenceError | undefined {
  if (tag.length > TAG_LENGTH_MAX) {
    return { code: 'TAG_TOO_LONG', reason: `Tags may contain at most ${TAG_LENGTH_MAX} characters; this one has ${tag.length}` };
  }
  if (!/^\w/.test(tag)) {
    return { code: 'INVALID_TAG', reason: `Tags must start with a letter, digit or underscore ("${tag}")` };
  }
  if (!/^[\w.-]*$/.test(tag)) {
    return { code: 'INVALID_TAG', reason: `Tags may contain only letters, digits, '_', '.' and '-' ("${tag}")` };
  }
  return undefined;
}

/**
 * Finds the first part of a reference that breaks the grammar and says why. Only used for the message:
 * the verdict comes from the regular expressions above.
 */
function diagnose(input: string): ReferenceError | undefined {
  if (/\s/.test(input)) return { code: 'INVALID_FORMAT', reason: 'References cannot contain spaces' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    return { code: 'INVALID_FORMAT', reason: 'Leave out the scheme (https://): write host[:port]/repository[:tag]' };
  }
  let rest = input;
  const at = rest.indexOf('@');
  if (at > -1) {
    const digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!new RegExp(`^${digestPat}$`).test(digest)) {
      return { code: 'INVALID_DIGEST', reason: 'A digest looks like sha256: followed by 64 hexadecimal characters' };
    }
  }
  if (rest.startsWith('[') && !rest.includes('/')) {
    return { code: 'INVALID_NAME', reason: 'A registry address like [::1]:5000 must be followed by /repository' };
  }
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    const tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    const bad = tag === '' ? { code: 'INVALID_TAG' as const, reason: 'The tag after ":" is empty' } : tagProblem(tag);
    if (bad) return bad;
  }
  if (rest === '') return { code: 'INVALID_NAME', reason: 'A repository name is required before the tag or digest' };
  const parts = rest.split('/');
  // The first component is a registry host when it looks like one (as in splitDockerDomain).
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost' || parts[0].toLowerCase() !== parts[0])) {
    const domain = parts.shift() as string;
    if (!anchoredDomainRe.test(domain)) {
      return { code: 'INVALID_DOMAIN', reason: `"${domain}" is not a valid registry host[:port]` };
    }
  }
  for (const part of parts) {
    if (part === '') {
      return { code: 'INVALID_NAME', reason: 'Repository names cannot have empty parts ("//", or a leading or trailing "/")' };
    }
    if (anchoredPathComponentRe.test(part)) continue;
    if (part.toLowerCase() !== part) return { code: 'UPPERCASE', reason: `Repository names must be lowercase ("${part}")` };
    if (!/^[a-z0-9._-]+$/.test(part)) {
      return {
        code: 'INVALID_NAME',
        reason: `Repository names may contain only lowercase letters, digits, '.', '_', '-' and '/' ("${part}")`,
      };
    }
    if (!/^[a-z0-9]/.test(part) || !/[a-z0-9]$/.test(part)) {
      return { code: 'INVALID_NAME', reason: `Each part of a repository name must start and end with a letter or digit ("${part}")` };
    }
    return {
      code: 'INVALID_NAME',
      reason: `Separators in repository names are one '.', one or two '_', or any number of '-' ("${part}")`,
    };
  }
  return undefined;
}

function clean(ref: ImageReference): ImageReference {
  const out: ImageReference = { domain: ref.domain, path: ref.path, name: ref.name };
  if (ref.tag !== undefined) out.tag = ref.tag;
  if (ref.digest !== undefined) out.digest = ref.digest;
  return out;
}
