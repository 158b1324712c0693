// The sample project in fixtures/sample-project, run as a team runs it: its own vitest config and
// *.conformance.ts file, importing pgconform/vitest. It must fail on the broken schema and pass on the fixed one.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

function runSample(schema?: string) {
  // Drop this suite's own vitest variables, so that the child is a vitest run of its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'TEST' && name !== 'NODE_ENV'));
  const result = spawnSync(process.execPath, [VITEST, 'run', '--config', 'fixtures/sample-project/vitest.config.ts', '--reporter', 'default', '--no-color'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...env, DATABASE_URL: inject('embeddedUrl'), ...(schema ? { SAMPLE_SCHEMA: schema } : {}) },
    timeout: 120_000,
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('sample project', () => {
  it('fails on the broken schema, printing the counterexample', () => {
    const run = runSample('./db/schema-broken.sql');
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain('one-pending-invitation — one pending invitation per team and email (case-insensitive): VIOLATION');
    expect(run.output).toContain('offending rows:');
    expect(run.output).toMatch(/replay: add \{ seed: 42, path: /);
  });

  it('passes on the fixed schema', () => {
    const run = runSample();
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/1 passed/);
  });
});
