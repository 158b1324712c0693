import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Files that assert something about the whole machine or server: the databases on a server, the embedded servers'
 * processes and temporary folders. Another file running beside them would create exactly what they look for, so
 * they run one at a time, after every other file. The engine's tests count lock-table questions made while a step
 * waits, which a second file competing for the two cores inflates: they run alone too.
 */
const ALONE = [
  'test/cli.test.ts',
  'test/hardening.test.ts',
  'test/init/init.test.ts',
  'test/explain/explain.test.ts',
  'test/source/schema-sources.test.ts',
  'test/engine/engine.test.ts',
];

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
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two matrix rows at a time: the machine has two cores, shared with the servers.
    maxConcurrency: 2,
    // The kit's own test runs must not write a failure corpus into the working tree.
    env: { PGCONFORM_CORPUS: '' },
    projects: [
      {
        extends: true,
        // Two files at a time: most of a file's time is waiting on round trips to the server, one step at a time.
        test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: ALONE, maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, fileParallelism: false, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
