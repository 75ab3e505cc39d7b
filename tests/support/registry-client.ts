/**
 * A small streaming client for the Distribution API, shared by the conformance tests and the benchmark so
 * both registries are driven by exactly the same code. node:http with a keep-alive agent: bodies stream
 * from files or generators, responses are hashed as they arrive, nothing is held whole in memory.
 */
import { createHash, randomFill } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

function randomFillAsync(buf: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => randomFill(buf, (error, filled) => (error ? reject(error) : resolve(filled))));
}

export const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  /** The response body, unread: call text(), json(), drain() or pipe it. */
  body: IncomingMessage;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  /** A Buffer/string is sent at once; a Readable is streamed (chunked unless Content-Length is set). */
  body?: Buffer | string | Readable;
  signal?: AbortSignal;
}

/** One HTTP request; resolves when the response headers arrive. */
export function request(url: string, options: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    const body = options.body;
    if ((typeof body === 'string' || Buffer.isBuffer(body)) && headers['Content-Length'] === undefined) {
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = httpRequest(url, { method: options.method ?? 'GET', headers, agent, signal: options.signal }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    req.on('error', reject);
    if (body instanceof Readable) {
      body.on('error', (error) => req.destroy(error));
      body.pipe(req);
    } else {
      req.end(body);
    }
  });
}

export async function text(res: Response): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function drain(res: Response): Promise<void> {
  for await (const _ of res.body) {
    // discard
  }
}

