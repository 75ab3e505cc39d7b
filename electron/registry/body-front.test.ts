import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect, type Server as NetServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { frameHead, frontFor, requestBody } from './body-front';

const head = (text: string) => Buffer.from(`${text.replace(/\n/g, '\r\n')}\r\n\r\n`, 'latin1');

describe('frameHead', () => {
  it('takes Content-Length out of a head with a body and keeps every other line', () => {
    const { framing, head: out } = frameHead(head('PUT /x HTTP/1.1\nHost: a\nContent-Length: 12\nX-Other: y'));
    expect(framing).toEqual({ kind: 'length', length: 12 });
    expect(out.toString('latin1')).toBe('PUT /x HTTP/1.1\r\nHost: a\r\nX-Other: y\r\n\r\n');
  });
  it('reads chunked coding, case and spacing aside', () => {
    const { framing, head: out } = frameHead(head('PATCH /x HTTP/1.1\nHost: a\ntransfer-encoding:  Chunked '));
    expect(framing).toEqual({ kind: 'chunked' });
    expect(out.toString('latin1')).not.toMatch(/transfer-encoding/i);
  });
  it('leaves a head without a body untouched, "Content-Length: 0" included', () => {
    for (const text of ['GET /v2/ HTTP/1.1\nHost: a', 'POST /x HTTP/1.1\nHost: a\nContent-Length: 0']) {
      const h = head(text);
      const out = frameHead(h);
      expect(out.framing).toEqual({ kind: 'none' });
      expect(out.head).toBe(h);
    }
  });
  it('refuses framing that Node and we could read differently (request smuggling)', () => {
    const bad = [
      'PUT /x HTTP/1.1\nHost: a\nContent-Length: 5\nTransfer-Encoding: chunked',
      'PUT /x HTTP/1.1\nHost: a\nContent-Length: 5\nContent-Length: 6',
      'PUT /x HTTP/1.1\nHost: a\nContent-Length: -5',
      'PUT /x HTTP/1.1\nHost: a\nContent-Length: 5 5',
      'PUT /x HTTP/1.1\nHost: a\nContent-Length: 0x10',
      'PUT /x HTTP/1.1\nHost: a\nTransfer-Encoding: gzip, chunked',
      'PUT /x HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked',
    ];
    for (const text of bad) expect(frameHead(head(text)).framing.kind, text).toBe('invalid');
    // The same length twice is one length (RFC 9110 §8.6 lets a recipient accept it).
    expect(frameHead(head('PUT /x HTTP/1.1\nHost: a\nContent-Length: 5\nContent-Length: 5')).framing).toEqual({ kind: 'length', length: 5 });
  });
});

/**
 * A server behind the front whose handler answers with the body's length and sha256 — read through
 * stream(), the way any consumer but the direct writer reads it — or, on /ignore, without reading it.
 */
let http: HttpServer;
let front: NetServer;
let port: number;

beforeEach(async () => {
  http = createHttpServer(async (req: IncomingMessage, res: ServerResponse) => {
    const body = requestBody(req);
    if (req.url === '/big') {
      res.end(Buffer.alloc(1 << 20, 'b'));
      return;
    }
    if (req.url === '/ignore' || !body) {
      res.end(`${req.method} ${req.url} no-body`);
      return;
    }
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of body.stream()) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      res.end(`${req.method} ${req.url} ${size} ${hash.digest('hex').slice(0, 16)}`);
    } catch (err) {
      res.statusCode = 400;
      res.end(`broken: ${(err as Error).message}`);
    }
  });
  front = frontFor(http);
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  port = (front.address() as { port: number }).port;
});

afterEach(async () => {
  http.close();
  http.closeAllConnections();
  await new Promise((r) => front.close(r));
});

/** Writes the pieces one by one (each its own TCP write), half-closes, and returns all that came back. */
function exchange(pieces: Array<string | Buffer>, opts: { halfClose?: boolean; gapMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', async () => {
      for (const p of pieces) {
        sock.write(p);
        await new Promise((r) => setTimeout(r, opts.gapMs ?? 2));
      }
      if (opts.halfClose !== false) sock.end();
    });
    let text = '';
    sock.on('data', (c) => (text += c.toString('latin1')));
    sock.on('close', () => resolve(text));
    sock.on('error', reject);
  });
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex').slice(0, 16);
const bodiesOf = (text: string) => text.split(/HTTP\/1\.1 \d+ [A-Za-z ]+\r\n[\s\S]*?\r\n\r\n/).filter(Boolean);

