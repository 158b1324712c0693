// Scale-out across CI machines: four shards of a run, merged, give the verdicts of the unsharded run.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';

import { pgconform } from './cli-run.ts';

const RULES = ['one-pending-request', 'one-primary-provider', 'one-active-membership', 'super-admin-tenant', 'super-admin-tenant-strict'];

type Report = { exitCode: number; rules: Array<{ id: string; verdict: string; checks: Array<{ isolation: string; verdict: string; runs: number }> }> };
const verdicts = (report: Report) =>
  report.rules.flatMap((r) => r.checks.map((c) => `${r.id} [${c.isolation}] ${c.verdict} ${c.runs}`)).sort();

describe('--shard and merge', () => {
  it('four shards merged give the same verdicts as one unsharded run', async () => {
    const common = [...RULES, '--url', inject('embeddedUrl'), '--seed', '1', '--runs', '50', '--isolation', 'read-committed', 'serializable', '--quiet'];
    const whole = mkdtempSync(join(tmpdir(), 'pgconform-whole-'));
    const wholeRun = await pgconform(['run', ...common, '--format', 'json', '--report-dir', whole]);
    expect(wholeRun.code, wholeRun.stderr).toBe(1);
    const shards: string[] = [];
    for (const i of [1, 2, 3, 4]) {
      const dir = mkdtempSync(join(tmpdir(), `pgconform-shard${i}-`));
      const run = await pgconform(['run', ...common, '--shard', `${i}/4`, '--format', 'json', '--report-dir', dir]);
      expect([0, 1], run.stderr).toContain(run.code);
      shards.push(join(dir, 'report.json'));
    }
    // Every check runs in exactly one shard.
    const perShard = shards.map((file) => verdicts(JSON.parse(readFileSync(file, 'utf8')) as Report).length);
    expect(perShard.reduce((a, b) => a + b)).toBe(RULES.length * 2);
    expect(Math.max(...perShard) - Math.min(...perShard)).toBeLessThanOrEqual(1);
    const merged = mkdtempSync(join(tmpdir(), 'pgconform-merged-'));
    const merge = await pgconform(['merge', ...shards, '--report-dir', merged, '--quiet']);
    const wholeReport = JSON.parse(readFileSync(join(whole, 'report.json'), 'utf8')) as Report;
    const mergedReport = JSON.parse(readFileSync(join(merged, 'report.json'), 'utf8')) as Report;
    expect(merge.code).toBe(wholeReport.exitCode);
    expect(verdicts(mergedReport)).toEqual(verdicts(wholeReport));
    expect(mergedReport.rules.map((r) => [r.id, r.verdict]).sort()).toEqual(wholeReport.rules.map((r) => [r.id, r.verdict]).sort());
  });

  it('refuses a bad --shard and reports merged twice (exit 2)', async () => {
    expect((await pgconform(['run', '--shard', '5/4'])).stderr).toMatch(/--shard must be i\/n/);
    const dir = mkdtempSync(join(tmpdir(), 'pgconform-twice-'));
    expect((await pgconform(['run', 'super-admin-tenant-strict', '--url', inject('embeddedUrl'), '--runs', '5', '--format', 'json', '--report-dir', dir, '--quiet'])).code).toBe(1);
    const twice = await pgconform(['merge', join(dir, 'report.json'), join(dir, 'report.json'), '--report-dir', dir]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/is in both/);
  });
});
