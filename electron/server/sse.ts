/**
 * Server-sent events: every BerthEvent as one `data:` line of JSON. A comment line every 15 s keeps
 * proxies and idle timers from closing the stream; the subscription ends when the client goes away.
 */
import type { ServerResponse } from 'node:http';
import type { BerthEvent } from '../../shared/events';

const MAX_BUFFERED = 1 << 20;

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
  // A client that stops reading (a suspended CLI, a frozen tab) must not make us buffer every event
  // forever: past this much unsent data the stream is closed; clients reconnect and re-read state.
  const send = (text: string) => {
    if (!res.write(text) && res.writableLength > MAX_BUFFERED) close();
  };
  const unsubscribe = subscribe((event) => send(`data: ${JSON.stringify(event)}\n\n`));
  const heartbeat = setInterval(() => send(': ping\n\n'), heartbeatMs);
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
