import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { messageError, readJsonLines } from './json-messages';

describe('readJsonLines', () => {
  it('parses messages split across chunks and CRLF line ends, skipping blank lines', async () => {
    const s = new PassThrough();
    const seen: unknown[] = [];
    const done = readJsonLines(s, (m) => seen.push(m));
    s.write('{"status":"Loading layer","progressDetail":{"cur');
    s.write('rent":1,"total":2}}\r\n\r\n{"stream":"Loaded image: a:b\\n"}');
    s.end('\n{"id":"x"}');
    await done;
    expect(seen).toEqual([
      { status: 'Loading layer', progressDetail: { current: 1, total: 2 } },
      { stream: 'Loaded image: a:b\n' },
      { id: 'x' },
    ]);
  });

  it('rejects with what the callback throws and stops reading', async () => {
    const s = new PassThrough();
    const seen: unknown[] = [];
    const done = readJsonLines(s, (m: { error?: string }) => {
      if (m.error) throw new Error(m.error);
      seen.push(m);
    });
    s.write('{"status":"a"}\n{"error":"boom"}\n{"status":"b"}\n');
    await expect(done).rejects.toThrow('boom');
    expect(seen).toEqual([{ status: 'a' }]);
  });

  it('reads the engine error text from errorDetail or error', () => {
    expect(messageError({ errorDetail: { message: 'detail' }, error: 'short' })).toBe('detail');
    expect(messageError({ error: 'short' })).toBe('short');
    expect(messageError({ status: 'ok' })).toBeUndefined();
  });
});
