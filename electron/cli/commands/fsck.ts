/** `berth fsck [--data DIR] [--repair]` */
import { parseArgs } from 'node:util';
import type { FsckReport } from '../../../shared/api/registry';
import { BerthError } from '../../../shared/errors';
import type { Command } from '../command';
import { jobExitCode, runArchiveJob } from './archive-job';
import { formatBytes } from '../../../shared/format';

export const fsckCommand: Command = {
  name: 'fsck',
  summary: "Verify every blob's digest and every manifest's references",
  usage: `Usage: berth fsck [--repair] [--data DIR]

Re-reads every blob of the embedded registry and checks that its content matches its digest, that
every manifest's config, layers and child manifests are present, and that tags and links point at
something. Exits 0 when all is well, 1 when problems remain.

Options:
  --repair    remove corrupt or stray blob files and index entries that point at nothing, and say what
              was done (an image whose layer was corrupt must then be pushed again)
  --data DIR  data directory (default: the desktop app's, or $BERTH_DATA_DIR)`,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { repair: { type: 'boolean' }, data: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new BerthError('INVALID_INPUT', `berth fsck takes no arguments (got "${positionals[0]}").`);
    const repair = values.repair ?? false;
    const job = await runArchiveJob(io, { data: values.data, mode: 'berth fsck' }, (api) => api['registry.fsck'](repair ? { repair } : {}));
    if (!job) return 1;
    const exit = jobExitCode(io, 'fsck', job);
    const r = job.result as FsckReport | undefined;
    if (exit !== 0 || !r) return exit;
    for (const p of r.problems) io.out(`${p.repaired ? 'repaired' : 'PROBLEM '}  ${p.kind.padEnd(21)} ${p.message}`);
    io.out(`Checked ${r.blobsChecked} blob(s) (${formatBytes(r.bytesChecked)}) and ${r.manifestsChecked} manifest(s) in ${(r.durationMs / 1000).toFixed(1)} s.`);
    if (r.problems.length === 0) io.out('No problems found.');
    else io.out(`${r.problems.length} problem(s) found, ${r.problems.length - r.remaining} repaired, ${r.remaining} remaining.${r.remaining && !repair ? ' Run "berth fsck --repair" to fix what can be fixed.' : ''}`);
    return r.remaining > 0 ? 1 : 0;
  },
};
