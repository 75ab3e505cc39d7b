/**
 * Garbage collection, online: pushes and pulls go on while it runs.
 *
 *  1. Referrers whose subject is gone from their repository (and that no tag keeps) are dropped, once
 *     they are older than the grace period (a referrer may legally be pushed before its subject).
 *  2. Abandoned upload sessions expire.
 *  3. Mark: every digest a manifest references (in memory, from the index). Sweep candidates: blob files
 *     not marked and older than the grace period, and not touched (uploaded, linked, HEADed) within it.
 *  4. Delete, in small batches under the index lock, so a manifest put cannot interleave: each candidate
 *     is re-checked against the live index and against touches since GC started; one journal record
 *     drops every link to the batch, and only once it is durable are the files removed (still under the
 *     lock). A push that races GC either finds its blob (kept) or gets MANIFEST_BLOB_UNKNOWN for a blob
 *     that was already gone — never a manifest pointing at nothing.
 *
 * Why the record goes first: the index must never name a blob that is gone. Record first, a crash
 * between the two steps leaves blob files that nothing links or references — ordinary garbage, older
 * than any grace period, which the next GC sweeps; nothing is lost and nothing dangles. Files first, a
 * crash (or a failed journal append: disk full) would leave links to deleted blobs that only
 * `fsck --repair` cleans up, and until then a mount from that repository would be offered a blob that
 * is not there.
 *
 * Pushes in flight keep their blobs whatever the grace period: a repository with an upload request
 * running or a blob HEAD/upload within `inFlightMs` keeps its linked blobs, a push that writes before it
 * links (an archive import: RegistryStore.startPush) keeps the blobs it holds, and while a push is
 * running, blobs written or touched within `inFlightMs` are kept too (see inFlight below).
 */
import type { GcReport } from '../../shared/api/registry';
import type { RegistryStore } from './store';
import { DEFAULT_UPLOAD_EXPIRY_MS } from './uploads';

export interface GcOptions {
  /** Unreferenced blobs younger than this are kept (default 1 h). */
  graceMs?: number;
  /** Report what would be freed; delete nothing. */
  dryRun?: boolean;
  /** Upload sessions idle for longer are removed (default 24 h, never less than the grace period). */
  uploadExpiryMs?: number;
  /**
   * A repository where a client uploaded, mounted or HEADed a blob this recently (or is uploading now)
   * has a push in flight: its linked blobs are kept whatever the grace period (default 10 min).
   */
  inFlightMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: { phase: 'referrers' | 'uploads' | 'mark' | 'sweep'; done: number; total?: number }) => void;
}

export const DEFAULT_GRACE_MS = 60 * 60 * 1000;
export const DEFAULT_IN_FLIGHT_MS = 10 * 60 * 1000;

/**
 * What pushes in flight may still need (see GcOptions.inFlightMs), as a test of a blob: blobs they hold,
 * blobs linked to a repository with a push in flight, and — while a push is running (an upload request,
 * an import) — blobs written or touched within the window. That last rule covers the moment between a
 * blob's rename into place and the link or hold that follows it (an upload's commit then its link, an
 * import's write then its hold: a few awaits), when nothing names the blob yet. (A manifest's own bytes
 * are covered by putManifest, which writes them again under the lock if they went meanwhile.)
 */
function inFlight(store: RegistryStore, windowMs: number): (digest: string, mtimeMs: number) => boolean {
  const since = Date.now() - windowMs;
  const kept = new Set<string>(store.heldBlobs.keys());
  const running = store.heldBlobs.size > 0 || store.pushesRunning.size > 0;
  for (const r of store.index.repos.values()) {
    const busy = (store.pushesRunning.get(r.name) ?? 0) > 0 || (store.pushActivity.get(r.name) ?? 0) > since;
    if (busy) for (const d of r.links.keys()) kept.add(d);
  }
  return (digest, mtimeMs) => kept.has(digest) || (running && (mtimeMs > since || (store.touched.get(digest) ?? 0) > since));
}
const BATCH = 128;

