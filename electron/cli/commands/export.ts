/** `berth export IMAGE… -o FILE [--format oci|docker] [--engine] [--referrers] [--data DIR]` */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ArchiveExportResult } from '../../../shared/api/archive';
import { BerthError } from '../../../shared/errors';
import type { Command } from '../command';
import { jobExitCode, runArchiveJob } from './archive-job';

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export images from the registry (or the engine) to an archive',
  usage: `Usage: berth export IMAGE… --output FILE [--format oci|docker] [--referrers] [--engine] [--data DIR]

IMAGE is REPOSITORY:TAG, REPOSITORY@DIGEST or REPOSITORY (latest) in the embedded registry.
The archive is written to a temp file and renamed when complete.

Options:
  -o, --output FILE  the archive to write
  --format F         oci (default): OCI layout with index.json, every platform of a multi-arch image,
                     plus manifest.json so docker load reads it too; docker: manifest.json only, one
                     platform per image (this machine's)
  --referrers        include signatures, SBOMs and other referrers of the images (oci format)
  --engine           export from the local Docker engine instead (IMAGE is a reference or id). docker:
                     the engine's own docker save, as it writes it; oci: that docker save converted —
                     layers kept uncompressed as the engine gives them, with OCI media types (as
                     Docker 25+ writes), same image ID; needs twice the images' size free while it runs
  --data DIR         data directory (default: the desktop app's, or $BERTH_DATA_DIR)`,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        output: { type: 'string', short: 'o' },
        format: { type: 'string' },
        referrers: { type: 'boolean' },
        engine: { type: 'boolean' },
        data: { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length === 0) throw new BerthError('INVALID_INPUT', 'Name at least one image to export.');
    if (!values.output) throw new BerthError('INVALID_INPUT', 'Say where to write the archive with --output FILE.');
    const format = values.format ?? 'oci';
    if (format !== 'oci' && format !== 'docker') throw new BerthError('INVALID_INPUT', `--format is oci or docker, not "${format}".`);
    const path = resolve(values.output);
    const job = await runArchiveJob(io, { data: values.data, mode: 'berth export' }, (api) =>
      api['archive.export']({ from: values.engine ? 'engine' : 'registry', images: positionals, format, path, ...(values.referrers ? { referrers: true } : {}) }),
    );
    const exit = job ? jobExitCode(io, 'export', job) : 1;
    const result = job?.result as ArchiveExportResult | undefined;
    if (exit === 0 && result) io.out(`Wrote ${result.path} (${result.format}, ${result.size} bytes)`);
    return exit;
  },
};
