/**
 * The contract's `registry.*` methods: thin translations to RegistryService and its store. GC and fsck
 * run as jobs so the UI shows their progress and can cancel them.
 */
import type { BerthHandlers, MethodName } from '../../shared/api';
import type { TagSummary } from '../../shared/api/registry';
import type { Services } from '../app/backend';
import { DEFAULT_GRACE_MS } from './gc';

type Names = Extract<MethodName, `registry.${string}`>;

export function registryHandlers(s: Services): Pick<BerthHandlers, Names> {
  const registry = s.registry;
  const store = registry.store;
  return {
    'registry.status': async () => registry.status(),
    'registry.start': async () => {
      await registry.start();
      return registry.status();
    },
    'registry.stop': async () => {
      await registry.stop();
      return registry.status();
    },
    'registry.repositories': async () => store.repositoryUsage(),
    'registry.tags': async ({ repository }) => {
      const tags = await store.tags(repository);
      const out: TagSummary[] = [];
      for (const tag of tags) {
        const digest = await store.tagDigest(repository, tag);
        if (!digest) continue;
        const d = await store.describe(repository, digest);
        if (!d) continue;
        out.push({ tag, digest, mediaType: d.mediaType, size: d.size, platforms: d.platforms, updatedAt: d.createdAt });
      }
      return out;
    },
    'registry.manifest': async ({ repository, reference }) => {
      const m = await store.getManifest(repository, reference);
      return { digest: m.digest, mediaType: m.mediaType, size: m.size, manifest: JSON.parse(m.bytes.toString('utf8')) as unknown };
    },
    'registry.config': async ({ repository, digest }) => store.readJsonBlob(repository, digest),
    'registry.deleteTag': async ({ repository, tag }) => store.deleteTag(repository, tag),
    'registry.deleteRepository': async ({ repository }) => store.deleteRepository(repository),
    'registry.usage': async () => store.usage(),
    'registry.gc': async ({ graceSeconds, dryRun }) =>
      s.jobs.start('gc', dryRun ? 'Garbage collection (dry run)' : 'Garbage collection', async (ctx) => {
        const phases = { referrers: 'Dropping orphaned referrers', uploads: 'Expiring abandoned uploads', mark: 'Finding unreferenced blobs', sweep: 'Removing unreferenced blobs' };
        const report = await store.gc({
          graceMs: graceSeconds === undefined ? DEFAULT_GRACE_MS : graceSeconds * 1000,
          dryRun,
          signal: ctx.signal,
          onProgress: (p) => {
            ctx.message(phases[p.phase]);
            if (p.phase === 'sweep' && p.total !== undefined) {
              ctx.setTotal(p.total);
              ctx.setDone(p.done);
            }
          },
        });
        ctx.message(`${dryRun ? 'Would free' : 'Freed'} ${report.bytesFreed} bytes in ${report.blobsRemoved} blobs`);
        return report;
      }),
    'registry.fsck': async ({ repair }) =>
      s.jobs.start('fsck', repair ? 'Check and repair the registry' : 'Check the registry', async (ctx) => {
        const usage = await store.usage();
        ctx.setTotal(usage.totalBytes);
        const report = await store.fsck({ repair, signal: ctx.signal, onProgress: (p) => ctx.setDone(p.bytes) });
        ctx.message(report.problems.length === 0 ? 'No problems found' : `${report.problems.length} problem(s), ${report.remaining} remaining`);
        return report;
      }),
  };
}
