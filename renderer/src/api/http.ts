/**
 * The HTTP bridge transport for `berth serve` (wire protocol in shared/bridge.ts). The per-run token
 * arrives in the URL fragment (#token=…), which the browser never sends to a server; it is kept in
 * sessionStorage (this tab only) and removed from the address bar so it is not bookmarked or shared.
 */
import { apiPrefix, tokenParam } from '../../../shared/bridge';
import type { Envelope } from '../../../shared/contract';
import type { MethodName } from '../../../shared/api';
import type { BerthEvent } from '../../../shared/events';
import type { ExportOut, FileSource, Transport, UploadProgress } from './transport';

const storageKey = 'berth.token';

/** Reads the token from `#token=…` (then removes it from the URL) or from sessionStorage. */
export function takeToken(loc: Location = window.location, storage: Storage = window.sessionStorage): string {
  const params = new URLSearchParams(loc.hash.replace(/^#/, ''));
  const fromHash = params.get(tokenParam);
  if (fromHash) {
    storage.setItem(storageKey, fromHash);
    params.delete(tokenParam);
    const rest = params.toString();
    window.history.replaceState(null, '', `${loc.pathname}${loc.search}${rest ? `#${rest}` : ''}`);
    return fromHash;
  }
  return storage.getItem(storageKey) ?? '';
}

const unreachable = (err: unknown): Envelope => ({
  ok: false,
  error: {
    code: 'INTERNAL',
    message: `The Berth backend did not answer (${err instanceof Error ? err.message : String(err)}). Is \`berth serve\` still running?`,
  },
});

/**
 * A prepared export's download URL, absolute (a DownloadURL drag needs one). No token in it: the export's
 * id is the credential (bridge.ts), and the URL ends up in the browser's download history.
 */
const exportDownload = (base: string): ExportOut => ({
  kind: 'download',
  url: (exportId) => new URL(`${base}${apiPrefix}/exports/${encodeURIComponent(exportId)}`, window.location.href).href,
});

export function httpTransport(token: string, base = ''): Transport {
  return {
    kind: 'http',
    exportOut: exportDownload(base),
    async call(method: MethodName, input: unknown): Promise<Envelope> {
      let res: Response;
      try {
        res = await fetch(`${base}${apiPrefix}/call/${encodeURIComponent(method)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(input ?? {}),
        });
      } catch (err) {
        return unreachable(err);
      }
      try {
        return (await res.json()) as Envelope;
      } catch {
        return { ok: false, error: { code: 'INTERNAL', message: `The backend answered ${res.status} ${res.statusText} without an envelope` } };
      }
    },

    subscribe(listener, onOpen, onLost) {
      // EventSource cannot set headers, hence the token in the query (shared/bridge.ts). It reconnects by itself.
      const source = new EventSource(`${base}${apiPrefix}/events?${tokenParam}=${encodeURIComponent(token)}`);
      source.onopen = () => onOpen?.();
      source.onerror = () => onLost?.();
      source.onmessage = (msg: MessageEvent<string>) => {
        try {
          listener(JSON.parse(msg.data) as BerthEvent);
        } catch {
          // A malformed event is dropped; the next re-read corrects the view.
        }
      };
      return () => source.close();
    },

    sendFile(file: File, onProgress: (p: UploadProgress) => void, signal: AbortSignal): Promise<FileSource> {
      // XMLHttpRequest, not fetch: only XHR reports upload progress. The body is the File itself, so the
      // browser streams it from disk; nothing is read into memory here.
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('PUT', `${base}${apiPrefix}/uploads?name=${encodeURIComponent(file.name)}`);
        xhr.setRequestHeader('authorization', `Bearer ${token}`);
        xhr.setRequestHeader('content-type', 'application/octet-stream');
        xhr.responseType = 'json';
        xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
        xhr.onload = () => {
          const env = xhr.response as Envelope<{ uploadId: string; size: number }> | null;
          if (env && env.ok) resolve({ uploadId: env.result.uploadId });
          else reject(env && !env.ok ? env.error : { code: 'INTERNAL', message: `Upload failed: HTTP ${xhr.status}` });
        };
        xhr.onerror = () => reject({ code: 'INTERNAL', message: 'Upload failed: the backend closed the connection' });
        xhr.onabort = () => reject({ code: 'CANCELLED', message: 'Upload cancelled' });
        signal.addEventListener('abort', () => xhr.abort(), { once: true });
        xhr.send(file);
      });
    },
  };
}
