/**
 * Prepared exports: image archives Berth writes into its own cache (`<data>/exports/`) so they can leave
 * the app as a file — dragged out of the Electron window (webContents.startDrag needs a file that exists
 * when the drag starts) or downloaded from `berth serve` (GET /api/exports/<id>).
 *
 * Layout: `exports/<id>/<name>`, the id 32 random hex digits, the name what the user's desktop will show
 * (`team-app_v1.tar`). One folder per id keeps names clean and unique at once: two exports of the same tag
 * never collide and neither gets a `-2` suffix. The archive is written by the export code the `archive.export`
 * job uses (a temp file `.<name>.*.tmp` beside the target, fsync, rename), so a folder holds either nothing
 * visible yet or the whole archive; `resolvePreparedExport` never offers a temp file.
 *
 * Callers name an export by id only; an id is checked against its grammar before it touches a path, and the
 * cache folder is 0700 and written only by Berth, so nothing outside it can be reached through an id. The
 * cache is emptied when a backend starts (ids of an earlier run mean nothing to the UI), an export is
 * dropped an hour after it was last used, and the whole cache is kept under a size bound, oldest first.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { PreparedExport, PrepareExportRequest } from '../../shared/api/archive';
import { BerthError } from '../../shared/errors';
import type { JobSnapshot } from '../../shared/jobs';
import { parseReference } from '../../shared/reference';
import type { JobContext, JobManager } from '../transfers/jobs';
import type { ExportRequest } from './service';

export const exportsDirName = 'exports';
const idPattern = /^[0-9a-f]{32}$/;

export const exportsDir = (dataDir: string): string => join(dataDir, exportsDirName);
export const isExportId = (id: unknown): id is string => typeof id === 'string' && idPattern.test(id);
export const newExportId = (): string => randomBytes(16).toString('hex');

/** Only these characters reach a file name: safe on every desktop filesystem and in a Content-Disposition header. */
const sanitize = (text: string): string =>
  text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');

