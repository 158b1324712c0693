// The behavioural diff on real servers: seed 004's fix reported in the domain's words, the reverse
// change reported as a regression by the CLI (exit 1), and bad input as one line (exit 2).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StartedServer } from '../../src/db/provider.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { diffDocumentSchema } from '../../src/diff/diff-document.ts';
import { diffSchemas } from '../../src/diff/diff-schemas.ts';
import { stepCount } from '../../src/engine/scenario.ts';
import { readSource } from '../../src/source/read-source.ts';
import { loadSpecFile } from '../../src/spec/loader.ts';
import { pgconform as inProcess } from '../cli-run.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SEED_004 = 'fixtures/one-primary-provider/seed.sql';
const REFERENCE = 'fixtures/one-primary-provider/reference.sql';
const specs = await loadSpecFile(join(ROOT, 'specs', 'one-primary-provider.ts'));

// The fixture paths are relative to the kit's folder, as a user's would be to their project's.
const pgconform = (args: string[]) => inProcess(args, { cwd: ROOT });
const inProcessWithEnv = (args: string[], env: Record<string, string>) => inProcess(args, { cwd: ROOT, env });

describe('pgconform diff', () => {
  let server: StartedServer;
  beforeAll(async () => {
    server = await new UrlProvider(inject('embeddedUrl')).start();
  });
  afterAll(async () => server?.stop());

  it('reports seed 004 → reference as "a primary in a second organization is now accepted; nothing that broke the rule is now accepted"', async () => {
    const result = await diffSchemas(server, await readSource(SEED_004, { cwd: ROOT }), await readSource(REFERENCE, { cwd: ROOT }), {
      specs,
      named: true,
      isolation: 'read-committed',
      runs: 100,
      seed: 3,
    });
    const diff = result.rules[0]!;
    expect(diff.summary).toBe('a primary in a second organization is now accepted; nothing that broke the rule is now accepted');
    expect([diff.verdicts?.before.verdict, diff.verdicts?.after.verdict]).toEqual(['over-restrictive', 'pass']);
    expect(diff.regressions).toEqual([]);
    // The minimal example: one primary, then a primary for the same patient in the other organization.
    const allowed = diff.changes.find((c) => c.direction === 'newly-accepted' && c.judged === 'allowed')!;
    expect(stepCount(allowed.example.scenario)).toBe(2);
    const { before, after, divergence } = allowed.example;
    const refused = before.history[divergence.beforeEvent]!.outcome;
    expect(refused.status === 'rejected' && [refused.failure.code, refused.failure.constraint]).toEqual(['23505', 'uq_care_team_primary']);
    expect(after.history[divergence.afterEvent]!.outcome.status).toBe('ok');
    expect(diff.changes.some((c) => c.judged === 'breaks')).toBe(false);
  });

  it('exits 1 on the reverse change, naming the operation the rule allows that is now rejected', async () => {
    const run = await pgconform(['diff', '--before', REFERENCE, '--after', SEED_004, '--url', inject('embeddedUrl'), '--runs', '100', '--seed', '3', '--quiet']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('  verdict: pass → over-restrictive\n  a primary in a second organization, which the rule allows, is now rejected\n');
    expect(run.stdout).toContain('regression: rejects what the rule allows: a primary in a second organization');
    // Every other built-in rule lacks its tables in these schemas: skipped, in one line.
    expect(run.stdout).toMatch(/skipped, their tables are not in both schemas: .*one-pending-request/);
  });

  it('writes diff.json (versioned, validated), diff.md (verdict first, evidence collapsed, appended to the step summary) and junit.xml, at several isolation levels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-diff-'));
    const summary = join(dir, 'step-summary.md');
    writeFileSync(summary, '# earlier step\n');
    const run = await inProcessWithEnv(
      ['diff', '--before', REFERENCE, '--after', SEED_004, '--url', inject('embeddedUrl'), '--runs', '60', '--seed', '3', '--quiet', '--isolation', 'read-committed', 'repeatable-read', '--report-dir', join(dir, 'reports'), 'one-primary-provider'],
      { GITHUB_STEP_SUMMARY: summary },
    );
    expect(run.code, run.stderr).toBe(1);
    // The verdict and one line per rule and level come first; the evidence after them.
    expect(run.stdout.split('\n')[0]).toMatch(/^regression in 2 of 2 rule checks \(seed 3\)$/);
    expect(run.stdout.split('\n').slice(1, 3)).toEqual([expect.stringMatching(/^ {2}REGRESSION one-primary-provider \[read-committed\]: /), expect.stringMatching(/^ {2}REGRESSION one-primary-provider \[repeatable-read\]: /)]);
    const document = diffDocumentSchema.parse(JSON.parse(readFileSync(join(dir, 'reports', 'diff.json'), 'utf8')));
    expect(document.schemaVersion).toBe(1);
    expect(document.verdict).toBe('regression');
    expect(document.rules.map((r) => r.isolation)).toEqual(['read-committed', 'repeatable-read']);
    const markdown = readFileSync(join(dir, 'reports', 'diff.md'), 'utf8');
    expect(markdown).toMatch(/^## pgconform diff: regression in 2 of 2 rule checks\n/);
    expect(markdown.indexOf('| ❌ one-primary-provider')).toBeLessThan(markdown.indexOf('<details>'));
    expect(readFileSync(summary, 'utf8')).toBe(`# earlier step\n${markdown}\n`);
    const junit = readFileSync(join(dir, 'reports', 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuite name="pgconform diff" tests="2" failures="2"/);
  });

  it('--format: without --report-dir the one format is the output; with it, only the formats named are written; each side may be built --without-extension', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-diff-'));
    const dump = join(dir, 'before.sql');
    writeFileSync(dump, `CREATE EXTENSION IF NOT EXISTS pg_no_such_extension;\n${readFileSync(join(ROOT, REFERENCE), 'utf8')}`);
    const common = ['--before', dump, '--after', SEED_004, '--url', inject('embeddedUrl'), '--runs', '40', '--seed', '3', '--quiet', 'one-primary-provider'];
    const junit = await pgconform(['diff', ...common, '--without-extension', 'pg_no_such_extension', '--format', 'junit']);
    expect(junit.code, junit.stderr).toBe(1);
    expect(junit.stdout).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="pgconform diff" tests="1" failures="1">/);
    expect(junit.stderr.trim().split('\n')).toEqual([expect.stringMatching(/before\.sql:1: CREATE EXTENSION pg_no_such_extension left out \(--without-extension\)$/)]);
    expect(readdirSync(dir)).toEqual(['before.sql']);

    const written = await pgconform(['diff', ...common, '--without-extension', 'pg_no_such_extension', '--format', 'json', 'markdown', '--report-dir', join(dir, 'reports')]);
    expect(written.code, written.stderr).toBe(1);
    expect(written.stdout).toBe('');
    expect(readdirSync(join(dir, 'reports')).sort()).toEqual(['diff.json', 'diff.md']);
    expect(diffDocumentSchema.parse(JSON.parse(readFileSync(join(dir, 'reports', 'diff.json'), 'utf8'))).verdict).toBe('regression');

    const several = await pgconform(['diff', ...common, '--format', 'json', 'markdown']);
    expect([several.code, several.stderr]).toEqual([2, 'pgconform: --format json, markdown without --report-dir: only one format can go to standard output (give --report-dir, or one --format)\n']);
  });

  it('exits 2 when it compared no rule, rather than "no regression in 0 rules"', async () => {
    // None of the built-in rules has its tables in this schema: every rule is skipped.
    const schema = join(mkdtempSync(join(tmpdir(), 'pgconform-diff-')), 'unrelated.sql');
    writeFileSync(schema, 'CREATE TABLE unrelated (id int PRIMARY KEY);\n');
    const run = await pgconform(['diff', '--before', schema, '--after', schema, '--url', inject('embeddedUrl'), '--runs', '10', '--quiet']);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(/pgconform: diff compared no rule \(\d+ skipped: their tables or columns are not in both schemas\)/);
    // Named, a rule that cannot be compared is an error of its own (exit 2).
    const named = await pgconform(['diff', '--before', schema, '--after', schema, '--url', inject('embeddedUrl'), '--runs', '10', '--quiet', 'one-primary-provider']);
    expect(named.code).toBe(2);
  });

  it('exits 2 with one line for a source that does not exist', async () => {
    const run = await pgconform(['diff', '--before', 'no/such/schema.sql', '--after', REFERENCE]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual(['pgconform: no schema file or folder at no/such/schema.sql (give a .sql file, a folder of .sql files, or <git-rev>:<path>)']);
  });
});
