/**
 * `npm run bench:registry [-- --quick] [-- --only=berth|reference]`
 *
 * Starts Berth's registry (`berth registry`) and the reference registry (Debian's docker-registry, CNCF
 * distribution) on loopback, one after the other so they never compete for the two cores, drives both with
 * the same Node client (tests/support/registry-client.ts) and prints Berth/reference ratios:
 *   - a 1 GiB blob pushed monolithically (POST + one PUT carrying the body), and pulled back;
 *   - 32 concurrent pulls of 16 MiB blobs;
 *   - 500 small manifests pushed, then pulled;
 *   - GET /v2/_catalog (paged, n=1000) over 5,000 repositories;
 *   - Berth's peak RSS during the 1 GiB push (sampled from /proc).
 * Test data is random bytes written to a temp dir in 1 MiB chunks; nothing is held whole in memory.
 * Timed pulls count bytes only; every pulled blob is verified by digest in an untimed pass. Pulls are the
 * median of three runs; the push is timed once (a second push of the same digest is a different workload).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fileBody,
  getManifest,
  listCatalog,
  mountBlob,
  pullBlob,
  pushBlobMonolithic,
  putManifest,
  sha256,
  writeRandomFile,
} from '../tests/support/registry-client';
import { startRegistryTarget, targetUnavailable, type RegistryTarget, type RegistryTargetName } from '../tests/support/registry-target';
import { formatBytes, GiB, mapLimit, median, MiB, procStatusBytes, sampleRss, table, timed } from './lib/bench-kit';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length) as RegistryTargetName | undefined;

const plan = quick
  ? { bigBlob: 128 * MiB, pullers: 32, pullBlob: 2 * MiB, manifests: 100, repositories: 500, catalogRuns: 3 }
  : { bigBlob: 1 * GiB, pullers: 32, pullBlob: 16 * MiB, manifests: 500, repositories: 5000, catalogRuns: 3 };

interface Data {
  big: { file: string; digest: string };
  small: Array<{ file: string; digest: string }>;
  config: Buffer;
  layer: Buffer;
}

interface Result {
  pushMiBs: number;
  pullMiBs: number;
  concurrentMiBs: number;
  manifestPushPerS: number;
  manifestPullPerS: number;
  catalogMs: number;
  peakRss: number;
  /** VmHWM after the whole run: the process's high-water mark including start-up. */
  hwm?: number;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function makeData(dir: string): Promise<Data> {
  log(`generating ${formatBytes(plan.bigBlob)} + ${plan.pullers} × ${formatBytes(plan.pullBlob)} of random data in ${dir}`);
  const big = { file: join(dir, 'big.bin'), digest: '' };
  big.digest = await writeRandomFile(big.file, plan.bigBlob);
  const small = await mapLimit(
    Array.from({ length: plan.pullers }, (_, i) => join(dir, `small-${i}.bin`)),
    4,
    async (file) => ({ file, digest: await writeRandomFile(file, plan.pullBlob) }),
  );
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = Buffer.from('berth bench layer\n');
  return { big, small, config, layer };
}

function manifestFor(data: Data, i: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(data.config), size: data.config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(data.layer), size: data.layer.length }],
      annotations: { 'org.opencontainers.image.title': `bench-${i}` },
    }),
  );
}

const ociManifest = 'application/vnd.oci.image.manifest.v1+json';
const mibPerS = (bytes: number, seconds: number) => bytes / MiB / seconds;

