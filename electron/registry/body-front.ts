/**
 * The registry's connections are read here, not by Node's HTTP parser, so that request bodies — a
 * gigabyte and more per push — flow through one reused buffer instead of a new Buffer per 64 KiB read.
 *
 * Why: Node's parser copies every body chunk into a freshly malloc'd Buffer. A 1 GiB push makes 16,000 of
 * them, and glibc hands the freed memory back to the kernel and asks for it again (4,181 brk calls in one
 * measured push). On a VM whose host reclaims freed guest memory, like the Firecracker VMs we benchmark
 * on, each page that comes back costs a host fault: the same push took 6–7.5 s, against 2.3–3.2 s for the
 * same process with malloc trimming disabled. Reading into one buffer that stays hot costs nothing of
 * the kind, on any machine.
 *
 * How: a net.Server accepts, and every socket reads (net's `onread`) into one shared buffer — safe because
 * each read is consumed, or copied, before its callback returns. Request heads are cut out and handed to
 * Node's http.Server as 'data', which parses and validates them and writes the responses as usual, minus
 * their Content-Length and Transfer-Encoding lines, so that the parser takes every request as bodiless.
 * The body that follows is framed here (a length, or chunked coding) and handed to the request's
 * RequestBody, which a handler finds with requestBody(req). Requests without a body pass untouched.
 */
import { Readable } from 'node:stream';
import { Server as NetServer, Socket } from 'node:net';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { RegistryError, closingErrorResponse } from './errors';

/** The shared read buffer: the most a single delivery to a RequestBody can carry. */
export const MAX_DELIVERY = 1 << 20;
/** Node's own limit for a request head (--max-http-header-size). A longer one goes to the parser to be refused. */
const MAX_HEAD = 16 * 1024;
/** Like the registry's headersTimeout: a head trickling in for longer is a client that is not sending one. */
const HEAD_TIMEOUT_MS = 60_000;
/** A chunk-size line longer than this is not one (hex size plus extensions). */
const MAX_CHUNK_LINE = 4096;
const CRLF2 = Buffer.from('\r\n\r\n');

let sharedReadBuffer: Buffer | undefined;

/** What a RequestBody hands its bytes to, without copies in between: DirectFileWriter. */
export interface BodySink {
  /**
   * Takes bytes that are valid only during the call. Returns false when it cannot take another
   * MAX_DELIVERY bytes now; it then calls RequestBody.resume() once it can.
   */
  accept(view: Buffer): boolean;
}

const bodies = new WeakMap<IncomingMessage, RequestBody>();

/** The body of a request that came through the front; undefined when it has none (or no front is in use). */
export function requestBody(req: IncomingMessage): RequestBody | undefined {
  return bodies.get(req);
}

/**
 * One request's body as it arrives. A handler consumes it once: attach(sink) for the fast path, or
 * stream() for an ordinary Readable (of copies). Until then the first bytes are held (copied) and reading
 * pauses. discard() drops the rest as it arrives, keeping the connection usable for the next request.
 */
export class RequestBody {
  received = 0;
  /** Every byte of the body arrived. */
  complete = false;
  private error?: Error;
  private held: Buffer[] = [];
  private sink?: BodySink;
  private out?: Readable;
  private dropping = false;
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(
    /** Content-Length; undefined for a chunked body. */
    readonly length: number | undefined,
    private readonly resumeReading: () => void,
  ) {}

  /** From the connection: false asks it to stop reading until resume(). */
  deliver(view: Buffer): boolean {
    this.received += view.length;
    if (this.dropping) return true;
    if (this.sink) return this.sink.accept(view);
    if (this.out) return this.out.push(Buffer.from(view));
    this.held.push(Buffer.from(view));
    return false; // nobody reads yet
  }

