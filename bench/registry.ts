/**
 * `npm run bench:registry [-- --quick] [-- --only=berth|reference]`
 *
 * Starts Berth's registry (`berth registry`) and the reference registry (Debian's docker-registry, CNCF
 * distribution) on loopback, drives both with the same Node client (tests/support/registry-client.ts) and
 * prints Berth/reference ratios for:
 *   - a 1 GiB blob pushed monolithically (POST + one PUT carrying the body) and pulled back, both by curl;
 *   - 32 concurrent pulls of 16 MiB blobs;
 *   - 500 small manifests pushed, then pulled (8 in flight);
 *   - GET /v2/_catalog (paged, n=1000) over 5,000 repositories;
 *   - Berth's peak RSS during the 1 GiB pushes (sampled from /proc every 20 ms).
 * The machine is shared and noisy, so every workload runs several times, alternating which registry goes
 * first, and the median counts; only one registry is busy at any moment. Each push is a distinct blob
 * (the 1 GiB file + a 64-byte suffix), so no registry can skip the bytes of a blob it already has.
 * Test data is random bytes written to a temp dir in 1 MiB chunks; nothing is held whole in memory.
 * Timed pulls count bytes only; every pulled blob is verified by digest in an untimed pass.
 * Not part of `npm test`: benchmarks print ratios, they never assert timings.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, copyFile, mkdtemp, rm } from 'node:fs/promises';
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
  startUpload,
  writeRandomFile,
} from '../tests/support/registry-client';
import { startRegistryTarget, targetUnavailable, type RegistryTarget, type RegistryTargetName } from '../tests/support/registry-target';
import { formatBytes, GiB, mapLimit, median, MiB, procStatusBytes, sampleRss, table, timed } from './lib/bench-kit';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length) as RegistryTargetName | undefined;

const plan = quick
  ? { bigBlob: 128 * MiB, pullers: 32, pullBlob: 2 * MiB, manifests: 100, repositories: 500 }
  : { bigBlob: 1 * GiB, pullers: 32, pullBlob: 16 * MiB, manifests: 500, repositories: 5000 };

/** The 1 GiB file followed by a small distinct suffix, so every push is a new blob (no dedupe). */
interface BigBlob {
  /** That blob as a file of its own, for curl to upload. */
  file: string;
  digest: string;
  size: number;
}

interface Data {
  big: BigBlob[];
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
  /** RSS before any workload: what the process costs doing nothing. */
  idleRss?: number;
  /** VmHWM after the whole run: the process's high-water mark including start-up. */
  hwm?: number;
}

const execFileAsync = promisify(execFile);
const log = (line: string) => process.stderr.write(`${line}\n`);
const PUSHES = 3;
const REPS = 3;

