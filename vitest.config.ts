import { defineConfig } from 'vitest/config';

// Two projects: unit tests sit beside the code (*.test.ts); integration tests (*.itest.ts) drive real
// parts — the private dockerd that scripts/test.mjs starts, the docker CLI, skopeo, the reference registry.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['shared/**/*.test.ts', 'electron/**/*.test.ts', 'renderer/src/**/*.test.ts', 'scripts/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['electron/**/*.itest.ts', 'tests/integration/**/*.itest.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Integration tests share one engine and big files; run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