  /** From the connection: the last byte arrived. */
  end(): void {
    this.complete = true;
    this.out?.push(null);
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** From the connection: it broke before the last byte. */
  fail(err: Error): void {
    if (this.complete || this.error) return;
    this.error = err;
    this.out?.destroy(err);
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** Resolves when the last byte has been delivered; rejects when the connection broke first. */
  ended(): Promise<void> {
    if (this.complete) return Promise.resolve();
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The fast path: the sink sees every byte during the call. */
  attach(sink: BodySink): void {
    this.sink = sink;
    let more = true;
    for (const b of this.held.splice(0)) more = sink.accept(b);
    if (more) this.resumeReading();
  }

  /** The sink (or a consumer) can take more again. */
  resume(): void {
    this.resumeReading();
  }

  /** Any other consumer: a Readable of copies, with ordinary backpressure. */
  stream(): Readable {
    if (this.out) return this.out;
    const out = new Readable({ read: () => this.resumeReading() });
    this.out = out;
    for (const b of this.held.splice(0)) out.push(b);
    if (this.complete) out.push(null);
    else if (this.error) out.destroy(this.error);
    return out;
  }

  /** The answer went out and nobody read the body: drop it, so the next request on the connection can be read. */
  unread(): void {
    if (!this.sink && !this.out) this.discard();
  }

  /** Nobody will read the rest: drop it as it arrives. */
  discard(): void {
    if (this.dropping) return;
    this.dropping = true;
    this.held = [];
    this.sink = undefined;
    this.resumeReading();
  }
}

type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'invalid'; reason: string };

/**
 * Reads the framing of a request head and takes its Content-Length and Transfer-Encoding lines out. Only
 * as strict as it must be to agree with Node's parser on where the body ends: anything odd beyond that
 * (bad header names, folded lines, a missing Host) is left in place for the parser to refuse.
 */
export function frameHead(head: Buffer): { framing: Framing; head: Buffer } {
  const lines = head.toString('latin1', 0, head.length - 4).split('\r\n');
  const kept: string[] = [lines[0] ?? ''];
  const lengths: string[] = [];
  const codings: string[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).toLowerCase() : '';
    if (name === 'content-length') lengths.push(line.slice(colon + 1).trim());
    else if (name === 'transfer-encoding') codings.push(...line.slice(colon + 1).split(',').map((t) => t.trim().toLowerCase()));
    else kept.push(line);
  }
  let framing: Framing;
  if (codings.length > 0 && lengths.length > 0) framing = { kind: 'invalid', reason: 'both Transfer-Encoding and Content-Length' };
  else if (codings.length > 0) framing = codings.length === 1 && codings[0] === 'chunked' ? { kind: 'chunked' } : { kind: 'invalid', reason: `unsupported Transfer-Encoding "${codings.join(', ').slice(0, 60)}"` };
  else if (lengths.length > 0) {
    const value = lengths[0]!;
    if (!/^\d{1,15}$/.test(value) || lengths.some((l) => l !== value)) framing = { kind: 'invalid', reason: 'a malformed Content-Length' };
    else framing = Number(value) > 0 ? { kind: 'length', length: Number(value) } : { kind: 'none' };
  } else framing = { kind: 'none' };
  // Without a body the head goes on untouched (a "Content-Length: 0" included).
  if (framing.kind !== 'length' && framing.kind !== 'chunked') return { framing, head };
  return { framing, head: Buffer.from(`${kept.join('\r\n')}\r\n\r\n`, 'latin1') };
}

/** The longest method we expect to see before its space. */
const MAX_METHOD = 24;

/** Whether the bytes so far can begin a request line: a method (an HTTP token) and then a space. */
function startsLikeRequest(bytes: Buffer): boolean {
  const n = Math.min(bytes.length, MAX_METHOD + 1);
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c === 0x20) return i > 0;
    const token = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c));
    if (!token) return false;
  }
  return bytes.length <= MAX_METHOD;
}

/** Chunked transfer coding, decoded as bytes arrive (RFC 9112 §7.1); trailers are read and ignored. */
class ChunkedDecoder {
  private state: 'size' | 'data' | 'data-crlf' | 'trailer' = 'size';
  private line = '';
  private left = 0;

