// pgconform mutate as users run it: a spec weaker than its schema is found (exit 1, the survivor named
// and explained in the text and in mutate.json), and bad input is one line with exit 2.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { pgconform as inProcess } from '../cli-run.ts';
import { mutationDocumentSchema } from '../../src/mutation/mutation-document.ts';

const ROOT = join(import.meta.dirname, '..', '..');

const pgconform = (args: string[], env?: Record<string, string>) => inProcess(args, { cwd: ROOT, env });

// The pending-request index also keys on team_id, which the one-pending-request spec never names: every
// row gets the default team, so the spec holds on this schema but cannot tell whether team_id matters.
const WEAK_SCHEMA = `
CREATE TABLE access_requests (
  id uuid PRIMARY KEY,
  organization_id uuid,
  user_id uuid,
  team_id uuid NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001',
  status text
);
CREATE UNIQUE INDEX uq_pending_request ON access_requests (organization_id, user_id, team_id) WHERE status = 'PENDING';
`;

describe('pgconform mutate', () => {
  it('exits 1 for a spec whose unique scope omits a column the index has, naming the surviving mutant and why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-mutate-'));
    const schema = join(dir, 'weak.sql');
    writeFileSync(schema, WEAK_SCHEMA);
    const run = await pgconform(['mutate', 'one-pending-request', '--schema', schema, '--url', inject('embeddedUrl'), '--runs', '40', '--seed', '1', '--report-dir', dir, '--quiet']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('SURVIVED  drop-key-column uq_pending_request: team_id: spec too weak: the schema enforces something the spec does not state: the changed part constrains team_id, which the spec never names');
    expect(run.stdout).toMatch(/behaviour-changing mutants survive: one-pending-request \[read-committed\] \(1\) \(seed 1\)/);
    expect(run.stderr).toBe('');

    const report = mutationDocumentSchema.parse(JSON.parse(readFileSync(join(dir, 'mutate.json'), 'utf8')));
    expect(report.schemaVersion).toBe(2);
    // For the pull request: the score table and the survivor that fails the run first; JUnit fails on it.
    const markdown = readFileSync(join(dir, 'mutate.md'), 'utf8');
    expect(markdown).toMatch(/\| ❌ one-pending-request \| read-committed \| \d+ \| \d+ \|/);
    expect(markdown.indexOf('`drop-key-column uq_pending_request: team_id` survived')).toBeLessThan(markdown.indexOf('<details>'));
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toMatch(/<testcase classname="pgconform\.mutate\.one-pending-request" name="drop-key-column uq_pending_request: team_id \[read-committed\]"><failure message="spec too weak/);
    const rule = report.rules[0]!;
    expect(rule.baseline.verdict).toBe('pass');
    const byName = new Map(rule.mutants.map((m) => [m.name, m]));
    expect(byName.get('drop-key-column uq_pending_request: team_id')?.survivor?.kind).toBe('weak-spec');
    // The columns the spec does name are covered: dropping one of them, or the index, is caught.
    for (const name of ['drop-index uq_pending_request', 'strip-predicate uq_pending_request', 'drop-key-column uq_pending_request: organization_id', 'drop-key-column uq_pending_request: user_id']) {
      expect(byName.get(name)?.status, name).toBe('killed');
    }
    expect(rule.weakSpec).toBe(1);
    // The score counts the mutants of objects that enforce the rule; the others are listed apart.
    const scored = rule.mutants.filter((m) => m.apart === undefined);
    const [scoredKilled, scoredSurvived] = (['killed', 'survived'] as const).map((status) => scored.filter((m) => m.status === status).length);
    expect(rule.score).toBeCloseTo(scoredKilled! / (scoredKilled! + scoredSurvived!));
    expect(rule.unscored).toBe(rule.mutants.length - scored.length);
  });

  it('exits 2 with one line for an unknown rule id, a bad option value, and a schema that does not apply', async () => {
    const unknown = await pgconform(['mutate', 'no-such-rule', '--url', inject('embeddedUrl')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^pgconform: unknown rule id "no-such-rule" \(known ids: .*one-pending-request/)]);

    const workers = await pgconform(['mutate', '--workers', '0']);
    expect(workers.code).toBe(2);
    expect(workers.stderr.trim().split('\n')).toEqual(['pgconform: --workers must be a whole number from 1, got 0 (see pgconform --help)']);

    const dir = mkdtempSync(join(tmpdir(), 'pgconform-mutate-'));
    const broken = join(dir, 'broken.sql');
    writeFileSync(broken, 'CREATE TABLE access_requests (id uuid PRIMARY KEY);\nCREAT INDEX x ON access_requests (id);\n');
    const schema = await pgconform(['mutate', 'one-pending-request', '--schema', broken, '--url', inject('embeddedUrl'), '--quiet', '--report-dir', dir]);
    expect(schema.code).toBe(2);
    expect(schema.stderr.trim().split('\n')).toEqual([expect.stringMatching(/broken\.sql:2: the schema does not apply: syntax error at or near "CREAT"/)]);
  });

  it('takes the schema as run does (--without-extension here), checks each rule at every --isolation level, and --format json alone goes to standard output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-mutate-'));
    const dump = join(dir, 'dump.sql');
    writeFileSync(dump, `CREATE EXTENSION IF NOT EXISTS pg_no_such_extension;\n${WEAK_SCHEMA}`);
    const run = await pgconform(
      ['mutate', 'one-pending-request', '--schema', dump, '--without-extension', 'pg_no_such_extension', '--isolation', 'read-committed', 'serializable', '--format', 'json', '--url', inject('embeddedUrl'), '--runs', '20', '--seed', '1', '--quiet'],
    );
    expect(run.code, run.stderr).toBe(1);
    // The mutants are clones of the template built once: the extension is left out, and said so, once.
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/dump\.sql:1: CREATE EXTENSION pg_no_such_extension left out \(--without-extension\)$/)]);
    const report = mutationDocumentSchema.parse(JSON.parse(run.stdout));
    expect(report.options.isolation).toEqual(['read-committed', 'serializable']);
    expect(report.rules.map((r) => [r.ruleId, r.isolation, r.weakSpec])).toEqual([
      ['one-pending-request', 'read-committed', 1],
      ['one-pending-request', 'serializable', 1],
    ]);
    // The primary key enforces nothing of this rule: listed with why, not run, at each level.
    for (const rule of report.rules) expect(rule.mutants.find((m) => m.name === 'drop-constraint access_requests_pkey')).toMatchObject({ status: 'not-run', durationMs: 0 });
    // Nothing was written: without --report-dir, the one format chosen is the output.
    expect(readdirSync(dir)).toEqual(['dump.sql']);
  });

  it('builds the schema with --migrate-cmd, and writes only the --format files into --report-dir, the level in each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-mutate-'));
    const schema = join(dir, 'weak.sql');
    writeFileSync(schema, WEAK_SCHEMA);
    const summary = join(dir, 'step-summary.md');
    const command = `psql -q -v ON_ERROR_STOP=1 -f ${schema}`;
    const run = await pgconform(
      ['mutate', 'one-pending-request', '--migrate-cmd', command, '--format', 'markdown', 'junit', '--report-dir', join(dir, 'reports'), '--url', inject('embeddedUrl'), '--runs', '20', '--seed', '1', '--quiet'],
      { GITHUB_STEP_SUMMARY: summary },
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    expect(readdirSync(join(dir, 'reports')).sort()).toEqual(['junit.xml', 'mutate.md']);
    const markdown = readFileSync(join(dir, 'reports', 'mutate.md'), 'utf8');
    expect(markdown).toMatch(/\| ❌ one-pending-request \| read-committed \| \d+ \| 1 \|/);
    expect(markdown).toContain('| `drop-constraint access_requests_pkey` | not run: does not enforce the rule (');
    expect(readFileSync(summary, 'utf8')).toBe(`${markdown}\n`);
    expect(readFileSync(join(dir, 'reports', 'junit.xml'), 'utf8')).toMatch(/<testsuite name="one-pending-request \[read-committed\]"[^>]* failures="1"/);
  });

  it('exits 2 with one line for a --format it does not know, or several without --report-dir', async () => {
    const unknown = await pgconform(['mutate', '--format', 'html']);
    expect([unknown.code, unknown.stderr]).toEqual([2, 'pgconform: unknown --format "html" (choose from console, json, junit, markdown)\n']);
    const several = await pgconform(['mutate', '--format', 'json', 'junit']);
    expect([several.code, several.stderr]).toEqual([2, 'pgconform: --format json, junit without --report-dir: only one format can go to standard output (give --report-dir, or one --format)\n']);
  });
});
