/**
 * The machinery of the one API contract. An area (engine, registry, …) declares its methods with
 * `method(inputSchema).returns<Result>()`; `shared/api.ts` merges the areas. Everything else — the IPC
 * handlers, the preload object, the HTTP bridge, the renderer client — is derived from that list.
 */
import type { z } from 'zod';
import type { ErrorInfo } from './errors';

export interface MethodSpec<I extends z.ZodType = z.ZodType, O = unknown> {
  readonly input: I;
  /** Phantom: carries the result type only; never set at run time. */
  readonly result?: O;
}

export function method<I extends z.ZodType>(input: I) {
  return {
    returns<O>(): MethodSpec<I, O> {
      return { input };
    },
  };
}

export type Contract = Record<string, MethodSpec>;
export type InputOf<S> = S extends MethodSpec<infer I, unknown> ? z.input<I> : never;
export type ParsedInputOf<S> = S extends MethodSpec<infer I, unknown> ? z.output<I> : never;
export type ResultOf<S> = S extends MethodSpec<z.ZodType, infer O> ? O : never;

/** One envelope for every result and every error, on every transport. */
export type Envelope<T = unknown> = { ok: true; result: T } | { ok: false; error: ErrorInfo };

/** What the UI calls: one async function per method. */
export type ClientOf<C extends Contract> = {
  [M in keyof C]: (input: InputOf<C[M]>) => Promise<ResultOf<C[M]>>;
};

/** What the backend implements: one async function per method, given the validated input. */
export type HandlersOf<C extends Contract> = {
  [M in keyof C]: (input: ParsedInputOf<C[M]>, ctx: CallContext) => Promise<ResultOf<C[M]>>;
};

export interface CallContext {
  /** Which transport the call came through; for logs only. */
  transport: 'ipc' | 'http' | 'direct';
}
