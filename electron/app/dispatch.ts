/**
 * The contract's one entry point on the backend: both transports (IPC and the HTTP bridge) call
 * `dispatch(method, rawInput)` and send back the envelope it returns. Validation happens here, at the
 * boundary, from the schema the contract declares — no per-method code in any transport.
 */
import { api, isMethodName, type BerthHandlers, type CallContext, type Envelope } from '../../shared/api';
import { BerthError, toErrorInfo } from '../../shared/errors';

export type Dispatch = (method: string, input: unknown, ctx: CallContext) => Promise<Envelope>;

export function createDispatch(handlers: BerthHandlers, log: (line: string) => void = () => {}): Dispatch {
  return async (method, input, ctx) => {
    try {
      if (!isMethodName(method)) throw new BerthError('UNKNOWN_METHOD', `Unknown method "${method}"`);
      const parsed = api[method].input.safeParse(input ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
        throw new BerthError('INVALID_INPUT', `Invalid input for ${method}: ${issues.join('; ')}`, { issues });
      }
      const handler = handlers[method] as (input: unknown, ctx: CallContext) => Promise<unknown>;
      const result = await handler(parsed.data, ctx);
      return { ok: true, result: result ?? null };
    } catch (err) {
      const error = toErrorInfo(err);
      // Never log inputs: they may carry secrets.
      if (error.code === 'INTERNAL') log(`[${ctx.transport}] ${method} failed: ${error.message}`);
      return { ok: false, error };
    }
  };
}
