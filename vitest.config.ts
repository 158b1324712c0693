import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Specs import the kit by its package name, as a user's specs do. The more specific alias comes first:
    // 'pgconform' alone would also match 'pgconform/vitest'.
    alias: {
      'pgconform/vitest': fileURLToPath(new URL('./src/vitest/conformance.ts', import.meta.url)),
      pgconform: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // Two matrix rows at a time: the machine has two cores, shared with the servers.
    maxConcurrency: 2,
    // The kit's own test runs must not write a failure corpus into the working tree.
    env: { PGCONFORM_CORPUS: '' },
  },
});
