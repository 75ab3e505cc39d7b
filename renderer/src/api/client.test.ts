import { describe, expect, it } from 'vitest';
import { methodNames } from '../../../shared/api';
import { BerthError } from '../../../shared/errors';
import { asBerthError, createClient } from './client';
import type { Transport } from './transport';

function recordingTransport(reply: (method: string, input: unknown) => unknown): Transport & { calls: Array<[string, unknown]> } {
  const calls: Array<[string, unknown]> = [];
  return {
    kind: 'http',
    calls,
    async call(method, input) {
      calls.push([method, input]);
      return reply(method, input) as never;
    },
    subscribe: () => () => {},
    sendFile: async () => ({ uploadId: 'u' }),
  };
}

describe('createClient', () => {
  it('has one function per contract method', () => {
    const client = createClient(recordingTransport(() => ({ ok: true, result: null })));
    for (const m of methodNames) expect(typeof (client as unknown as Record<string, unknown>)[m]).toBe('function');
  });
  it('passes the method and input through and unwraps the result', async () => {
    const t = recordingTransport((_m, input) => ({ ok: true, result: { echoed: input } }));
    const client = createClient(t);
    await expect(client['images.tag']({ id: 'abc', target: 'x:1' })).resolves.toEqual({ echoed: { id: 'abc', target: 'x:1' } });
    expect(t.calls).toEqual([['images.tag', { id: 'abc', target: 'x:1' }]]);
  });
  it('turns an error envelope into a BerthError with code and detail', async () => {
    const t = recordingTransport(() => ({ ok: false, error: { code: 'CONFLICT', message: 'in use', detail: { containers: [{ name: 'web' }] } } }));
    const err = await createClient(t)['images.remove']({ id: 'abc' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe('CONFLICT');
    expect((err as BerthError).detail).toEqual({ containers: [{ name: 'web' }] });
  });
});

describe('asBerthError', () => {
  it('accepts error infos, errors and strings', () => {
    expect(asBerthError({ code: 'CANCELLED', message: 'x' }).code).toBe('CANCELLED');
    expect(asBerthError(new Error('boom')).message).toBe('boom');
    expect(asBerthError('plain').code).toBe('INTERNAL');
  });
});