/** Reads the body and fails with the registry's error text unless the status is one of `expected`. */
export async function expectStatus(res: Response, expected: number | number[], what: string): Promise<string> {
  const body = await text(res);
  const ok = Array.isArray(expected) ? expected.includes(res.status) : res.status === expected;
  if (!ok) throw new Error(`${what}: HTTP ${res.status} (expected ${expected}): ${body.slice(0, 500)}`);
  return body;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Resolves a Location header against the registry base (relative Locations are allowed). */
function absolute(base: string, location: string | undefined): string {
  if (!location) throw new Error('upload session without a Location header');
  return new URL(location, base).toString();
}

function withQuery(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}

/**
 * POST /v2/NAME/blobs/uploads/?mount=D&from=OTHER: true when the registry mounted the blob (201), false
 * when it opened an upload session instead (202) — the session is then completed with `bytes`.
 */
export async function mountBlob(base: string, repo: string, from: string, digest: string, bytes: Buffer): Promise<boolean> {
  const res = await request(`${base}/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, {
    method: 'POST',
    headers: { 'Content-Length': 0 },
  });
  await expectStatus(res, [201, 202], `mount ${digest} from ${from} into ${repo}`);
  if (res.status === 201) return true;
  const put = await request(withQuery(absolute(base, res.headers.location as string), 'digest', digest), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: bytes,
  });
  await expectStatus(put, 201, `PUT blob ${digest} to ${repo}`);
  return false;
}

/** POST /v2/NAME/blobs/uploads/ → absolute upload Location. */
export async function startUpload(base: string, repo: string): Promise<string> {
  const res = await request(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { 'Content-Length': 0 } });
  await expectStatus(res, 202, `POST upload for ${repo}`);
  return absolute(base, res.headers.location as string);
}

/**
 * Monolithic upload the way containerd does it: POST for a session, then one PUT ?digest carrying the whole
 * body. `body` is a factory so a retry or a second registry gets a fresh stream.
 */
export async function pushBlobMonolithic(base: string, repo: string, digest: string, size: number, body: () => Readable | Buffer): Promise<void> {
  const location = await startUpload(base, repo);
  const res = await request(withQuery(location, 'digest', digest), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': size },
    body: body(),
  });
  await expectStatus(res, 201, `PUT blob ${digest} to ${repo}`);
}

/** The docker (moby) pattern: POST, one streaming PATCH without Content-Range, PUT ?digest with no body. */
export async function pushBlobStreamed(base: string, repo: string, digest: string, body: Readable, signal?: AbortSignal): Promise<void> {
  const location = await startUpload(base, repo);
  const patch = await request(location, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, body, signal });
  await expectStatus(patch, 202, `PATCH blob ${digest} to ${repo}`);
  const put = await request(withQuery(absolute(base, patch.headers.location as string), 'digest', digest), {
    method: 'PUT',
    headers: { 'Content-Length': 0 },
  });
  await expectStatus(put, 201, `PUT blob ${digest} to ${repo}`);
}

/**
 * GET a blob, hashing while it streams; returns the digest and byte count actually received. With
 * `hash: false` only bytes are counted (the benchmark's timed pulls, so the client's sha256 does not cap
 * what is measured; it verifies in a separate pass).
 */
export async function pullBlob(base: string, repo: string, digest: string, options: { hash?: boolean } = {}): Promise<{ digest: string; size: number }> {
  const res = await request(`${base}/v2/${repo}/blobs/${digest}`);
  if (res.status !== 200) await expectStatus(res, 200, `GET blob ${digest} from ${repo}`);
  const hash = options.hash === false ? undefined : createHash('sha256');
  let size = 0;
  for await (const chunk of res.body) {
    hash?.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: hash ? `sha256:${hash.digest('hex')}` : '', size };
}

export async function headBlob(base: string, repo: string, digest: string): Promise<number> {
  const res = await request(`${base}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  await drain(res);
  return res.status;
}

export async function putManifest(base: string, repo: string, ref: string, mediaType: string, bytes: Buffer | string): Promise<string> {
  const res = await request(`${base}/v2/${repo}/manifests/${ref}`, { method: 'PUT', headers: { 'Content-Type': mediaType }, body: bytes });
  await expectStatus(res, 201, `PUT manifest ${repo}:${ref}`);
  return res.headers['docker-content-digest'] as string;
}

export const manifestAccept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export async function getManifest(base: string, repo: string, ref: string): Promise<{ status: number; mediaType?: string; digest?: string; bytes: Buffer }> {
  const res = await request(`${base}/v2/${repo}/manifests/${ref}`, { headers: { Accept: manifestAccept } });
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return {
    status: res.status,
    mediaType: res.headers['content-type'],
    digest: res.headers['docker-content-digest'] as string | undefined,
    bytes: Buffer.concat(chunks),
  };
}

export async function listTags(base: string, repo: string): Promise<string[]> {
  const res = await request(`${base}/v2/${repo}/tags/list`);
  const body = await expectStatus(res, 200, `GET tags of ${repo}`);
  return (JSON.parse(body) as { tags: string[] | null }).tags ?? [];
}

/** Walks GET /v2/_catalog page by page (following Link rel="next"); returns every repository name. */
export async function listCatalog(base: string, pageSize = 1000): Promise<string[]> {
  const names: string[] = [];
  let next: string | undefined = `${base}/v2/_catalog?n=${pageSize}`;
  while (next) {
    const res = await request(next);
    const body = await expectStatus(res, 200, 'GET _catalog');
    names.push(...((JSON.parse(body) as { repositories: string[] }).repositories ?? []));
    const link = res.headers.link as string | undefined;
    const m = link ? /<([^>]+)>;\s*rel="?next"?/.exec(link) : null;
    next = m ? new URL(m[1], base).toString() : undefined;
  }
  return names;
}

/**
 * Writes `size` random bytes to `file` in 1 MiB chunks (never the whole thing in memory) and returns the
 * sha256 digest computed while writing.
 */
export async function writeRandomFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const chunkSize = 1 << 20;
  async function* chunks() {
    for (let done = 0; done < size; ) {
      const n = Math.min(chunkSize, size - done);
      const buf = await randomFillAsync(Buffer.allocUnsafe(n));
      hash.update(buf);
      done += n;
      yield buf;
    }
  }
  await pipeline(Readable.from(chunks()), createWriteStream(file));
  return `sha256:${hash.digest('hex')}`;
}

/** A fresh read stream for a file: the `body` factory for pushBlobMonolithic. */
export function fileBody(file: string): () => Readable {
  return () => createReadStream(file, { highWaterMark: 1 << 20 });
}
