/** `berth import ARCHIVE --repo NAME [--tag T]… [--engine] [--gzip] [--data DIR]` */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ArchiveImportResult } from '../../../shared/api/archive';
import { BerthError } from '../../../shared/errors';
import type { Command } from '../command';
import { jobExitCode, runArchiveJob } from './archive-job';

export const importCommand: Command = {
  name: 'import',
  summary: 'Import a docker save / OCI archive into the registry (or the engine)',
  usage: `Usage: berth import ARCHIVE [--repo NAME] [--tag TAG]… [--gzip] [--engine] [--data DIR]

Reads a docker-archive (docker save, skopeo … docker-archive:), an OCI archive (skopeo/podman
oci-archive:, Docker 25+ docker save) or either gzip-compressed, checks every digest, and stores the
images in the embedded registry. Nothing is tagged until every image is whole; a failure or Ctrl-C
leaves nothing behind. Works whether or not Berth is running on the data directory.

Options:
  --repo NAME   repository to import into (default: the name the archive gives each image)
  --tag TAG     tag to set (repeatable; default: the archive's own tags, else latest)
  --gzip        gzip the layers of a docker save archive on the way in (smaller, slower); OCI archives
                keep their blobs as they are so their digests stay the original ones
  --engine      load into the local Docker engine instead (docker load)
  --preview     only list what the archive holds; import nothing
  --data DIR    data directory (default: the desktop app's, or $BERTH_DATA_DIR)`,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        repo: { type: 'string' },
        tag: { type: 'string', multiple: true },
        gzip: { type: 'boolean' },
        engine: { type: 'boolean' },
        preview: { type: 'boolean' },
        data: { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length !== 1) throw new BerthError('INVALID_INPUT', 'Name one archive file to import.');
    const path = resolve(positionals[0]);
    let exit = 0;
    const job = await runArchiveJob(io, { data: values.data, mode: 'berth import' }, async (api) => {
      if (values.preview) {
        const preview = await api['archive.preview']({ source: { path } });
        io.out(`${preview.format}${preview.compressed ? ' (gzip)' : ''}, ${preview.images.length} image(s)`);
        for (const img of preview.images) {
          io.out(`${img.tags.join(', ') || '(untagged)'}  ${img.digest ?? ''}${img.digestPreserved ? '' : ' (built by Berth)'}`);
          for (const p of img.platforms) io.out(`  ${p.platform}  ${p.layers.length} layers, ${p.size} bytes${p.created ? `, created ${p.created}` : ''}`);
        }
        return undefined;
      }
      return api['archive.import']({
        source: { path },
        target: values.engine ? 'engine' : 'registry',
        ...(values.repo ? { repository: values.repo } : {}),
        ...(values.tag?.length ? { tags: values.tag } : {}),
        ...(values.gzip ? { compress: true } : {}),
      });
    });
    if (!job) return exit;
    exit = jobExitCode(io, 'import', job);
    const result = job.result as ArchiveImportResult | undefined;
    if (exit === 0 && result) {
      for (const img of result.images) io.out(`${img.repository}:${img.tags.join(',')}  ${img.digest}`);
      for (const name of result.loaded ?? []) io.out(`Loaded ${name}`);
    }
    return exit;
  },
};