async function benchTarget(target: RegistryTarget, data: Data): Promise<Result> {
  const url = target.url;

  // 1. One big blob, monolithic. RSS sampled throughout.
  log(`[${target.name}] push ${formatBytes(plan.bigBlob)} blob`);
  const rss = sampleRss(target.pid);
  const pushS = await timed(() => pushBlobMonolithic(url, 'bench/big', data.big.digest, plan.bigBlob, fileBody(data.big.file)));
  const peakRss = await rss.stop();

  // 2. The same blob pulled.
  log(`[${target.name}] pull it back`);
  // Reads are repeatable, so pulls take the median of three runs (the machine is shared and noisy).
  const pullTimes: number[] = [];
  for (let run = 0; run < 3; run++) {
    let got = { digest: '', size: 0 };
    pullTimes.push(await timed(async () => (got = await pullBlob(url, 'bench/big', data.big.digest, { hash: false }))));
    if (got.size !== plan.bigBlob) throw new Error(`${target.name}: pulled ${got.size} bytes, expected ${plan.bigBlob}`);
  }
  const pullS = median(pullTimes);
  const verified = await pullBlob(url, 'bench/big', data.big.digest);
  if (verified.digest !== data.big.digest) throw new Error(`${target.name}: the pulled blob hashes to ${verified.digest}, not ${data.big.digest}`);

  // 3. Concurrent pulls of distinct blobs.
  log(`[${target.name}] ${plan.pullers} concurrent pulls of ${formatBytes(plan.pullBlob)}`);
  await mapLimit(data.small, 4, (b) => pushBlobMonolithic(url, 'bench/many', b.digest, plan.pullBlob, fileBody(b.file)));
  const concurrentTimes: number[] = [];
  for (let run = 0; run < 3; run++) {
    const sizes: number[] = [];
    concurrentTimes.push(await timed(() => Promise.all(data.small.map(async (b) => sizes.push((await pullBlob(url, 'bench/many', b.digest, { hash: false })).size)))));
    if (sizes.some((s) => s !== plan.pullBlob)) throw new Error(`${target.name}: a concurrent pull came back short: ${sizes.join(', ')}`);
  }
  const concurrentS = median(concurrentTimes);
  await mapLimit(data.small, 4, async (b) => {
    const r = await pullBlob(url, 'bench/many', b.digest);
    if (r.digest !== b.digest) throw new Error(`${target.name}: ${b.digest} came back as ${r.digest}`);
  });

  // 4. Small manifests: push, then pull, 8 in flight like a busy client.
  log(`[${target.name}] ${plan.manifests} manifests`);
  await pushBlobMonolithic(url, 'bench/manifests', sha256(data.config), data.config.length, () => data.config);
  await pushBlobMonolithic(url, 'bench/manifests', sha256(data.layer), data.layer.length, () => data.layer);
  const manifests = Array.from({ length: plan.manifests }, (_, i) => manifestFor(data, i));
  const manifestPushS = await timed(() => mapLimit(manifests, 8, (m, i) => putManifest(url, 'bench/manifests', `m${i}`, ociManifest, m)));
  const manifestPullS = await timed(() =>
    mapLimit(manifests, 8, async (m, i) => {
      const r = await getManifest(url, 'bench/manifests', `m${i}`);
      if (r.status !== 200 || !r.bytes.equals(m)) throw new Error(`${target.name}: manifest m${i} came back as HTTP ${r.status}, ${r.bytes.length} bytes`);
    }),
  );

  // 5. Catalog over many repositories (set up untimed: mount both blobs, put one manifest each).
  log(`[${target.name}] creating ${plan.repositories} repositories for _catalog`);
  const repos = Array.from({ length: plan.repositories }, (_, i) => `bench/catalog/r${String(i).padStart(5, '0')}`);
  await mapLimit(repos, 16, async (repo) => {
    await mountBlob(url, repo, 'bench/manifests', sha256(data.config), data.config);
    await mountBlob(url, repo, 'bench/manifests', sha256(data.layer), data.layer);
    await putManifest(url, repo, 'latest', ociManifest, manifests[0]);
  });
  const catalogTimes: number[] = [];
  for (let run = 0; run < plan.catalogRuns; run++) {
    let names: string[] = [];
    catalogTimes.push(await timed(async () => (names = await listCatalog(url, 1000))));
    const listed = new Set(names);
    const missing = repos.filter((r) => !listed.has(r));
    if (missing.length > 0) throw new Error(`${target.name}: _catalog is missing ${missing.length} repositories, e.g. ${missing[0]}`);
  }

  return {
    pushMiBs: mibPerS(plan.bigBlob, pushS),
    pullMiBs: mibPerS(plan.bigBlob, pullS),
    concurrentMiBs: mibPerS(plan.pullers * plan.pullBlob, concurrentS),
    manifestPushPerS: plan.manifests / manifestPushS,
    manifestPullPerS: plan.manifests / manifestPullS,
    catalogMs: median(catalogTimes) * 1000,
    peakRss,
    hwm: await procStatusBytes(target.pid, 'VmHWM'),
  };
}