async function makeData(dir: string): Promise<Data> {
  log(`generating ${formatBytes(plan.bigBlob)} + ${plan.pullers} × ${formatBytes(plan.pullBlob)} of random data in ${dir}`);
  const bigFile = join(dir, 'big.bin');
  // Hash the big file once; each variant's digest continues a copy of that hash state over its suffix.
  const hash = createHash('sha256');
  await writeRandomFile(bigFile, plan.bigBlob);
  for await (const chunk of createReadStream(bigFile, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  const big = await Promise.all(
    Array.from({ length: PUSHES }, async (_, i) => {
      const suffix = randomBytes(64);
      const file = join(dir, `big-${i}.bin`);
      await copyFile(bigFile, file);
      await appendFile(file, suffix);
      return { file, digest: `sha256:${hash.copy().update(suffix).digest('hex')}`, size: plan.bigBlob + suffix.length };
    }),
  );
  const small = await mapLimit(
    Array.from({ length: plan.pullers }, (_, i) => join(dir, `small-${i}.bin`)),
    4,
    async (file) => ({ file, digest: await writeRandomFile(file, plan.pullBlob) }),
  );
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = Buffer.from('berth bench layer\n');
  return { big, small, config, layer };
}

/**
 * The big blob goes up and down through curl (POST, then one PUT streaming the file; one GET), the way a
 * Go client such as containerd sends it: a lean client, so on this 2-core machine the client's own CPU
 * does not cap what the registries can show. Both registries get the very same client.
 *
 * curlPull: GET into /dev/null; returns the bytes received (the digest is checked in an untimed pass).
 */
async function curlPull(url: string): Promise<number> {
  const { stdout } = await execFileAsync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', url]);
  const [status, size] = stdout.trim().split(' ');
  if (status !== '200') throw new Error(`GET ${url}: HTTP ${status}, expected 200`);
  return Number(size);
}

async function curlPushMonolithic(base: string, repo: string, digest: string, file: string): Promise<void> {
  const location = await startUpload(base, repo);
  const url = new URL(location, base);
  url.searchParams.set('digest', digest);
  const { stdout } = await execFileAsync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-T', file, '-H', 'Content-Type: application/octet-stream', url.href]);
  if (stdout.trim() !== '201') throw new Error(`PUT blob ${digest} to ${repo}: HTTP ${stdout.trim()}, expected 201`);
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

/**
 * Runs `fn` `reps` times on every target, alternating which goes first, so drift on a shared machine
 * (other builds, page-cache pressure) lands on both sides alike; `sync` before each run. Returns each target's median seconds.
 */
async function interleaved(targets: RegistryTarget[], reps: number, label: string, fn: (t: RegistryTarget, rep: number) => Promise<unknown>): Promise<Map<RegistryTarget, number>> {
  const times = new Map<RegistryTarget, number[]>(targets.map((t) => [t, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const t of rep % 2 ? [...targets].reverse() : targets) {
      // Start every run with no dirty pages: the reference registry never fsyncs, so its writes are still
      // being flushed when the next run starts, and whoever runs next would pay for them. Untimed; it
      // leaves the reference's own deferred write-back out of its figures, which only favours it.
      execFileSync('sync');
      const s = await timed(() => fn(t, rep));
      times.get(t)!.push(s);
      log(`  ${label} [${t.name}] run ${rep + 1}/${reps}: ${s.toFixed(2)} s`);
    }
  }
  return new Map([...times].map(([t, list]) => [t, median(list)]));
}

async function bench(targets: RegistryTarget[], data: Data): Promise<Map<RegistryTarget, Result>> {
  const peakRss = new Map<RegistryTarget, number>(targets.map((t) => [t, 0]));
  const idleRss = new Map<RegistryTarget, number | undefined>();
  for (const t of targets) idleRss.set(t, await procStatusBytes(t.pid, 'VmRSS'));

  // 1. Big blobs, monolithic: a different blob each run; RSS sampled throughout each push.
  const push = await interleaved(targets, PUSHES, `push ${formatBytes(plan.bigBlob)}`, async (t, rep) => {
    const rss = sampleRss(t.pid);
    try {
      await curlPushMonolithic(t.url, 'bench/big', data.big[rep].digest, data.big[rep].file);
    } finally {
      peakRss.set(t, Math.max(peakRss.get(t)!, await rss.stop()));
    }
  });

  // 2. Pull one of them back (bytes counted), then verify its digest untimed.
  const pull = await interleaved(targets, REPS, `pull ${formatBytes(plan.bigBlob)}`, async (t) => {
    const size = await curlPull(`${t.url}/v2/bench/big/blobs/${data.big[0].digest}`);
    if (size !== data.big[0].size) throw new Error(`${t.name}: pulled ${size} bytes, expected ${data.big[0].size}`);
  });
  for (const t of targets) {
    const verified = await pullBlob(t.url, 'bench/big', data.big[0].digest);
    if (verified.digest !== data.big[0].digest) throw new Error(`${t.name}: the pulled blob hashes to ${verified.digest}, not ${data.big[0].digest}`);
  }

  // 3. Concurrent pulls of distinct blobs (pushed untimed first).
  for (const t of targets) await mapLimit(data.small, 4, (b) => pushBlobMonolithic(t.url, 'bench/many', b.digest, plan.pullBlob, fileBody(b.file)));
  const concurrent = await interleaved(targets, REPS, `${plan.pullers} concurrent pulls`, async (t) => {
    const sizes = await Promise.all(data.small.map(async (b) => (await pullBlob(t.url, 'bench/many', b.digest, { hash: false })).size));
    if (sizes.some((s) => s !== plan.pullBlob)) throw new Error(`${t.name}: a concurrent pull came back short: ${sizes.join(', ')}`);
  });
  for (const t of targets) {
    await mapLimit(data.small, 4, async (b) => {
      const r = await pullBlob(t.url, 'bench/many', b.digest);
      if (r.digest !== b.digest) throw new Error(`${t.name}: ${b.digest} came back as ${r.digest}`);
    });
  }

  // 4. Small manifests: push, then pull, 8 in flight like a busy client; fresh tags each run.
  const manifests = Array.from({ length: plan.manifests }, (_, i) => manifestFor(data, i));
  for (const t of targets) {
    await pushBlobMonolithic(t.url, 'bench/manifests', sha256(data.config), data.config.length, () => data.config);
    await pushBlobMonolithic(t.url, 'bench/manifests', sha256(data.layer), data.layer.length, () => data.layer);
  }
  const manifestPush = await interleaved(targets, 2, `push ${plan.manifests} manifests`, (t, rep) =>
    mapLimit(manifests, 8, (m, i) => putManifest(t.url, 'bench/manifests', `r${rep}-m${i}`, ociManifest, m)),
  );
  const manifestPull = await interleaved(targets, 2, `pull ${plan.manifests} manifests`, (t, rep) =>
    mapLimit(manifests, 8, async (m, i) => {
      const r = await getManifest(t.url, 'bench/manifests', `r${rep}-m${i}`);
      if (r.status !== 200 || !r.bytes.equals(m)) throw new Error(`${t.name}: manifest r${rep}-m${i} came back as HTTP ${r.status}, ${r.bytes.length} bytes`);
    }),
  );

  // 5. Catalog over many repositories (set up untimed: mount both blobs, put one manifest each).
  const repos = Array.from({ length: plan.repositories }, (_, i) => `bench/catalog/r${String(i).padStart(5, '0')}`);
  for (const t of targets) {
    log(`  creating ${plan.repositories} repositories on ${t.name}`);
    await mapLimit(repos, 16, async (repo) => {
      await mountBlob(t.url, repo, 'bench/manifests', sha256(data.config), data.config);
      await mountBlob(t.url, repo, 'bench/manifests', sha256(data.layer), data.layer);
      await putManifest(t.url, repo, 'latest', ociManifest, manifests[0]);
    });
  }
  const catalog = await interleaved(targets, REPS, `_catalog of ${plan.repositories}`, async (t) => {
    const listed = new Set(await listCatalog(t.url, 1000));
    const missing = repos.filter((r) => !listed.has(r));
    if (missing.length > 0) throw new Error(`${t.name}: _catalog is missing ${missing.length} repositories, e.g. ${missing[0]}`);
  });

  const results = new Map<RegistryTarget, Result>();
  for (const t of targets) {
    results.set(t, {
      pushMiBs: mibPerS(data.big[0].size, push.get(t)!),
      pullMiBs: mibPerS(data.big[0].size, pull.get(t)!),
      concurrentMiBs: mibPerS(plan.pullers * plan.pullBlob, concurrent.get(t)!),
      manifestPushPerS: plan.manifests / manifestPush.get(t)!,
      manifestPullPerS: plan.manifests / manifestPull.get(t)!,
      catalogMs: catalog.get(t)! * 1000,
      peakRss: peakRss.get(t)!,
      idleRss: idleRss.get(t),
      hwm: await procStatusBytes(t.pid, 'VmHWM'),
    });
  }
  return results;
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
  lines.push(['RSS idle, before the first workload', 'MB', fmt(r?.idleRss && r.idleRss / MB), fmt(b?.idleRss && b.idleRss / MB), '', '—', 'info']);
  lines.push(['VmHWM at the end (incl. start-up)', 'MB', fmt(r?.hwm && r.hwm / MB), fmt(b?.hwm && b.hwm / MB), '', '—', 'info']);
  console.log(`\nBerth registry vs reference (docker-registry 2.8) — ${quick ? 'QUICK run (smaller sizes)' : 'full run'}; same client, loopback; medians of runs alternating which registry goes first\n`);
  console.log(table(lines));
  if (typeof berth === 'string') console.log(`\nBerth not measured: ${berth}`);
  if (typeof reference === 'string') console.log(`\nReference not measured: ${reference}`);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-registry-'));
  const started = Date.now();
  const targets: RegistryTarget[] = [];
  const absent = new Map<RegistryTargetName, string>();
  try {
    const data = await makeData(work);
    for (const name of ['reference', 'berth'] as RegistryTargetName[]) {
      const reason = only && only !== name ? `skipped (--only=${only})` : targetUnavailable(name);
      if (reason) {
        absent.set(name, reason);
        continue;
      }
      const target = await startRegistryTarget(name, { dataDir: join(work, `data-${name}`) }).catch((e: Error) => e);
      if (target instanceof Error) absent.set(name, `failed to start: ${target.message}`);
      else {
        log(`${name} registry listening on ${target.url} (pid ${target.pid})`);
        targets.push(target);
      }
    }
    const results = targets.length > 0 ? await bench(targets, data) : new Map<RegistryTarget, Result>();
    const of = (name: RegistryTargetName) => {
      const t = targets.find((x) => x.name === name);
      return t ? results.get(t)! : absent.get(name)!;
    };
    report(of('berth'), of('reference'));
    log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    for (const t of targets) await t.stop();
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
