/**
 * Error codes that cross the contract. One envelope carries them from the backend to the UI, so a
 * message shown to a person always has a code the UI can act on (e.g. ENGINE_UNAVAILABLE → banner).
 */
export const errorCodes = [
  'INVALID_INPUT', // the input failed the contract's schema, or a value (tag, reference) is malformed
  'UNKNOWN_METHOD',
  'NOT_FOUND',
  'CONFLICT', // e.g. an image is used by a container, a name is taken
  'ENGINE_UNAVAILABLE', // no Docker engine answered
  'ENGINE_ERROR', // the engine answered with an error
  'REGISTRY_ERROR',
  'ARCHIVE_INVALID',
  'CANCELLED',
  'UNAUTHORIZED',
  'PORT_IN_USE',
  'LOCKED', // another process holds the data directory
  'INTERNAL',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** The serialisable form of an error: what travels in the envelope. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** Extra, machine-readable facts (e.g. the containers that use an image). */
  detail?: unknown;
}

export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly detail?: unknown;
  constructor(code: ErrorCode, message: string, detail?: unknown) {
    super(message);
    this.name = 'BerthError';
    this.code = code;
    this.detail = detail;
  }
  toInfo(): ErrorInfo {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
  static from(info: ErrorInfo): BerthError {
    return new BerthError(info.code, info.message, info.detail);
  }
}

/** Turns anything thrown into an ErrorInfo; unknown errors become INTERNAL with their message. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof BerthError) return err.toInfo();
  if (err && typeof err === 'object' && 'name' in err && (err as Error).name === 'AbortError') {
    return { code: 'CANCELLED', message: 'Cancelled' };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message };
}