describe('the front', () => {
  it('answers pipelined requests in order, with and without bodies, in one TCP write', async () => {
    const a = Buffer.alloc(300_000, 'a');
    const wire = Buffer.concat([
      Buffer.from(`PUT /one HTTP/1.1\r\nHost: x\r\nContent-Length: ${a.length}\r\n\r\n`),
      a,
      Buffer.from('GET /two HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from('PATCH /three HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'),
    ]);
    const text = await exchange([wire]);
    expect(bodiesOf(text)).toEqual([`PUT /one ${a.length} ${sha(a)}`, 'GET /two no-body', `PATCH /three 3 ${sha('abc')}`]);
  });

  it('decodes chunked bodies delivered a byte at a time, with extensions and trailers', async () => {
    const wire = 'PATCH /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;name=v\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n';
    const text = await exchange([...wire].map((c) => Buffer.from(c, 'latin1')), { gapMs: 0 });
    expect(bodiesOf(text)).toEqual([`PATCH /c 11 ${sha('hello world')}`, 'GET /after no-body']);
  });

  it('sends 100 Continue to a client that asks for it before its body', async () => {
    const text = await exchange(['PUT /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n', 'xyz']);
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    expect(text).toContain(`PUT /e 3 ${sha('xyz')}`);
  });

  it('a body nobody reads is dropped once the answer is out, and the next request on the connection is served', async () => {
    const big = Buffer.alloc(3 << 20, 'z'); // more than the shared read buffer: reading had to pause and go on
    const text = await exchange([`PUT /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\n\r\n`, big, 'GET /next HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(bodiesOf(text)).toEqual(['PUT /ignore no-body', 'GET /next no-body']);
  });

  it('refuses ambiguous framing and a malformed chunk with 400 and closes the connection', async () => {
    const smuggle = await exchange(['POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hidden HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(smuggle).toMatch(/^HTTP\/1\.1 400 Bad Request[\s\S]*both Transfer-Encoding and Content-Length/);
    expect(smuggle).not.toContain('/hidden');
    const chunk = await exchange(['PATCH /m HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n']);
    expect(chunk).toMatch(/HTTP\/1\.1 400 Bad Request[\s\S]*malformed chunk size/);
  });

  it('a body cut short by a half-close fails its reader with SIZE_INVALID, and the answer still reaches the client', async () => {
    const text = await exchange(['PUT /short HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789']);
    expect(text).toMatch(/^HTTP\/1\.1 400[\s\S]*broken: The request body ended before its Content-Length \(10 of 100 bytes arrived\)/);
  });

  it('leaves a head Node must refuse to Node (no Host on HTTP/1.1 → 400)', async () => {
    const text = await exchange(['PUT /nohost HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc']);
    expect(text).toMatch(/^HTTP\/1\.1 400/);
  });
});

describe('the front under pipelining', () => {
  it('serves pipelined requests whose answers pile up unread (Node pauses the socket; the heads wait, then go on)', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1', () => {
        sock.pause(); // do not read: Node's answers queue up and it pauses the connection
        sock.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(4) + 'PUT /after HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok');
        sock.end();
        setTimeout(() => sock.resume(), 300);
      });
      let out = '';
      sock.on('data', (c) => (out += c.toString('latin1')));
      sock.on('close', () => resolve(out));
      sock.on('error', reject);
    });
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(5);
    expect(text).toContain(`PUT /after 2 ${sha('ok')}`);
  });
});

describe('the front, facing something that is not HTTP', () => {
  it('a TLS ClientHello (a client trying https first) is refused at once, not waited on', async () => {
    const hello = Buffer.from('160301020001000100030300', 'hex'); // the start of a ClientHello; the client then waits
    const started = Date.now();
    const text = await exchange([hello], { halfClose: false });
    expect(text).toMatch(/^HTTP\/1\.1 400/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
