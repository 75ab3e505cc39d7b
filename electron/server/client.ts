/**
 * A Node client of the HTTP bridge — over the control socket of a running instance (the CLI hands its
 * work there) or over TCP. The BerthApi object is derived from methodNames: no per-method code.
 * Envelopes become results or thrown BerthErrors; events arrive over server-sent events.
 */
import { request, type IncomingMessage, type RequestOptions } from 'node:http';
import { methodNames, type BerthApi, type MethodName } from '../../shared/api';
import { apiPrefix } from '../../shared/bridge';
import type { Envelope } from '../../shared/contract';
import { BerthError } from '../../shared/errors';
import type { BerthEvent } from '../../shared/events';

export interface BridgeEndpoint {
  /** A unix socket path or Windows pipe name… */
  socketPath?: string;
  /** …or a TCP base URL such as http://127.0.0.1:7780 */
  url?: string;
  token: string;
}

export interface BridgeClient {
  api: BerthApi;
  call(method: MethodName | string, input: unknown): Promise<unknown>;
  /** Resolves once the event stream is open, so no event after this point is missed. */
  subscribe(listener: (event: BerthEvent) => void): Promise<() => void>;
  close(): void;
}

function requestOptions(ep: BridgeEndpoint, path: string, method: string, headers: Record<string, string>): RequestOptions {
  const auth = { Authorization: `Bearer ${ep.token}`, ...headers };
  if (ep.socketPath) return { socketPath: ep.socketPath, path, method, headers: { Host: 'localhost', ...auth } };
  const base = new URL(ep.url ?? 'http://127.0.0.1');
  return { host: base.hostname.replace(/^\[|\]$/g, ''), port: base.port, path, method, headers: auth };
}

function unreachable(ep: BridgeEndpoint, err: Error): BerthError {
  return new BerthError('INTERNAL', `Could not reach the running Berth instance at ${ep.socketPath ?? ep.url}: ${err.message}`);
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

export function createBridgeClient(ep: BridgeEndpoint): BridgeClient {
  const streams = new Set<IncomingMessage>();

  const call = (method: string, input: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(input ?? {});
      const req = request(
        requestOptions(ep, `${apiPrefix}/call/${encodeURIComponent(method)}`, 'POST', {
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(body)),
        }),
        (res) => {
          readBody(res).then((text) => {
            let envelope: Envelope;
            try {
              envelope = JSON.parse(text) as Envelope;
            } catch {
              reject(new BerthError('INTERNAL', `The Berth instance answered ${res.statusCode} with something that is not an envelope.`));
              return;
            }
            if (envelope.ok) resolve(envelope.result);
            else reject(BerthError.from(envelope.error));
          }, reject);
        },
      );
      req.on('error', (err) => reject(unreachable(ep, err)));
      req.end(body);
    });

  const api = Object.fromEntries(methodNames.map((m) => [m, (input: unknown) => call(m, input)])) as unknown as BerthApi;

  /** `onLost` is told when the stream ends without an unsubscribe: the instance stopped or crashed. */
  const subscribe = (listener: (event: BerthEvent) => void, onLost?: () => void) =>
    new Promise<() => void>((resolve, reject) => {
      const req = request(requestOptions(ep, `${apiPrefix}/events`, 'GET', { Accept: 'text/event-stream' }), (res) => {
        if (res.statusCode !== 200) {
          readBody(res).then((text) => reject(new BerthError('INTERNAL', `Event stream refused (${res.statusCode}): ${text}`)), reject);
          return;
        }
        streams.add(res);
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = frame
              .split('\n')
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trimStart())
              .join('\n');
            if (data) listener(JSON.parse(data) as BerthEvent);
          }
        });
        let unsubscribed = false;
        res.on('close', () => {
          streams.delete(res);
          if (!unsubscribed) onLost?.();
        });
        resolve(() => {
          unsubscribed = true;
          streams.delete(res);
          res.destroy();
          req.destroy();
        });
      });
      req.on('error', (err) => reject(unreachable(ep, err)));
      req.end();
    });

  return {
    api,
    call,
    subscribe,
    close() {
      for (const s of streams) s.destroy();
      streams.clear();
    },
  };
}
