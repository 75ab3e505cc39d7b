/**
 * The engine answers long operations (pull, push, load, events) with a stream of JSON messages, one per
 * line. This reads them as they arrive — never the whole body — and hands each to a callback.
 */

/** One message of the engine's JSON stream (pull/push/load progress, or an error). */
export interface JsonMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  /** docker load: 'Loaded image: x:y\n' */
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: unknown;
}

/** Splits a byte stream into JSON lines; malformed lines are skipped (the engine never sends them). */
export function readJsonLines<T = JsonMessage>(stream: NodeJS.ReadableStream, onMessage: (message: T) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending = '';
    const flush = (text: string) => {
      const line = text.trim();
      if (!line) return;
      let message: T;
      try {
        message = JSON.parse(line) as T;
      } catch {
        return;
      }
      onMessage(message);
    };
    stream.on('data', (chunk: Buffer | string) => {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          flush(line);
        } catch (err) {
          // A callback that throws (an engine error message) ends the read.
          (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
          reject(err);
          return;
        }
      }
    });
    stream.on('end', () => {
      try {
        flush(pending);
        resolve();
      } catch (err) {
        reject(err);
      }
    });
    stream.on('error', reject);
    // A destroyed response (abort) may close without 'end'.
    stream.on('close', () => resolve());
  });
}

/** The engine's error text in a message, if the message is an error. */
export function messageError(m: JsonMessage): string | undefined {
  return m.errorDetail?.message || m.error || undefined;
}
