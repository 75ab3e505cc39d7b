/** `berth gc [--data DIR] [--grace DURATION] [--dry-run]` */
import { parseArgs } from 'node:util';
import type { GcReport } from '../../../shared/api/registry';
import { BerthError } from '../../../shared/errors';
import { formatBytes } from '../../../shared/format';
import type { Command } from '../command';
import { jobExitCode, runArchiveJob } from './archive-job';

/** `90`, `90s`, `15m`, `1h`, `2d` → milliseconds; a bare number is seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new BerthError('INVALID_INPUT', `Cannot read "${text}" as a duration: use e.g. 0, 90s, 15m, 1h or 2d.`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

export const gcCommand: Command = {
  name: 'gc',
  summary: 'Free the space of blobs no manifest uses (online: pushes may go on)',
  usage: `Usage: berth gc [--grace DURATION] [--dry-run] [--data DIR]

Removes blobs of the embedded registry that no manifest references, referrers whose subject is gone,
and upload sessions abandoned for a day. Runs while the registry serves: a blob uploaded, linked or
checked by a client within the grace period is kept, so a push in progress never loses its layers.

Options:
  --grace DURATION  keep unreferenced blobs younger than this (default 1h; e.g. 0, 90s, 15m, 2d)
  --dry-run         report what would be freed; delete nothing
  --data DIR        data directory (default: the desktop app's, or $BERTH_DATA_DIR)`,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { grace: { type: 'string' }, 'dry-run': { type: 'boolean' }, data: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new BerthError('INVALID_INPUT', `berth gc takes no arguments (got "${positionals[0]}").`);
    const graceMs = values.grace === undefined ? undefined : parseDuration(values.grace);
    const dryRun = values['dry-run'] ?? false;
    const job = await runArchiveJob(io, { data: values.data, mode: 'berth gc' }, (api) =>
      api['registry.gc']({ ...(graceMs !== undefined ? { graceSeconds: Math.round(graceMs / 1000) } : {}), ...(dryRun ? { dryRun } : {}) }),
    );
    if (!job) return 1;
    const exit = jobExitCode(io, 'gc', job);
    const r = job.result as GcReport | undefined;
    if (exit === 0 && r) {
      const verb = dryRun ? 'Would remove' : 'Removed';
      io.out(`${verb} ${r.blobsRemoved} blob(s), ${dryRun ? 'freeing' : 'freed'} ${formatBytes(r.bytesFreed)} (${r.bytesFreed} bytes).`);
      if (r.manifestsRemoved) io.out(`${verb} ${r.manifestsRemoved} referrer manifest(s) whose subject is gone.`);
      if (r.uploadsExpired) io.out(`Expired ${r.uploadsExpired} abandoned upload session(s).`);
      if (r.keptYoung) io.out(`Kept ${r.keptYoung} unreferenced blob(s) younger than the grace period.`);
      io.out(`Took ${(r.durationMs / 1000).toFixed(1)} s.`);
    }
    return exit;
  },
};
