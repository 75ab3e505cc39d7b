/** `berth import ARCHIVE [--repo NAME] [--tag T]… [--map IMAGE=REPO[:TAGS]]… [--engine] [--gzip] [--data DIR]` */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ArchiveImportResult } from '../../../shared/api/archive';
import { BerthError } from '../../../shared/errors';
import type { Command } from '../command';
import { jobExitCode, runArchiveJob } from './archive-job';
import { parseImageMap } from './import-map';

export const importCommand: Command = {
  name: 'import',
  summary: 'Import a docker save / OCI archive into the registry (or the engine)',
  usage: `Usage: berth import ARCHIVE [--repo NAME] [--tag TAG]… [--map IMAGE=REPO[:TAG,…]]… [--gzip] [--engine] [--data DIR]

Reads a docker-archive (docker save, skopeo … docker-archive:), an OCI archive (skopeo/podman
oci-archive:, Docker 25+ docker save) or either gzip-compressed, checks every digest, and stores the
images in the embedded registry. Nothing is tagged until every image is whole; a failure or Ctrl-C
leaves nothing behind. Works whether or not Berth is running on the data directory.

Options:
  --repo NAME   repository to import into (default: the name the archive gives each image); with
                several images, all go into NAME, each keeping its own tags
  --tag TAG     tag to set (repeatable; default: the archive's own tags, else latest)
  --map IMAGE=REPO[:TAG,…]
                one image of a multi-image archive to its own repository and tags (repeatable).
                IMAGE is #N (the N-th image that --preview lists), a name the archive gives it
                (alpine:3.20), its manifest digest or its image ID. Without tags it keeps its own.
                  berth import images.tar --map '#1=team/web:1.0' --map redis:7=team/cache
  --gzip        gzip the layers of a docker save archive on the way in (zlib level 1, parts that do
                not compress are stored; smaller, slower); OCI archives keep their blobs as they are
                so their digests stay the original ones
  --engine      load into the local Docker engine instead (docker load)
  --preview     only list what the archive holds; import nothing
  --data DIR    data directory (default: the desktop app's, or $BERTH_DATA_DIR)`,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        repo: { type: 'string' },
        tag: { type: 'string', multiple: true },
        map: { type: 'string', multiple: true },
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
    const overrides = (values.map ?? []).map(parseImageMap);
    if (overrides.length && values.engine) throw new BerthError('INVALID_INPUT', '--map chooses repositories in the registry; the engine keeps the names the archive gives (drop --engine or --map).');
    let exit = 0;
    const job = await runArchiveJob(io, { data: values.data, mode: 'berth import' }, async (api) => {
      if (values.preview) {
        const preview = await api['archive.preview']({ source: { path } });
        io.out(`${preview.format}${preview.compressed ? ' (gzip)' : ''}, ${preview.images.length} image(s)`);
        for (const [i, img] of preview.images.entries()) {
          io.out(`#${i + 1}  ${img.tags.join(', ') || '(untagged)'}  ${img.digest ?? ''}${img.digestPreserved ? '' : ' (built by Berth)'}`);
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
        ...(overrides.length ? { overrides } : {}),
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
