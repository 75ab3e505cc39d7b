#!/usr/bin/env node
// The `berth` command. The CLI is TypeScript (electron/cli/main.ts); tsx compiles it on the fly, so
// `npm run berth -- serve` works right after `npm install`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../electron/cli/main.ts');
await main();