  /**
   * Feeds bytes; `onData` gets each run of body bytes. Returns how many input bytes were used (it stops
   * after the last chunk's trailer, or when onData returns false) and whether the body is complete.
   */
  feed(view: Buffer, onData: (data: Buffer) => boolean): { used: number; done: boolean } {
    let i = 0;
    while (i < view.length) {
      if (this.state === 'data') {
        const n = Math.min(this.left, view.length - i);
        this.left -= n;
        i += n;
        if (this.left === 0) this.state = 'data-crlf';
        if (!onData(view.subarray(i - n, i))) return { used: i, done: false };
        continue;
      }
      // Line-oriented states: collect up to LF.
      const lf = view.indexOf(10, i);
      const end = lf === -1 ? view.length : lf;
      this.line += view.toString('latin1', i, end);
      if (this.line.length > MAX_CHUNK_LINE) throw new Error('a chunk-size line that never ends');
      if (lf === -1) return { used: view.length, done: false };
      i = lf + 1;
      if (!this.line.endsWith('\r')) throw new Error('a chunk line not ended by CRLF');
      const line = this.line.slice(0, -1);
      this.line = '';
      if (this.state === 'data-crlf') {
        if (line !== '') throw new Error('chunk data longer than its size');
        this.state = 'size';
      } else if (this.state === 'size') {
        const m = /^([0-9a-fA-F]{1,13})(?:[ \t]*;.*)?$/.exec(line);
        if (!m) throw new Error(`a malformed chunk size "${line.slice(0, 40)}"`);
        this.left = parseInt(m[1]!, 16);
        this.state = this.left === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        return { used: i, done: true }; // the empty line after the trailers
      }
    }
    return { used: i, done: false };
  }
}

/** Non-public parts of net.Socket that the front relies on (stable since Node 0.x; checked at run time). */
interface SocketInternals {
  _handle: (object & { _consumed?: boolean }) | null;
  _paused?: boolean;
}

/** One connection: cuts heads out for the parser, frames bodies and delivers them. */
class FrontConnection {
  /** head: reading a request head; body: framing a body; parser: Node reads the rest; closed: refused. */
  private mode: 'head' | 'body' | 'parser' | 'closed' = 'head';
  /** The start of a head that has not arrived whole (a copy). */
  private partialHead?: Buffer;
  private body?: RequestBody;
  private left = 0;
  private chunked?: ChunkedDecoder;
  /** Bytes read while they could not be handled (copies, in order). */
  private stash: Buffer[] = [];
  private waiting = false;
  /** Inside consume(): a resume() must wait until it returns. */
  private busy = false;
  private resumeAfter = false;
  /** The client half-closed while bytes of its body were still stashed: end the body after them. */
  private endAfterStash = false;
  /** A head that started arriving must be whole within HEAD_TIMEOUT_MS (Node's headersTimeout, which cannot see it). */
  private headTimer?: NodeJS.Timeout;
  /** The body of the head just handed to the parser, until the 'request' for it claims it. */
  unclaimed?: RequestBody;

  readonly socket: Socket;
  /** Reading goes on (the socket's own resume(), which the constructor wraps for Node's calls). */
  private readonly readOn: () => void;

  constructor(handle: object) {
    sharedReadBuffer ??= Buffer.allocUnsafeSlow(MAX_DELIVERY);
    this.socket = new Socket({
      handle,
      allowHalfOpen: true,
      readable: true,
      writable: true,
      onread: { buffer: sharedReadBuffer, callback: (n: number, buf: Uint8Array) => this.onRead((buf as Buffer).subarray(0, n)) },
    } as ConstructorParameters<typeof Socket>[0] & { handle: unknown });
    // Node pauses and resumes the socket itself around pipelined responses: when it resumes, what we
    // stashed meanwhile goes first. Our own resuming uses the plain method.
    const plainResume = this.socket.resume.bind(this.socket);
    this.readOn = () => void plainResume();
    this.socket.resume = () => {
      plainResume();
      if (this.stash.length > 0) queueMicrotask(() => this.resume());
      return this.socket;
    };
    this.socket.on('end', () => this.ended());
    this.socket.once('close', () => this.closed());
    // Keep Node's parser from taking the socket over in C++; it gets heads through 'data' instead.
    (handle as { _consumed?: boolean })._consumed = true;
  }

  /** The onread callback: false stops reading (until resume). */
  onRead(view: Buffer): boolean {
    if (this.waiting || this.stash.length > 0 || this.busy) {
      // Read while we could not take it (someone else resumed the socket): keep it, in order.
      this.stash.push(Buffer.from(view));
      this.waiting = true;
      return false;
    }
    const rest = this.handle(view);
    if (rest === undefined) return true;
    if (rest.length > 0) this.stash.push(Buffer.from(rest)); // `view` is the shared buffer: copy what stays
    this.waiting = true;
    return false;
  }

