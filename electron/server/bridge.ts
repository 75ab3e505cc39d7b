/**
 * The HTTP bridge: the contract over HTTP (shared/bridge.ts). One handler serves `berth serve` (TCP,
 * with the UI) and every instance's control socket (API only). Every method reaches `dispatch` through
 * one route — nothing here knows any method by name.
 *
 *   POST /api/call/<method>   JSON input → 200 + Envelope
 *   GET  /api/events          server-sent events
 *   PUT  /api/uploads?name=F  the file's bytes → Envelope<{ uploadId, size }>
 *   GET  /api/exports/<id>    a prepared export's archive, as a download; the id is the credential
 *   anything else             the built UI (when a UI root is given)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { apiPrefix } from '../../shared/bridge';
import type { Envelope } from '../../shared/contract';
import { BerthError, toErrorInfo, type ErrorCode } from '../../shared/errors';
import type { Dispatch } from '../app/dispatch';
import { resolvePreparedExport } from '../archive/exports';
import { checkHostAndOrigin, requestToken, tokenMatches } from './auth';
import { openEventStream, type Subscribe } from './sse';
import { receiveUpload } from './uploads';
import { serveStatic } from './static';

/** Call inputs are small JSON objects; anything big is a file and goes through /api/uploads. */
const maxCallBody = 4 * 1024 * 1024;

export interface BridgeOptions {
  dispatch: Dispatch;
  subscribe: Subscribe;
  token: string;
  dataDir: string;
  /** Host header values that name this server; undefined = do not check (unix socket, named pipe). */
  hosts: Set<string> | undefined;
  /** Serve the built UI from here (berth serve); the control socket serves the API only. */
  uiRoot?: string;
  log?: (line: string) => void;
  /** Comment lines on idle event streams (default 15 s). */
  heartbeatMs?: number;
}

export interface BridgeHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** End every open event stream (server shutdown). */
  closeStreams(): void;
}

function sendEnvelope(res: ServerResponse, status: number, envelope: Envelope): void {
  const body = JSON.stringify(envelope);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  sendEnvelope(res, status, { ok: false, error: { code, message } });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxCallBody) throw new BerthError('INVALID_INPUT', `Call input is too large (${declared} bytes; limit ${maxCallBody}).`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxCallBody) throw new BerthError('INVALID_INPUT', `Call input is too large (over ${maxCallBody} bytes).`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BerthError('INVALID_INPUT', 'The call input is not valid JSON.');
  }
}

/**
 * GET /api/exports/<id>: a prepared export streamed from its file (a browser's download, or a file dragged
 * out of the page with DownloadURL). Any id that is not one of the cache's — a path, `../`, an id since
 * removed — is a 404. Length and bytes come from one open file, so a sweep removing it mid-way changes nothing.
 */
