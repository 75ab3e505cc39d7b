/**
 * The OCI Distribution API (v1.1) over plain node:http. Names contain slashes, so routes match on the
 * path's right-hand end; every name, tag and digest is decoded and validated before the store sees it,
 * and the store builds paths only from parsed digests. All storage rules live in the store: this file
 * only translates HTTP to store calls and store errors to OCI error bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendFileRange } from './send-file';
import { isLoopback } from '../../shared/loopback';
import { isDigest, isRepositoryName } from '../../shared/digest';
import { MediaType } from '../../shared/media-types';
import { BerthError } from '../../shared/errors';
import { RegistryError, type OciErrorCode } from './errors';
import { MAX_MANIFEST_BYTES, checkDigest, checkRepositoryName, type BlobSource, type RegistryStore } from './store';
import { requestBody } from './body-front';
import { parseContentRange } from './uploads';

const API_VERSION = 'registry/2.0';

type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'referrers'; name: string; digest: string };

const routes: Array<[RegExp, (m: RegExpExecArray) => Route]> = [
  [/^\/v2\/?$/, () => ({ kind: 'base' })],
  [/^\/v2\/_catalog$/, () => ({ kind: 'catalog' })],
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1]! })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1]!, reference: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1]!, id: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1]!, digest: m[2]! })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1]!, digest: m[2]! })],
];

function decode(raw: string, what: OciErrorCode, label: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new RegistryError(what, `The ${label} is not valid percent-encoding.`);
  }
}

/**
 * A repository name never needs percent-encoding, so an encoded one (`%2e%2e`, `%2f`) is refused even when
 * it would decode to something valid: what we validate is exactly what the client meant.
 */
function decodeName(raw: string): string {
  const name = decode(raw, 'NAME_INVALID', 'repository name');
  if (name !== raw) throw new RegistryError('NAME_INVALID', `Invalid repository name "${raw.slice(0, 300)}": names never contain percent-encoded characters.`);
  checkRepositoryName(name);
  return name;
}

function matchRoute(path: string): Route | undefined {
  for (const [re, make] of routes) {
    const m = re.exec(path);
    if (m) {
      const r = make(m);
      // Catalog is a reserved word, never a repository.
      return r;
    }
  }
  return undefined;
}

/** `n` and `last` for tag lists and the catalog; `n` must be a non-negative integer. */
function pageParams(q: URLSearchParams): { n?: number; last?: string } {
  const nRaw = q.get('n');
  let n: number | undefined;
  if (nRaw !== null && nRaw !== '') {
    if (!/^\d{1,9}$/.test(nRaw)) throw new RegistryError('PAGINATION_NUMBER_INVALID', `"n" must be a whole number of 0 or more, not "${nRaw.slice(0, 40)}".`);
    n = Number(nRaw);
  }
  const last = q.get('last') ?? undefined;
  return { n, last: last || undefined };
}

/** One page of a sorted list: entries after `last` (exclusive), at most `n`; `more` when some remain. */
export function page(sorted: readonly string[], n?: number, last?: string): { items: string[]; more: boolean } {
  let lo = 0;
  if (last !== undefined) {
    // Binary search for the first entry > last: the catalog stays fast with thousands of repositories.
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! <= last) lo = mid + 1;
      else hi = mid;
    }
  }
  const end = n === undefined ? sorted.length : Math.min(sorted.length, lo + n);
  return { items: sorted.slice(lo, end), more: n !== undefined && n > 0 && end < sorted.length };
}

function send(res: ServerResponse, status: number, headers: Record<string, string | number> = {}, body?: string | Buffer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body !== undefined && !res.hasHeader('Content-Length')) res.setHeader('Content-Length', Buffer.byteLength(body));
  if (body === undefined && !res.hasHeader('Content-Length')) res.setHeader('Content-Length', 0);
  res.statusCode = status;
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string | number> = {}): void {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
}

function sendError(res: ServerResponse, err: RegistryError, extra: Record<string, string | number> = {}): void {
  const body = { errors: [{ code: err.oci === 'RANGE_INVALID' ? 'BLOB_UPLOAD_INVALID' : err.oci, message: err.message, detail: err.detail ?? {} }] };
  sendJson(res, err.status, body, extra);
}

