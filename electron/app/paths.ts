/**
 * Where the app's own files are. The same modules run from their TypeScript sources (tsx, tests), from
 * the bundled CLI (out/cli/main.mjs) and from the Electron build (out/main), so paths are resolved from
 * the package root — the nearest folder above this module with Berth's package.json — never by counting `..`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function appRoot(from: string = fileURLToPath(import.meta.url)): string {
  if (cached) return cached;
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'berth') return (cached = dir);
    if (dirname(dir) === dir) throw new Error(`Berth's package.json was not found above ${from}`);
  }
}

export const appPath = (...parts: string[]): string => join(appRoot(), ...parts);
