/**
 * Registry errors: one class that is both a BerthError (so the contract carries it to the UI with a code
 * and a message a person can act on) and an OCI error (so the HTTP API answers with the spec's status and
 * `{"errors":[{code,message,detail}]}` body). The store throws these; the HTTP layer and the contract
 * handlers only translate.
 */
import { BerthError, type ErrorCode } from '../../shared/errors';

export type OciErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'TAG_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'RANGE_INVALID'
  /** The reference registry's code for a bad `n` in tag list / catalog paging. */
  | 'PAGINATION_NUMBER_INVALID'
  | 'INTERNAL';

const defaults: Record<OciErrorCode, { status: number; berth: ErrorCode }> = {
  BLOB_UNKNOWN: { status: 404, berth: 'NOT_FOUND' },
  BLOB_UPLOAD_INVALID: { status: 400, berth: 'INVALID_INPUT' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, berth: 'NOT_FOUND' },
  DIGEST_INVALID: { status: 400, berth: 'INVALID_INPUT' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, berth: 'INVALID_INPUT' },
  MANIFEST_INVALID: { status: 400, berth: 'INVALID_INPUT' },
  MANIFEST_UNKNOWN: { status: 404, berth: 'NOT_FOUND' },
  NAME_INVALID: { status: 400, berth: 'INVALID_INPUT' },
  NAME_UNKNOWN: { status: 404, berth: 'NOT_FOUND' },
  SIZE_INVALID: { status: 400, berth: 'INVALID_INPUT' },
  TAG_INVALID: { status: 400, berth: 'INVALID_INPUT' },
  UNAUTHORIZED: { status: 401, berth: 'UNAUTHORIZED' },
  DENIED: { status: 403, berth: 'UNAUTHORIZED' },
  UNSUPPORTED: { status: 405, berth: 'INVALID_INPUT' },
  TOOMANYREQUESTS: { status: 429, berth: 'REGISTRY_ERROR' },
  RANGE_INVALID: { status: 416, berth: 'INVALID_INPUT' },
  PAGINATION_NUMBER_INVALID: { status: 400, berth: 'INVALID_INPUT' },
  INTERNAL: { status: 500, berth: 'INTERNAL' },
};

export class RegistryError extends BerthError {
  readonly oci: OciErrorCode;
  readonly status: number;
  constructor(oci: OciErrorCode, message: string, detail?: unknown, status?: number) {
    super(defaults[oci].berth, message, detail);
    this.name = 'RegistryError';
    this.oci = oci;
    this.status = status ?? defaults[oci].status;
  }
}

export const isRegistryError = (e: unknown): e is RegistryError => e instanceof RegistryError;

/** Disk full, quota, read-only filesystem: say so plainly instead of a bare errno. */
export function describeIoError(err: unknown, what: string): RegistryError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const why =
    code === 'ENOSPC' ? 'the disk is full' :
    code === 'EDQUOT' ? 'the disk quota is exhausted' :
    code === 'EROFS' ? 'the filesystem is read-only' :
    code === 'EACCES' || code === 'EPERM' ? 'permission was denied' :
    (err as Error)?.message ?? String(err);
  return new RegistryError('INTERNAL', `Could not ${what}: ${why}.`, code ? { errno: code } : undefined);
}

/**
 * A whole HTTP response carrying one OCI error, then the end of the connection: for errors found below
 * the request handler (a malformed request or body), where no ServerResponse exists to answer with.
 */
export function closingErrorResponse(status: string, code: OciErrorCode, message: string): string {
  const body = JSON.stringify({ errors: [{ code, message, detail: {} }] });
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