  /**
   * Bytes can flow again (a body's consumer caught up, or Node resumed): replay the stash, then read on.
   * A consumer may ask from inside a delivery; the request is then served right after it.
   */
  resume(): void {
    if (this.socket.destroyed) return;
    if (this.busy) {
      this.resumeAfter = true;
      return;
    }
    this.waiting = false;
    while (this.stash.length > 0) {
      const rest = this.handle(this.stash.shift()!);
      if (rest !== undefined) {
        if (rest.length > 0) this.stash.unshift(rest);
        this.waiting = true;
        return;
      }
    }
    if (this.endAfterStash) this.ended();
    // While Node holds the socket paused, it resumes it itself (and that replays the stash: see the constructor).
    if (!this.nodePaused()) this.readOn();
  }

  private nodePaused(): boolean {
    return (this.socket as unknown as SocketInternals)._paused === true;
  }

  /** consume(), marked busy; a resume asked for meanwhile runs once it returns. */
  private handle(view: Buffer): Buffer | undefined {
    this.busy = true;
    let rest: Buffer | undefined;
    try {
      rest = this.consume(view);
    } finally {
      this.busy = false;
    }
    if (this.resumeAfter) {
      this.resumeAfter = false;
      if (rest !== undefined) queueMicrotask(() => this.resume());
    }
    return rest;
  }

  /**
   * Handles bytes. Returns undefined when all were handled and reading may go on; otherwise what is left
   * (possibly nothing) when reading must stop: a body's consumer is full, or Node paused the socket.
   */
  private consume(view: Buffer): Buffer | undefined {
    let v = view;
    while (v.length > 0) {
      if (this.mode === 'closed') return undefined;
      if (this.mode === 'parser') {
        this.socket.emit('data', v);
        return undefined;
      }
      if (this.mode === 'head') {
        if (this.nodePaused()) return v; // Node paused the socket (too many pipelined answers queued)
        v = this.takeHead(v);
        continue;
      }
      const body = this.body!;
      let more = true;
      if (this.chunked) {
        let result: { used: number; done: boolean };
        try {
          result = this.chunked.feed(v, (data) => (more = body.deliver(data)));
        } catch (err) {
          body.fail(err as Error);
          this.refuse(`Malformed chunked request body: ${(err as Error).message}.`);
          return undefined;
        }
        v = v.subarray(result.used);
        if (result.done) this.endBody();
      } else {
        const n = Math.min(this.left, v.length);
        this.left -= n;
        more = body.deliver(v.subarray(0, n));
        v = v.subarray(n);
        if (this.left === 0) this.endBody();
      }
      // A body that is still arriving and whose consumer is full: stop here.
      if (!more && this.mode === 'body') return v;
    }
    return undefined;
  }

  /** Collects a head; when whole, hands it to the parser. Returns the bytes after it. */
  private takeHead(v: Buffer): Buffer {
    const searchFrom = Math.max(0, (this.partialHead?.length ?? 0) - 3);
    let joined = this.partialHead ? Buffer.concat([this.partialHead, v]) : v;
    this.partialHead = undefined;
    // Blank lines before a request line are allowed (RFC 9112 §2.2).
    let skip = 0;
    while (joined[skip] === 13 && joined[skip + 1] === 10) skip += 2;
    // Not HTTP (a TLS ClientHello from a client trying https first, say): the parser refuses it at once,
    // and the client moves on. Waiting for a head that never comes would stall it instead.
    if (!startsLikeRequest(joined.subarray(skip))) return this.toParser(joined);
    const end = joined.indexOf(CRLF2, Math.max(searchFrom, skip));
    if (end === -1) {
      // Too long to be a head we would accept: let the parser see it all and refuse it.
      if (joined.length > MAX_HEAD) return this.toParser(joined);
      // Keep a copy: `v` is the shared read buffer, about to be reused.
      this.partialHead = Buffer.from(joined);
      this.headTimer ??= setTimeout(() => this.socket.destroy(), HEAD_TIMEOUT_MS).unref();
      return Buffer.alloc(0);
    }
    clearTimeout(this.headTimer);
    this.headTimer = undefined;
    if (skip > 0) joined = joined.subarray(skip);
    const headEnd = end - skip + 4;
    const after = joined.subarray(headEnd);
    const { framing, head } = frameHead(joined.subarray(0, headEnd));
    if (framing.kind === 'invalid') {
      this.refuse(`Malformed HTTP request: ${framing.reason}.`);
      return Buffer.alloc(0);
    }
    if (framing.kind === 'length' || framing.kind === 'chunked') {
      const body = new RequestBody(framing.kind === 'length' ? framing.length : undefined, () => this.resume());
      this.body = body;
      this.left = framing.kind === 'length' ? framing.length : 0;
      this.chunked = framing.kind === 'chunked' ? new ChunkedDecoder() : undefined;
      this.mode = 'body';
      this.unclaimed = body;
    }
    this.socket.emit('data', head);
    if (this.unclaimed) {
      // The parser refused the head (it answers and closes) or Node is holding the request: nobody reads this body.
      this.unclaimed.discard();
      this.unclaimed = undefined;
    }
    return after;
  }