/** A body we will not read must not be parsed as the next request on a kept-alive connection. */
function closeIfUnread(req: IncomingMessage, res: ServerResponse): void {
  const body = requestBody(req);
  const unread = body ? !body.complete : !req.complete;
  if (unread && !res.headersSent) res.setHeader('Connection', 'close');
}

const uploadRange = (offset: number) => `0-${Math.max(0, offset - 1)}`;

/**
 * Content-Length of the body. Through the front (body-front.ts) the body and its length travel beside the
 * request, and the parser saw no framing headers; on a plain http.Server they are the request's own.
 */
function contentLength(req: IncomingMessage): number | undefined {
  const body = requestBody(req);
  if (body) return body.length;
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new RegistryError('SIZE_INVALID', 'The Content-Length header is not a number.');
  return Number(v);
}

const hasBody = (req: IncomingMessage) => requestBody(req) !== undefined || (contentLength(req) ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;

/** The body to read: the front's RequestBody, or the request itself on a plain http.Server. */
const bodyOf = (req: IncomingMessage): BlobSource => requestBody(req) ?? req;

/** Reads a manifest body, stopping at the size cap (413) instead of buffering whatever is sent. */
async function readCapped(req: IncomingMessage, cap: number): Promise<Buffer> {
  const declared = contentLength(req);
  const tooBig = () => new RegistryError('SIZE_INVALID', `The manifest is larger than the ${cap / (1024 * 1024)} MiB limit.`, undefined, 413);
  if (declared !== undefined && declared > cap) throw tooBig();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of requestBody(req)?.stream() ?? req) {
    size += (chunk as Buffer).length;
    if (size > cap) throw tooBig();
    chunks.push(chunk as Buffer);
  }
  if (declared !== undefined && size !== declared) throw new RegistryError('SIZE_INVALID', `Received ${size} bytes but Content-Length said ${declared}.`);
  return Buffer.concat(chunks);
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` against a size. Undefined: no (usable) Range; 'invalid': 416. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | 'invalid' {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return header.includes(',') ? undefined : 'invalid'; // several ranges: serve the whole blob (allowed)
  const [, a, b] = m;
  if (a === '' && b === '') return 'invalid';
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'invalid';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'invalid';
  return { start, end };
}

export interface RegistryHttpOptions {
  store: RegistryStore;
  log: (line: string) => void;
  /** The registry listens on loopback only: then a request must also name a loopback host (see below). */
  loopbackOnly?: boolean;
}

/**
 * Web pages must not reach the registry. A page the user visits can POST to http://127.0.0.1:5000 without
 * any CORS check (a "simple" request) and so write blobs and repositories; with DNS rebinding it could read
 * and delete too. Registry clients (docker, containerd, skopeo, podman, crane, oras) never send Origin or
 * Sec-Fetch-* headers; browsers always do on such requests. And on a loopback-only registry the Host header
 * must name a loopback address, which a rebound domain name cannot.
 */
function refuseBrowsers(req: IncomingMessage, loopbackOnly: boolean): void {
  const site = req.headers['sec-fetch-site'];
  if (req.headers.origin !== undefined || (site !== undefined && site !== 'none')) {
    throw new RegistryError('DENIED', 'Web pages may not call the registry API. Use a registry client (docker, skopeo, podman) or the Berth app.');
  }
  if (loopbackOnly) {
    const hostname = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!isLoopback(hostname)) {
      throw new RegistryError('DENIED', `This registry listens on loopback only; address it as localhost or 127.0.0.1, not "${hostname.slice(0, 100)}".`);
    }
  }
}

export function createRegistryHandler({ store, log, loopbackOnly = false }: RegistryHttpOptions) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Docker-Distribution-API-Version', API_VERSION);
    try {
      refuseBrowsers(req, loopbackOnly);
      await route(req, res);
    } catch (err) {
      closeIfUnread(req, res);
      if (err instanceof RegistryError) {
        if (err.oci === 'INTERNAL') log(`registry: ${req.method} ${req.url?.slice(0, 200)}: ${err.message}`);
        const extra: Record<string, string> = {};
        if (err.status === 416 && typeof (err.detail as { size?: number })?.size === 'number') extra['Content-Range'] = `bytes */${(err.detail as { size: number }).size}`;
        sendError(res, err, extra);
        return;
      }
      const code = (err as NodeJS.ErrnoException)?.code;
      // A request that is destroyed before it completed is a client that went away (a body read to its end
      // is auto-destroyed too, so check `complete`).
      if ((req.destroyed && !req.complete) || res.destroyed || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || (err as Error)?.name === 'AbortError') {
        res.destroy(); // the client went away mid-request: nobody to answer
        return;
      }
      if (err instanceof BerthError) {
        sendError(res, new RegistryError(err.code === 'NOT_FOUND' ? 'NAME_UNKNOWN' : err.code === 'INVALID_INPUT' ? 'MANIFEST_INVALID' : 'INTERNAL', err.message));
        return;
      }
      log(`registry: ${req.method} ${req.url?.slice(0, 200)} failed: ${(err as Error)?.stack ?? String(err)}`);
      sendError(res, new RegistryError('INTERNAL', `Internal error: ${(err as Error)?.message ?? String(err)}`));
    }
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi === -1 ? url : url.slice(0, qi);
    const query = new URLSearchParams(qi === -1 ? '' : url.slice(qi + 1));
    const method = req.method ?? 'GET';
    const r = matchRoute(path);
    if (!r) {
      if (path.startsWith('/v2/')) throw new RegistryError('NAME_INVALID', `No such endpoint: ${path.slice(0, 200)}.`, undefined, 404);
      throw new RegistryError('UNSUPPORTED', `Not a registry endpoint: ${path.slice(0, 200)}. The API lives under /v2/.`, undefined, 404);
    }
    const notAllowed = (allowed: string) => {
      res.setHeader('Allow', allowed);
      return new RegistryError('UNSUPPORTED', `${method} is not supported here; use ${allowed}.`);
    };
    switch (r.kind) {
      case 'base':
        if (method !== 'GET' && method !== 'HEAD') throw notAllowed('GET, HEAD');
        return sendJson(res, 200, {});
      case 'catalog': {
        if (method !== 'GET' && method !== 'HEAD') throw notAllowed('GET, HEAD');
        const { n, last } = pageParams(query);
        const p = page(await store.repositories(), n, last);
        const headers: Record<string, string> = {};
        if (p.more) headers.Link = `</v2/_catalog?n=${n}&last=${encodeURIComponent(p.items[p.items.length - 1]!)}>; rel="next"`;
        return sendJson(res, 200, { repositories: p.items }, headers);
      }
      case 'tags': {
        if (method !== 'GET' && method !== 'HEAD') throw notAllowed('GET, HEAD');
        const name = decodeName(r.name);
        const { n, last } = pageParams(query);
        const p = page(await store.tags(name), n, last);
        const headers: Record<string, string> = {};
        if (p.more) headers.Link = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(p.items[p.items.length - 1]!)}>; rel="next"`;
        return sendJson(res, 200, { name, tags: p.items }, headers);
      }
      case 'manifest':
        return manifest(req, res, decodeName(r.name), decode(r.reference, 'MANIFEST_INVALID', 'reference'), method);
      case 'blob':
        return blob(req, res, decodeName(r.name), decode(r.digest, 'DIGEST_INVALID', 'digest'), method);
      case 'uploads': {
        if (method !== 'POST') throw notAllowed('POST');
        const name = decodeName(r.name);
        return pushing(name, () => startUpload(req, res, name, query));
      }
      case 'upload': {
        const name = decodeName(r.name);
        return pushing(name, () => upload(req, res, name, decode(r.id, 'BLOB_UPLOAD_UNKNOWN', 'upload id'), query, method));
      }
      case 'referrers': {
        if (method !== 'GET' && method !== 'HEAD') throw notAllowed('GET, HEAD');
        const name = decodeName(r.name);
        const digest = decode(r.digest, 'DIGEST_INVALID', 'digest');
        checkDigest(digest);
        const artifactType = query.get('artifactType') ?? undefined;
        const manifests = await store.referrers(name, digest, artifactType || undefined);
        const headers: Record<string, string> = { 'Content-Type': MediaType.ociIndex };
        if (artifactType) headers['OCI-Filters-Applied'] = 'artifactType';
        return send(res, 200, headers, JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
      }
    }
  }

  /** Runs an upload request with its repository marked as having a push in flight, so GC keeps its blobs. */
  async function pushing(name: string, request: () => Promise<void>): Promise<void> {
    const end = store.beginPush(name);
    try {
      await request();
    } finally {
      end();
    }
  }

  async function manifest(req: IncomingMessage, res: ServerResponse, name: string, reference: string, method: string): Promise<void> {
    if (method === 'GET' || method === 'HEAD') {
      if (method === 'HEAD') {
        const m = await store.statManifest(name, reference);
        return send(res, 200, { 'Content-Type': m.mediaType, 'Content-Length': m.size, 'Docker-Content-Digest': m.digest, ETag: `"${m.digest}"` });
      }
      const m = await store.getManifest(name, reference);
      return send(res, 200, { 'Content-Type': m.mediaType, 'Docker-Content-Digest': m.digest, ETag: `"${m.digest}"` }, m.bytes);
    }
    if (method === 'PUT') {
      const bytes = await readCapped(req, MAX_MANIFEST_BYTES);
      const { digest, subject } = await store.putManifest(name, reference, bytes, req.headers['content-type'] ?? '');
      const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest };
      if (subject) headers['OCI-Subject'] = subject;
      return send(res, 201, headers);
    }
    if (method === 'DELETE') {
      if (isDigest(reference) || reference.includes(':')) await store.deleteManifest(name, reference);
      else await store.deleteTag(name, reference);
      return send(res, 202);
    }
    res.setHeader('Allow', 'GET, HEAD, PUT, DELETE');
    throw new RegistryError('UNSUPPORTED', `${method} is not supported on manifests.`);
  }

  async function blob(req: IncomingMessage, res: ServerResponse, name: string, digest: string, method: string): Promise<void> {
    checkDigest(digest);
    if (method === 'DELETE') {
      await store.unlinkBlob(name, digest);
      return send(res, 202, { 'Docker-Content-Digest': digest });
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD, DELETE');
      throw new RegistryError('UNSUPPORTED', `${method} is not supported on blobs.`);
    }
    // A HEAD is how a push asks "do you have this layer?": from here on GC treats the push as in flight.
    if (method === 'HEAD') store.notePush(name);
    const size = await store.blobInRepository(name, digest);
    if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', `Blob ${digest} is not in repository ${name}.`, { digest });
    const range = parseRange(req.headers.range, size);
    if (range === 'invalid') throw new RegistryError('RANGE_INVALID', `Range ${String(req.headers.range).slice(0, 100)} does not fit the blob of ${size} bytes.`, { size });
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Docker-Content-Digest': digest,
      ETag: `"${digest}"`,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'max-age=31536000',
    };
    if (method === 'HEAD') {
      return send(res, 200, { ...headers, 'Content-Length': size });
    }
    const opened = await store.openBlobFile(digest, range);
    res.statusCode = range ? 206 : 200;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.setHeader('Content-Length', opened.end - opened.start + 1);
    if (range) res.setHeader('Content-Range', `bytes ${opened.start}-${opened.end}/${size}`);
    try {
      if (opened.end >= opened.start) await sendFileRange(opened.file, opened.start, opened.end, res);
      else res.end();
    } catch {
      res.destroy(); // the client hung up (or the disk failed mid-read): nothing more to say on this socket
    } finally {
      await opened.file.close();
    }
  }

  async function startUpload(req: IncomingMessage, res: ServerResponse, name: string, query: URLSearchParams): Promise<void> {
    const mount = query.get('mount');
    const from = query.get('from');
    if (mount !== null) {
      checkDigest(mount);
      if (from !== null && isRepositoryName(from) && (await store.mountBlob(name, mount, from))) {
        return send(res, 201, { Location: `/v2/${name}/blobs/${mount}`, 'Docker-Content-Digest': mount });
      }
      // Could not mount: fall back to a normal upload session, as the spec says.
    }
    const digest = query.get('digest');
    if (digest !== null && mount === null) {
      // Single-request (monolithic) upload: the body is the blob.
      checkDigest(digest);
      const written = await store.writeBlob(bodyOf(req), { expectedDigest: digest, expectedSize: contentLength(req) });
      await store.linkBlob(name, written.digest);
      return send(res, 201, { Location: `/v2/${name}/blobs/${written.digest}`, 'Docker-Content-Digest': written.digest });
    }
    if (hasBody(req)) closeIfUnread(req, res);
    const { id, offset } = await store.uploads.start(name);
    return send(res, 202, { Location: `/v2/${name}/blobs/uploads/${id}`, Range: uploadRange(offset), 'Docker-Upload-UUID': id });
  }

  async function upload(req: IncomingMessage, res: ServerResponse, name: string, id: string, query: URLSearchParams, method: string): Promise<void> {
    const location = `/v2/${name}/blobs/uploads/${id}`;
    const rangeError = async (err: RegistryError) => {
      // 416 carries the true Range so the client can resume from there.
      const { offset } = await store.uploads.status(name, id);
      closeIfUnread(req, res);
      sendError(res, err, { Location: location, Range: uploadRange(offset), 'Docker-Upload-UUID': id });
    };
    const parseRangeHeader = () => {
      const h = req.headers['content-range'];
      if (h === undefined) return undefined;
      const parsed = parseContentRange(h);
      if (!parsed) throw new RegistryError('RANGE_INVALID', `Malformed Content-Range "${h.slice(0, 100)}": expected "<start>-<end>".`);
      return parsed;
    };
    try {
      switch (method) {
        case 'GET': {
          const { offset } = await store.uploads.status(name, id);
          return send(res, 204, { Location: location, Range: uploadRange(offset), 'Docker-Upload-UUID': id });
        }
        case 'PATCH': {
          const range = parseRangeHeader();
          await store.uploads.status(name, id); // 404 before reading a byte of an unknown session
          const { offset } = await store.uploads.append(name, id, bodyOf(req), { range, length: contentLength(req) });
          return send(res, 202, { Location: location, Range: uploadRange(offset), 'Docker-Upload-UUID': id });
        }
        case 'PUT': {
          const digest = query.get('digest');
          if (digest === null) throw new RegistryError('DIGEST_INVALID', 'Finishing an upload needs ?digest=<digest> of the whole blob.');
          checkDigest(digest);
          const range = parseRangeHeader();
          await store.uploads.status(name, id);
          const body = hasBody(req) ? bodyOf(req) : undefined;
          // Held from before the commit to the link: when the blob is already stored (an old, unreferenced
          // copy), a GC sweeping right now must not delete it between our commit finding it and our link.
          // (The repository already counts as pushing: route() runs this request in pushing().)
          const push = store.startPush();
          push.hold(digest);
          try {
            const done = await store.uploads.complete(name, id, digest, body, { range, length: body ? contentLength(req) : undefined });
            store.touch(done.digest);
            await store.linkBlob(name, done.digest);
            return send(res, 201, { Location: `/v2/${name}/blobs/${done.digest}`, 'Docker-Content-Digest': done.digest });
          } finally {
            push.end();
          }
        }
        case 'DELETE':
          await store.uploads.cancel(name, id);
          return send(res, 204);
        default:
          res.setHeader('Allow', 'GET, PATCH, PUT, DELETE');
          throw new RegistryError('UNSUPPORTED', `${method} is not supported on upload sessions.`);
      }
    } catch (err) {
      if (err instanceof RegistryError && err.oci === 'RANGE_INVALID') return rangeError(err);
      throw err;
    }
  }
}
