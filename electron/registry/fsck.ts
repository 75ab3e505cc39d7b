/**
 * fsck: re-hash every blob file, then check the index against the files — every manifest's own blob,
 * its config and layers, its child manifests, every tag and every link. With `repair`, corrupt and stray
 * files are removed and index entries that point at nothing are dropped (one journal record each), and
 * the report says what was done. What cannot be repaired (a manifest whose layer is corrupt: the bytes
 * are gone) is reported so the user can push the image again. A copy of an index journal that was found
 * damaged (store.ts keeps one) is reported too, with the records lost, until the user deletes it.
 */
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Journal, listLines } from './journal';
import type { FsckProblem, FsckReport } from '../../shared/api/registry';
import { isIndexRecord } from './repository-index';
import type { RegistryStore } from './store';

export interface FsckOptions {
  repair?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: { blobs: number; bytes: number }) => void;
}

export async function checkStore(store: RegistryStore, opts: FsckOptions = {}): Promise<FsckReport> {
  const started = Date.now();
  const repair = opts.repair ?? false;
  const problems: FsckProblem[] = [];
  let blobsChecked = 0;
  let bytesChecked = 0;
  const bad = new Set<string>();

  // 1. Blob files: the name must be the content's digest.
  for await (const b of store.blobs.list()) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (b.size < 0) {
      const problem: FsckProblem = { kind: 'stray-file', digest: b.digest, message: `blobs/${b.digest} is not named like a blob; it is not part of the registry.`, repaired: false };
      if (repair) {
        await rm(join(store.blobs.blobsDir, b.digest), { force: true, recursive: true });
        problem.repaired = true;
      }
      problems.push(problem);
      continue;
    }
    let actual: string;
    try {
      actual = await store.blobs.rehash(b.digest, opts.signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed by GC meanwhile
      problems.push({ kind: 'unreadable-blob', digest: b.digest, message: `Blob ${b.digest} could not be read: ${(err as Error).message}.`, repaired: false });
      bad.add(b.digest);
      continue;
    }
    blobsChecked++;
    bytesChecked += b.size;
    opts.onProgress?.({ blobs: blobsChecked, bytes: bytesChecked });
    if (actual !== b.digest) {
      const problem: FsckProblem = { kind: 'corrupt-blob', digest: b.digest, message: `Blob ${b.digest} is corrupt: its content hashes to ${actual}.`, repaired: false };
      bad.add(b.digest);
      if (repair) {
        // Remove it under the index lock so no manifest put validates against it in between.
        await store.lock.run(() => store.blobs.remove(b.digest));
        problem.repaired = true;
      }
      problems.push(problem);
    }
  }

  // 2. The index against the files.
  const exists = async (d: string) => !bad.has(d) && (await store.statBlob(d)) !== undefined;
  let manifestsChecked = 0;
  for (const name of [...store.index.names()]) {
    const r = store.index.get(name);
    if (!r) continue;
    for (const m of [...r.manifests.values()]) {
      manifestsChecked++;
      if (!(await exists(m.digest))) {
        const problem: FsckProblem = { kind: 'missing-manifest-blob', digest: m.digest, repository: name, message: `Manifest ${m.digest} of ${name} has no content on disk; it and its tags were ${repair ? 'removed' : 'left in place'}.`, repaired: false };
        if (repair) {
          await store.mutate(() => (store.index.get(name)?.manifests.has(m.digest) ? { op: 'delete-manifest', repo: name, digest: m.digest, at: Date.now() } : undefined));
          problem.repaired = true;
        }
        problems.push(problem);
        continue;
      }
      for (const d of m.blobs) {
        if (!(await exists(d))) {
          problems.push({ kind: 'missing-blob', digest: d, repository: name, message: `Manifest ${m.digest} of ${name} references blob ${d}, which is missing or corrupt: push the image again.`, repaired: false });
        }
      }
      for (const d of m.manifests) {
        if (!r.manifests.has(d)) {
          problems.push({ kind: 'missing-child', digest: d, repository: name, message: `Index ${m.digest} of ${name} references manifest ${d}, which is not in the repository: push it again.`, repaired: false });
        }
      }
    }
    for (const [tag, d] of [...r.tags]) {
      if (!r.manifests.has(d)) {
        const problem: FsckProblem = { kind: 'dangling-tag', digest: d, repository: name, message: `Tag ${name}:${tag} points at ${d}, which is not a manifest of the repository.`, repaired: false };
        if (repair) {
          await store.mutate(() => ({ op: 'untag', repo: name, tag, at: Date.now() }));
          problem.repaired = true;
        }
        problems.push(problem);
      }
    }
    for (const d of [...r.links.keys()]) {
      if (!(await exists(d))) {
        const problem: FsckProblem = { kind: 'dangling-link', digest: d, repository: name, message: `Repository ${name} links blob ${d}, which is missing or corrupt.`, repaired: false };
        if (repair) {
          await store.mutate(() => ({ op: 'unlink', repo: name, digest: d }));
          problem.repaired = true;
        }
        problems.push(problem);
      }
    }
  }
  // 3. Damage the index journal had when it was opened (the valid records were kept; these were not).
  for (const copy of await store.journal.damagedCopies()) {
    const { damagedLines } = await new Journal(copy, isIndexRecord).replay().catch(() => ({ damagedLines: [] as number[] }));
    const n = damagedLines.length;
    const lost = n ? `${n} record${n === 1 ? ' was' : 's were'} lost (line ${listLines(damagedLines)})` : 'records may have been lost';
    problems.push({
      kind: 'damaged-index',
      digest: basename(copy),
      message: `The index journal was found damaged: ${lost}; every other record was kept. A tag or manifest pushed then may be missing: push it again. The journal as found is kept at ${copy}; delete it once you have looked at it.`,
      repaired: false,
    });
  }
  return {
    blobsChecked,
    bytesChecked,
    manifestsChecked,
    problems,
    remaining: problems.filter((p) => !p.repaired).length,
    durationMs: Date.now() - started,
  };
}
