// A bug once found is checked on every later run, whatever the seed: the failure corpus.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { pgconform } from './cli-run.ts';

const MUTANT = 'fixtures/one-pending-request/mutants/unlocked-trigger-check.sql';

describe('failure corpus', () => {
  it('saves a confirmed counterexample, replays it first on later runs, and keeps it passing on the fixed schema', async () => {
    const corpus = mkdtempSync(join(tmpdir(), 'pgconform-corpus-'));
    const url = inject('embeddedUrl');
    const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    const first = mkdtempSync(join(tmpdir(), 'pgconform-r-'));
    expect((await pgconform(['run', 'one-pending-request', '--url', url, '--schema', MUTANT, '--seed', '1', '--corpus', corpus, '--format', 'json', '--report-dir', first])).code).toBe(1);
    const saved = readdirSync(join(corpus, 'one-pending-request'));
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatch(/^violation-[0-9a-f]{12}\.json$/);

    // Another seed and a single generated run: the property alone would not find the race; the corpus does.
    const second = mkdtempSync(join(tmpdir(), 'pgconform-r-'));
    expect((await pgconform(['run', 'one-pending-request', '--url', url, '--schema', MUTANT, '--seed', '999', '--runs', '1', '--corpus', corpus, '--format', 'json', '--report-dir', second])).code).toBe(1);
    expect(report(second).rules[0].checks[0].counterexample.foundBy).toBe('corpus');
    expect(readdirSync(join(corpus, 'one-pending-request'))).toEqual(saved);

    // On the fixed schema the saved scenario runs and passes.
    const fixed = mkdtempSync(join(tmpdir(), 'pgconform-r-'));
    const run = await pgconform(['run', 'one-pending-request', '--url', url, '--schema', 'fixtures/one-pending-request/reference.sql', '--seed', '2', '--runs', '20', '--corpus', corpus, '--format', 'json', '--report-dir', fixed]);
    expect(run.code, run.stderr).toBe(0);
    expect(report(fixed).rules[0].checks[0].notes.join(' ')).toMatch(/replayed 1 corpus entry first/);
  });

  it('is off with --no-corpus', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-r-'));
    const cwd = mkdtempSync(join(tmpdir(), 'pgconform-cwd-'));
    const run = await pgconform(
      ['run', 'one-pending-request', '--specs-dir', join(import.meta.dirname, '..', 'specs'), '--url', inject('embeddedUrl'), '--schema', join(import.meta.dirname, '..', MUTANT), '--seed', '1', '--no-corpus', '--format', 'json', '--report-dir', dir],
      { cwd, env: { PGCONFORM_CORPUS: '.pgconform/corpus' } },
    );
    expect(run.code, run.stderr).toBe(1);
    expect(readdirSync(cwd)).toEqual([]);
  });
});