async function runOne(name: RegistryTargetName, work: string, data: Data): Promise<Result | string> {
  const reason = targetUnavailable(name);
  if (reason) return reason;
  const target = await startRegistryTarget(name, { dataDir: join(work, `data-${name}`) });
  log(`[${name}] listening on ${target.url} (pid ${target.pid})`);
  try {
    return await benchTarget(target, data);
  } finally {
    await target.stop();
    await rm(join(work, `data-${name}`), { recursive: true, force: true });
  }
}

function report(berth: Result | string, reference: Result | string): void {
  const b = typeof berth === 'string' ? undefined : berth;
  const r = typeof reference === 'string' ? undefined : reference;
  const fmt = (v: number | undefined, digits = 0) => (v === undefined ? 'n/a' : v.toFixed(digits));
  const ratio = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined ? undefined : x / y);
  const verdict = (value: number | undefined, ok: (v: number) => boolean) => (value === undefined ? 'not measured' : ok(value) ? 'met' : 'MISSED');
  const MB = 1e6;
  type Row = { name: string; unit: string; pick: (x: Result) => number; lowerIsBetter?: boolean; target?: string; ok?: (ratio: number) => boolean };
  const rows: Row[] = [
    { name: `push ${formatBytes(plan.bigBlob)} blob (monolithic)`, unit: 'MiB/s', pick: (x) => x.pushMiBs, target: '≥ 2×', ok: (v) => v >= 2 },
    { name: `pull ${formatBytes(plan.bigBlob)} blob`, unit: 'MiB/s', pick: (x) => x.pullMiBs, target: '≥ 1×', ok: (v) => v >= 1 },
    { name: `${plan.pullers} concurrent pulls × ${formatBytes(plan.pullBlob)}`, unit: 'MiB/s', pick: (x) => x.concurrentMiBs, target: '≥ 1×', ok: (v) => v >= 1 },
    { name: `push ${plan.manifests} manifests (8 in flight)`, unit: '/s', pick: (x) => x.manifestPushPerS },
    { name: `pull ${plan.manifests} manifests (8 in flight)`, unit: '/s', pick: (x) => x.manifestPullPerS },
    { name: `_catalog, ${plan.repositories} repos, n=1000 pages`, unit: 'ms', pick: (x) => x.catalogMs, lowerIsBetter: true },
  ];
  const lines: string[][] = [['workload', 'unit', 'reference', 'berth', 'berth/ref', 'target', 'verdict']];
  for (const row of rows) {
    const bv = b && row.pick(b);
    const rv = r && row.pick(r);
    // Ratios are "how many times better Berth is": throughput Berth/ref, latency ref/Berth.
    const x = row.lowerIsBetter ? ratio(rv, bv) : ratio(bv, rv);
    lines.push([row.name, row.unit, fmt(rv, row.unit === 'ms' ? 1 : 0), fmt(bv, row.unit === 'ms' ? 1 : 0), x === undefined ? 'n/a' : `${x.toFixed(2)}×`, row.target ?? '—', row.ok ? verdict(x, row.ok) : 'info']);
  }
  lines.push([
    `peak RSS during the ${formatBytes(plan.bigBlob)} push`,
    'MB',
    fmt(r && r.peakRss / MB),
    fmt(b && b.peakRss / MB),
    '',
    '< 150 MB',
    verdict(b?.peakRss, (v) => v < 150 * MB),
  ]);
  lines.push(['VmHWM at the end (incl. start-up)', 'MB', fmt(r?.hwm && r.hwm / MB), fmt(b?.hwm && b.hwm / MB), '', '—', 'info']);
  console.log(`\nBerth registry vs reference (docker-registry 2.8) — ${quick ? 'QUICK run (smaller sizes)' : 'full run'}; same client, loopback, one registry at a time\n`);
  console.log(table(lines));
  if (typeof berth === 'string') console.log(`\nBerth not measured: ${berth}`);
  if (typeof reference === 'string') console.log(`\nReference not measured: ${reference}`);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-registry-'));
  const started = Date.now();
  try {
    const data = await makeData(work);
    const reference = only === 'berth' ? 'skipped (--only=berth)' : await runOne('reference', work, data);
    const berth = only === 'reference' ? 'skipped (--only=reference)' : await runOne('berth', work, data).catch((e: Error) => `failed: ${e.message}`);
    report(berth, reference);
    log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(2);
  },
);