async function sendPreparedExport(req: IncomingMessage, res: ServerResponse, dataDir: string, id: string): Promise<void> {
  let found;
  try {
    found = resolvePreparedExport(dataDir, id, { touch: true });
  } catch (err) {
    return sendError(res, 404, 'NOT_FOUND', err instanceof BerthError && err.code === 'NOT_FOUND' ? err.message : 'No prepared export has that id.');
  }
  const file = await open(found.path, 'r');
  try {
    const { size } = await file.stat();
    res.writeHead(200, {
      'Content-Type': 'application/x-tar',
      'Content-Length': size,
      // Names are [A-Za-z0-9._-] only (exportFileName), so the plain quoted form is exact.
      'Content-Disposition': `attachment; filename="${found.name}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') return void res.end();
    // pipeline closes the file when the client goes away mid-download.
    await pipeline(file.createReadStream({ highWaterMark: 1 << 20, autoClose: false }), res).catch(() => res.destroy());
  } finally {
    await file.close();
  }
}

export function createBridgeHandler(opts: BridgeOptions): BridgeHandler {
  const streams = new Set<() => void>();
  const log = opts.log ?? (() => {});

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const route = url.pathname.slice(apiPrefix.length);
    // A prepared export's id is its own credential: 128 random bits, known only to whoever prepared it
    // (through the API, with the token), void within the hour and at every start. So a download link or a
    // DownloadURL drag carries no token, which would otherwise sit in the browser's download history with
    // the power of the whole API. The Host/Origin checks above still apply.
    if (route.startsWith('/exports/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'INVALID_INPUT', 'Exports are downloaded with GET.');
      return sendPreparedExport(req, res, opts.dataDir, route.slice('/exports/'.length));
    }
    if (!tokenMatches(requestToken(req, url), opts.token)) {
      sendError(res, 401, 'UNAUTHORIZED', 'Missing or wrong token: open the URL that `berth serve` printed (it carries the token).');
      return;
    }
    if (route.startsWith('/call/')) {
      if (req.method !== 'POST') return sendError(res, 405, 'INVALID_INPUT', 'Calls are POST requests.');
      let method: string;
      try {
        method = decodeURIComponent(route.slice('/call/'.length));
      } catch {
        return sendError(res, 400, 'INVALID_INPUT', 'Malformed method name.');
      }
      let input: unknown;
      try {
        input = await readJson(req);
      } catch (err) {
        return sendEnvelope(res, 400, { ok: false, error: toErrorInfo(err) });
      }
      sendEnvelope(res, 200, await opts.dispatch(method, input, { transport: 'http' }));
      return;
    }
    if (route === '/events') {
      if (req.method !== 'GET') return sendError(res, 405, 'INVALID_INPUT', 'Events are read with GET.');
      const close = openEventStream(res, opts.subscribe, opts.heartbeatMs);
      streams.add(close);
      res.on('close', () => streams.delete(close));
      return;
    }
    if (route === '/uploads') {
      if (req.method !== 'PUT') return sendError(res, 405, 'INVALID_INPUT', 'Uploads are PUT requests.');
      const length = req.headers['content-length'];
      const expected = length === undefined ? undefined : Number(length);
      if (expected !== undefined && (!Number.isSafeInteger(expected) || expected < 0)) {
        return sendError(res, 400, 'INVALID_INPUT', 'Content-Length is not a byte count.');
      }
      const abort = new AbortController();
      req.on('close', () => {
        if (!req.complete) abort.abort(new BerthError('CANCELLED', 'The client went away during the upload.'));
      });
      try {
        const result = await receiveUpload(req, opts.dataDir, expected, abort.signal);
        log(`upload ${result.uploadId}: ${result.size} bytes (${url.searchParams.get('name') ?? 'unnamed'})`);
        sendEnvelope(res, 200, { ok: true, result });
      } catch (err) {
        if (!res.destroyed) sendEnvelope(res, 400, { ok: false, error: toErrorInfo(err) });
      }
      return;
    }
    sendError(res, 404, 'NOT_FOUND', `No such bridge route: ${url.pathname}`);
  };

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    const check = checkHostAndOrigin(req, opts.hosts);
    if (!check.ok) {
      sendError(res, check.status, 'UNAUTHORIZED', check.message);
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://bridge.invalid');
    } catch {
      sendError(res, 400, 'INVALID_INPUT', 'Malformed request URL.');
      return;
    }
    if (url.pathname === apiPrefix || url.pathname.startsWith(`${apiPrefix}/`)) {
      handleApi(req, res, url).catch((err: unknown) => {
        log(`bridge: ${String(err)}`);
        if (!res.headersSent) sendEnvelope(res, 500, { ok: false, error: toErrorInfo(err) });
        else res.destroy();
      });
      return;
    }
    if (opts.uiRoot && (req.method === 'GET' || req.method === 'HEAD')) {
      serveStatic(opts.uiRoot, req, res, url.pathname);
      return;
    }
    sendError(res, 404, 'NOT_FOUND', opts.uiRoot ? `No such route: ${req.method} ${url.pathname}` : 'This endpoint serves the API only.');
  }) as BridgeHandler;
  handler.closeStreams = () => {
    for (const close of [...streams]) close();
  };
  return handler;
}
