#!/usr/bin/env node
// The `berth` command. The CLI is TypeScript (electron/cli/main.ts). It runs from a bundle
// (out/cli/main.mjs) that esbuild rebuilds in ~0.2 s whenever a source file is newer, so
// `npm run berth -- serve` works right after `npm install` with no build step. Bundled code keeps a
// long-running `berth registry` lean: an on-the-fly TypeScript loader costs ~30 MB of memory for the
// process's whole life. If the bundle cannot be built (no esbuild), tsx compiles on the fly instead.
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'electron', 'cli', 'main.ts');
const bundle = join(root, 'out', 'cli', 'main.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  try {
    const built = statSync(bundle).mtimeMs;
    return built >= newestSource(join(root, 'electron')) && built >= newestSource(join(root, 'shared')) && built >= statSync(join(root, 'package.json')).mtimeMs;
  } catch {
    return false;
  }
}

async function loadMain() {
  if (!process.env.BERTH_CLI_TSX) {
    try {
      if (!bundleIsFresh()) {
        const { build } = await import('esbuild');
        // Built in memory and renamed into place: several berth processes may start at once (tests do).
        const { outputFiles } = await build({
          entryPoints: [entry],
          outfile: bundle,
          write: false,
          bundle: true,
          platform: 'node',
          format: 'esm',
          target: 'node20',
          packages: 'external', // dependencies load from node_modules as usual
          sourcemap: 'inline',
          logLevel: 'warning',
        });
        const tmp = `${bundle}.${process.pid}.tmp`;
        mkdirSync(dirname(bundle), { recursive: true });
        writeFileSync(tmp, outputFiles[0].contents);
        renameSync(tmp, bundle);
      }
      return (await import(pathToFileURL(bundle).href)).main;
    } catch (err) {
      if (process.env.BERTH_DEBUG) console.error('berth: no bundle, compiling on the fly:', err);
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import(pathToFileURL(entry).href)).main;
}

const main = await loadMain();
await main();
