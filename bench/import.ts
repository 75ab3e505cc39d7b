/**
 * `npm run bench:import`: import a 1 GiB legacy `docker save` archive (4 layers of incompressible data)
 * into Berth's registry store, against `skopeo copy docker-archive:X docker://<reference registry>` in
 * the same run on the same disk. Prints times, throughput, the ratio, and Berth's peak RSS (the import
 * runs in a child process so its RSS is its own). Also the gzip path (`compress: true`).
 *
 * Options: --size-mib N (default 1024), --runs N (default 2; best of N), --keep (leave the temp dir).
 * Skopeo always gzips layers for a docker:// destination; the gzip path is the like-for-like comparison,
 * the uncompressed path is what Berth does by default.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { RegistryStore } from '../electron/registry/store';
import { importIntoRegistry } from '../electron/archive/registry-import';
import { writeDockerArchive } from '../tests/fixtures/archives';
import { startReferenceRegistry } from '../tests/support/reference-registry';

const { values } = parseArgs({
  options: {
    child: { type: 'boolean' },
    archive: { type: 'string' },
    data: { type: 'string' },
    gzip: { type: 'boolean' },
    'size-mib': { type: 'string' },
    runs: { type: 'string' },
    keep: { type: 'boolean' },
  },
});

const MiB = 1 << 20;
const fmt = (n: number, d = 1) => n.toFixed(d);

/** Child mode: one import, then one JSON line with the time and the process's peak RSS. */
async function child(): Promise<void> {
  const store = new RegistryStore({ root: join(values.data!, 'registry') });
  await store.open();
  const t0 = performance.now();
  const result = await importIntoRegistry(store, values.archive!, { repository: 'bench/app', tags: ['1'], compress: values.gzip === true });
  const ms = performance.now() - t0;
  await store.close();
  process.stdout.write(`${JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS, written: result.written, digest: result.images[0]?.digest })}\n`);
}

interface ChildResult {
  ms: number;
  maxRssKiB: number;
  written: number;
  digest: string;
}

function runChild(archive: string, data: string, gzip: boolean): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const self = fileURLToPath(import.meta.url);
    const args = ['--import', 'tsx', self, '--child', '--archive', archive, '--data', data, ...(gzip ? ['--gzip'] : [])];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult) : reject(new Error(`import child exited ${code}`))));
  });
}

function timeSkopeo(archive: string, dest: string): number {
  const t0 = performance.now();
  const r = spawnSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${dest}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`skopeo copy failed: ${r.stderr}`);
  return performance.now() - t0;
}

async function warm(file: string): Promise<void> {
  // Both tools read the archive from the page cache: measure the import, not the first read from disk.
  for await (const _ of createReadStream(file, { highWaterMark: 4 * MiB })) void _;
}

async function main(): Promise<void> {
  const sizeMiB = Number(values['size-mib'] ?? 1024);
  const runs = Number(values.runs ?? 2);
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-import-'));
  try {
    const archive = join(work, 'bench.tar');
    const layerBytes = Math.floor((sizeMiB * MiB) / 4);
    process.stderr.write(`Writing a ${sizeMiB} MiB docker-archive with 4 layers…\n`);
    await writeDockerArchive(archive, [
      {
        tags: ['bench/app:1'],
        layers: [0, 1, 2, 3].map((i) => [{ name: `data/layer${i}.bin`, size: layerBytes, seed: `bench-${i}` }]),
      },
    ]);
    const size = (await stat(archive)).size;
    await warm(archive);

    const best = (xs: number[]) => Math.min(...xs);
    const berth: ChildResult[] = [];
    const berthGzip: ChildResult[] = [];
    const skopeo: number[] = [];
    for (let i = 0; i < runs; i++) {
      process.stderr.write(`run ${i + 1}/${runs}: berth… `);
      berth.push(await runChild(archive, join(work, `berth-${i}`), false));
      await rm(join(work, `berth-${i}`), { recursive: true, force: true });
      process.stderr.write('berth --gzip… ');
      berthGzip.push(await runChild(archive, join(work, `berth-gz-${i}`), true));
      await rm(join(work, `berth-gz-${i}`), { recursive: true, force: true });
      process.stderr.write('skopeo…\n');
      // A fresh, empty reference registry per run: skopeo's blob-info cache must not let it skip the upload.
      const reference = await startReferenceRegistry({ dataDir: join(work, `reference-${i}`) });
      try {
        skopeo.push(timeSkopeo(archive, `${reference.hostPort}/bench/app`));
      } finally {
        await reference.stop();
        await rm(join(work, `reference-${i}`), { recursive: true, force: true });
      }
    }
    const b = best(berth.map((r) => r.ms));
    const bg = best(berthGzip.map((r) => r.ms));
    const s = best(skopeo);
    const rss = Math.max(...berth.map((r) => r.maxRssKiB), ...berthGzip.map((r) => r.maxRssKiB)) / 1024;
    const mibps = (ms: number) => size / MiB / (ms / 1000);
    console.log(`archive: ${fmt(size / MiB, 0)} MiB, 4 layers, uncompressed docker-archive (manifest.json last); best of ${runs}; load average ${fmt(loadavg()[0])} on ${cpus().length} cores`);
    console.log(`berth import (layers as they are): ${fmt(b / 1000, 2)} s  ${fmt(mibps(b), 0)} MiB/s  peak RSS ${fmt(Math.max(...berth.map((r) => r.maxRssKiB)) / 1024, 0)} MiB`);
    console.log(`berth import --gzip:               ${fmt(bg / 1000, 2)} s  ${fmt(mibps(bg), 0)} MiB/s  peak RSS ${fmt(Math.max(...berthGzip.map((r) => r.maxRssKiB)) / 1024, 0)} MiB`);
    console.log(`skopeo copy → reference registry:  ${fmt(s / 1000, 2)} s  ${fmt(mibps(s), 0)} MiB/s  (skopeo gzips layers for docker://)`);
    console.log(`ratio skopeo/berth: ${fmt(s / b, 2)}× uncompressed path (target ≥ 3×), ${fmt(s / bg, 2)}× gzip path`);
    console.log(`berth peak RSS: ${fmt(rss, 0)} MiB (target < 200 MB) ${rss * 1.048576 < 200 ? 'OK' : 'OVER'}; uncompressed ${s / b >= 3 ? 'OK' : 'BELOW TARGET'}`);
  } finally {
    if (!values.keep) await rm(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
}

if (values.child) await child();
else await main();
