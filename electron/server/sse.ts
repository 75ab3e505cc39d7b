/**
 * Server-sent events: every BerthEvent as one `data:` line of JSON. A comment line every 15 s keeps
 * proxies and idle timers from closing the stream; the subscription ends when the client goes away.
 */
import type { ServerResponse } from 'node:http';
import type { BerthEvent } from '../../shared/events';

export type Subscribe = (listener: (event: BerthEvent) => void) => () => void;

export function openEventStream(res: ServerResponse, subscribe: Subscribe, heartbeatMs = 15_000): () => void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  // `retry` tells EventSource how soon to reconnect; the comment flushes the headers at once.
  res.write('retry: 2000\n: connected\n\n');
  const unsubscribe = subscribe((event) => {
    res.write(`data: ${JSON.stringify(event)}\n\n`);
  });
  const heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
  heartbeat.unref();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    res.end();
  };
  res.on('close', close);
  return close;
}