/** One image as a file-name stem: 'team/app:v1' → 'team-app_v1'; a digest or an engine image id keeps 12 hex digits. */
function stem(image: string): string {
  const hex = /^(?:sha256:)?([0-9a-f]{12,64})$/.exec(image);
  if (hex) return `image_${hex[1].slice(0, 12)}`;
  const ref = parseReference(image);
  if (!ref.ok) return sanitize(image) || 'image';
  const { name, tag, digest } = ref.value;
  // Docker's rule: a first component with a dot, a port or 'localhost' is a registry host, not part of the name.
  const [first, ...rest] = name.split('/');
  const path = rest.length > 0 && (/[.:]/.test(first) || first === 'localhost') ? rest.join('/') : name;
  const version = digest ? digest.replace(/^(\w+):(\w{12})\w*$/, '$1-$2') : tag;
  return [sanitize(path.replace(/\//g, '-')), version && sanitize(version)].filter(Boolean).join('_') || 'image';
}

/** The name an export gets on the user's desktop: `<repo>_<tag>.tar`, sanitised; several images say how many more. */
export function exportFileName(images: string[]): string {
  const first = stem(images[0] ?? 'image').slice(0, 100);
  return `${first}${images.length > 1 ? `_and_${images.length - 1}_more` : ''}.tar`;
}

export interface ResolvedExport {
  path: string;
  name: string;
  size: number;
  /** ms since epoch of the last use (or the moment it was written). */
  usedAt: number;
}

/**
 * The archive behind an export id, or a BerthError: INVALID_INPUT for anything that is not an id (a path,
 * `../`, an empty string), NOT_FOUND for an id with no finished archive. Synchronous: Electron's startDrag
 * must be called while the drag is starting. `touch` marks it used, so the hour runs from its last use.
 */
export function resolvePreparedExport(dataDir: string, id: unknown, opts: { touch?: boolean } = {}): ResolvedExport {
  if (!isExportId(id)) throw new BerthError('INVALID_INPUT', 'Not an export id: prepared exports are named by the 32 hex digits Berth gave them.');
  const dir = join(exportsDir(dataDir), id);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    names = [];
  }
  for (const name of names) {
    if (name.startsWith('.')) continue; // an archive still being written
    const path = join(dir, name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st?.isFile()) continue; // never follow a link out of the cache
    if (opts.touch) {
      const now = new Date();
      utimesSync(path, now, now);
      return { path, name, size: st.size, usedAt: now.getTime() };
    }
    return { path, name, size: st.size, usedAt: st.mtimeMs };
  }
  throw new BerthError('NOT_FOUND', 'That export is no longer prepared (exports are kept for an hour after their last use). Prepare it again.');
}

/** What the cache needs from the archive service: the work of an export job, written to a given path. */
export interface ExportWriter {
  writeExport(req: ExportRequest, ctx: JobContext): Promise<{ size: number; format: 'oci' | 'docker' }>;
}

export interface ExportCacheOptions {
  dataDir: string;
  archive: ExportWriter;
  jobs: Pick<JobManager, 'start'>;
  log?: (line: string) => void;
  /** Drop an export this long after its last use (default 1 h). */
  maxAgeMs?: number;
  /** Keep the cache under this many bytes, dropping the least recently used first (default 20 GiB). */
  maxTotalBytes?: number;
  /** How often to look for old exports (default 5 min). */
  sweepEveryMs?: number;
}

export class ExportCache {
  readonly dir: string;
  /** Exports being written: a sweep leaves their folders alone. */
  private readonly writing = new Set<string>();
  private timer?: NodeJS.Timeout;
  private readonly maxAgeMs: number;
  private readonly maxTotalBytes: number;

  constructor(private readonly options: ExportCacheOptions) {
    this.dir = exportsDir(options.dataDir);
    this.maxAgeMs = options.maxAgeMs ?? 3600_000;
    this.maxTotalBytes = options.maxTotalBytes ?? 20 * 1024 ** 3;
  }

  /** Empties the cache (what an earlier run prepared is unknown to this one's UI) and starts the periodic sweep. */
  start(): void {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.timer = setInterval(() => this.sweep(), this.options.sweepEveryMs ?? 300_000);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Starts a job that writes the export into the cache; its result is a PreparedExport. */
  prepare(req: PrepareExportRequest): JobSnapshot {
    const id = newExportId();
    const name = exportFileName(req.images);
    const folder = join(this.dir, id);
    const title = `Prepare ${req.images.join(', ')} from the ${req.from} to drag out or download`;
    return this.options.jobs.start('export', title, async (ctx): Promise<PreparedExport> => {
      this.writing.add(id); // before its folder exists, so a sweep never takes the folder for a crash's leftover
      try {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        mkdirSync(folder, { mode: 0o700 });
        const written = await this.options.archive.writeExport({ ...req, path: join(folder, name) }, ctx);
        ctx.message(`${name} is ready to drag out or download`);
        return { id, name, size: written.size, format: written.format, images: req.images };
      } catch (err) {
        rmSync(folder, { recursive: true, force: true });
        throw err;
      } finally {
        this.writing.delete(id);
        this.sweep(id);
      }
    });
  }

  /** The finished archives, least recently used first. */
  list(): Array<ResolvedExport & { id: string }> {
    let ids: string[];
    try {
      ids = readdirSync(this.dir);
    } catch {
      return [];
    }
    const found: Array<ResolvedExport & { id: string }> = [];
    for (const id of ids) {
      if (!isExportId(id) || this.writing.has(id)) continue;
      try {
        found.push({ id, ...resolvePreparedExport(this.options.dataDir, id) });
      } catch {
        // an empty folder left by a crash: the age rule below cannot see it, so remove it now
        this.remove(id);
      }
    }
    return found.sort((a, b) => a.usedAt - b.usedAt);
  }

  /**
   * Removes exports unused for longer than the age limit, then the least recently used until the cache fits
   * its size bound. `keep` (the export just finished) stays even when it alone exceeds the bound: otherwise
   * an image bigger than the bound could never be dragged out.
   */
  sweep(keep?: string, now = Date.now()): void {
    const ready = this.list();
    let total = ready.reduce((n, e) => n + e.size, 0);
    for (const e of ready) {
      if (e.id === keep) continue;
      if (now - e.usedAt > this.maxAgeMs || total > this.maxTotalBytes) {
        this.remove(e.id);
        total -= e.size;
      }
    }
  }

  private remove(id: string): void {
    try {
      rmSync(join(this.dir, id), { recursive: true, force: true });
    } catch (err) {
      // e.g. Windows refuses while a download still reads it; the next sweep tries again
      this.options.log?.(`exports: could not remove ${id} yet: ${String(err)}`);
    }
  }
}