export async function collectGarbage(store: RegistryStore, opts: GcOptions = {}): Promise<GcReport> {
  const started = Date.now();
  const grace = opts.graceMs ?? DEFAULT_GRACE_MS;
  const cutoff = started - grace;
  const dryRun = opts.dryRun ?? false;
  const report: GcReport = { blobsRemoved: 0, bytesFreed: 0, manifestsRemoved: 0, uploadsExpired: 0, keptYoung: 0, durationMs: 0 };
  if (dryRun) report.dryRun = true;
  const aborted = () => {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
  };

  // 1. Orphaned referrers. Dropping one may orphan its own referrers: repeat until nothing changes.
  opts.onProgress?.({ phase: 'referrers', done: 0 });
  const droppedInDryRun = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const repo of [...store.index.repos.values()]) {
      for (const m of [...repo.manifests.values()]) {
        if (!m.subject || m.createdAt > cutoff) continue;
        const key = `${repo.name}@${m.digest}`;
        if (droppedInDryRun.has(key)) continue;
        const subjectGone = !repo.manifests.has(m.subject) || droppedInDryRun.has(`${repo.name}@${m.subject}`);
        const tagged = [...repo.tags.values()].includes(m.digest);
        if (!subjectGone || tagged) continue;
        aborted();
        if (dryRun) droppedInDryRun.add(key);
        else {
          const rec = await store.mutate(() => {
            const live = store.index.get(repo.name);
            const lm = live?.manifests.get(m.digest);
            // Re-check under the lock: the subject may have been pushed meanwhile.
            if (!live || !lm?.subject || live.manifests.has(lm.subject) || [...live.tags.values()].includes(lm.digest)) return undefined;
            return { op: 'delete-manifest', repo: repo.name, digest: m.digest, at: Date.now() };
          });
          if (!rec) continue;
        }
        report.manifestsRemoved++;
        changed = true;
      }
    }
  }

  // 2. Abandoned uploads.
  opts.onProgress?.({ phase: 'uploads', done: 0 });
  if (!dryRun) {
    const expiry = Math.max(opts.uploadExpiryMs ?? DEFAULT_UPLOAD_EXPIRY_MS, grace);
    report.uploadsExpired = (await store.uploads.expire(expiry)).count;
  }

  // 3. Mark and pick candidates.
  opts.onProgress?.({ phase: 'mark', done: 0 });
  let marked = store.index.referenced();
  if (dryRun) {
    // Manifests the dry run would drop no longer protect what only they reference.
    marked = new Set<string>();
    for (const r of store.index.repos.values()) {
      for (const m of r.manifests.values()) {
        if (droppedInDryRun.has(`${r.name}@${m.digest}`)) continue;
        marked.add(m.digest);
        for (const b of m.blobs) marked.add(b);
      }
    }
  }
  const inFlightMs = opts.inFlightMs ?? DEFAULT_IN_FLIGHT_MS;
  store.pushWindowMs = Math.max(store.pushWindowMs, inFlightMs); // the store remembers pushes this long
  const pushing = inFlight(store, inFlightMs);
  const fresh = (digest: string, mtimeMs: number) => mtimeMs > cutoff || (store.touched.get(digest) ?? 0) > cutoff || pushing(digest, mtimeMs);
  const candidates: Array<{ digest: string; size: number }> = [];
  let seen = 0;
  for await (const b of store.blobs.list()) {
    aborted();
    seen++;
    if (b.size < 0 || marked.has(b.digest)) continue; // stray files are fsck's business
    if (fresh(b.digest, b.mtimeMs)) report.keptYoung++;
    else candidates.push({ digest: b.digest, size: b.size });
    if (seen % 1000 === 0) opts.onProgress?.({ phase: 'mark', done: seen });
  }

  // 4. Sweep.
  opts.onProgress?.({ phase: 'sweep', done: 0, total: candidates.length });
  if (dryRun) {
    report.blobsRemoved = candidates.length;
    report.bytesFreed = candidates.reduce((n, c) => n + c.size, 0);
  } else {
    for (let i = 0; i < candidates.length; i += BATCH) {
      aborted();
      const batch = candidates.slice(i, i + BATCH);
      const sizes = new Map<string, number>();
      await store.mutate(
        async () => {
          const live = store.index.referenced();
          const busy = inFlight(store, inFlightMs);
          for (const c of batch) {
            if (live.has(c.digest)) continue;
            const touchedAt = store.touched.get(c.digest) ?? 0;
            if (touchedAt > cutoff || touchedAt >= started) continue;
            const st = await store.statBlob(c.digest);
            if (!st || st.mtimeMs > cutoff || busy(c.digest, st.mtimeMs)) continue;
            sizes.set(c.digest, st.size);
          }
          return sizes.size ? { op: 'sweep', digests: [...sizes.keys()] } : undefined;
        },
        // The record is durable: now the files go (see the top of this file for why in this order).
        async () => {
          for (const [digest, size] of sizes) {
            // Held since the check above (an upload committing a copy it found already stored): the file
            // stays; the record only dropped what referenced it, and the upload's link re-adds that.
            if (store.heldBlobs.has(digest)) continue;
            await store.blobs.remove(digest);
            report.blobsRemoved++;
            report.bytesFreed += size;
          }
        },
      );
      opts.onProgress?.({ phase: 'sweep', done: Math.min(i + BATCH, candidates.length), total: candidates.length });
    }
    // Forget touches older than any grace period we would honour, so the map does not grow forever.
    for (const [d, t] of store.touched) if (t < cutoff && t < started - DEFAULT_GRACE_MS) store.touched.delete(d);
  }
  report.durationMs = Date.now() - started;
  return report;
}
