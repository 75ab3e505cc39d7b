import { describe, expect, it } from 'vitest';
import { methodNames, type BerthHandlers } from '../../shared/api';
import { BerthError } from '../../shared/errors';
import { createDispatch } from './dispatch';

/** Handlers for every method, derived from the contract: each echoes its name and validated input. */
function echoHandlers(): BerthHandlers {
  return Object.fromEntries(methodNames.map((m) => [m, async (input: unknown) => ({ method: m, input })])) as unknown as BerthHandlers;
}

describe('dispatch', () => {
  it('routes every method of the contract to its handler with the validated input', async () => {
    const dispatch = createDispatch(echoHandlers());
    const env = await dispatch('images.inspect', { id: 'sha256:abc' }, { transport: 'direct' });
    expect(env).toEqual({ ok: true, result: { method: 'images.inspect', input: { id: 'sha256:abc' } } });
  });

  it('names the field that failed validation (INVALID_INPUT)', async () => {
    const dispatch = createDispatch(echoHandlers());
    const env = await dispatch('registry.tags', { repository: '' }, { transport: 'http' });
    expect(env.ok).toBe(false);
    if (env.ok) return;
    expect(env.error.code).toBe('INVALID_INPUT');
    expect(env.error.message).toMatch(/^Invalid input for registry\.tags: repository: /);
    const extra = await dispatch('app.info', { surprise: 1 }, { transport: 'http' });
    expect(extra).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('refuses methods the contract does not list, including Object.prototype names', async () => {
    const dispatch = createDispatch(echoHandlers());
    for (const name of ['nope', 'toString', '__proto__', 'constructor']) {
      expect(await dispatch(name, {}, { transport: 'ipc' })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    }
  });

  it('turns thrown errors into envelopes: BerthError keeps its code, others become INTERNAL and are logged', async () => {
    const logged: string[] = [];
    const handlers = {
      ...echoHandlers(),
      'jobs.get': async () => {
        throw new BerthError('NOT_FOUND', 'No job with id x', { id: 'x' });
      },
      'jobs.list': async () => {
        throw new Error('disk on fire');
      },
    } as BerthHandlers;
    const dispatch = createDispatch(handlers, (l) => logged.push(l));
    expect(await dispatch('jobs.get', { id: 'x' }, { transport: 'http' })).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'No job with id x', detail: { id: 'x' } } });
    expect(await dispatch('jobs.list', {}, { transport: 'http' })).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'disk on fire' } });
    expect(logged).toEqual(['[http] jobs.list failed: disk on fire']);
  });
});