  /** From here on Node's parser reads the connection (and refuses what we could not read as a request). */
  private toParser(bytes: Buffer): Buffer {
    this.mode = 'parser';
    this.socket.emit('data', bytes);
    return Buffer.alloc(0);
  }

  private endBody(): void {
    this.body?.end();
    this.body = undefined;
    this.chunked = undefined;
    this.mode = 'head';
  }

  /** A framing error: answer in the registry's words and close (the byte stream cannot be trusted). */
  private refuse(message: string): void {
    this.mode = 'closed';
    this.socket.end(closingErrorResponse('400 Bad Request', 'UNSUPPORTED', message));
  }

  /**
   * The client half-closed ('end'): a body still arriving is short, and the client is still listening
   * for the answer (SIZE_INVALID; what did arrive stays in the upload session).
   */
  ended(): void {
    if (this.stash.length > 0) {
      this.endAfterStash = true;
      return;
    }
    this.endAfterStash = false;
    const body = this.body;
    if (!body) return;
    this.body = undefined;
    const promised = body.length === undefined ? 'its last chunk' : `its Content-Length (${body.received} of ${body.length} bytes arrived)`;
    body.fail(new RegistryError('SIZE_INVALID', `The request body ended before ${promised}.`, { received: body.received }));
  }

  /** The connection is gone: a body still arriving is cut off, and nobody hears an answer. */
  closed(): void {
    clearTimeout(this.headTimer);
    this.body?.fail(Object.assign(new Error('The client closed the connection before the body ended.'), { code: 'ECONNRESET' }));
    this.body = undefined;
    this.stash = [];
  }
}

/**
 * A listener for `http`: accepts connections and feeds them to it through the front. Falls back to
 * plain Node (the http.Server reads its sockets itself) if net's internals ever stop looking as expected.
 */
export function frontFor(http: HttpServer): NetServer {
  const front = new NetServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true });
  // The http.Server never listens itself; its connection tracking (timeouts, closeIdleConnections) starts on 'listening'.
  front.on('listening', () => http.emit('listening'));
  // A client that half-closes in the middle of a body still reads our answer (SIZE_INVALID, see ended()).
  (http as HttpServer & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // First in line, before the registry's handler looks for the body.
  http.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const conn = connections.get(req.socket);
    const body = conn?.unclaimed;
    if (!conn || !body) return;
    bodies.set(req, body);
    conn.unclaimed = undefined;
    res.once('finish', () => body.unread());
  });
  front.on('connection', (accepted: Socket) => {
    const internals = accepted as unknown as SocketInternals;
    const handle = internals._handle;
    if (!handle || typeof (handle as { readStart?: unknown }).readStart !== 'function') {
      // Not the net.Socket we know (a future Node?): plain Node reads this one, bodies and all.
      http.emit('connection', accepted);
      accepted.resume();
      return;
    }
    internals._handle = null; // the handle moves to the connection's socket; `accepted` stays as the server's count of it
    const conn = new FrontConnection(handle);
    connections.set(conn.socket, conn);
    conn.socket.once('close', () => accepted.destroy());
    http.emit('connection', conn.socket);
  });
  return front;
}

const connections = new WeakMap<Socket, FrontConnection>();
