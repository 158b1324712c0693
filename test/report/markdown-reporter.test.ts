// summary.md from real runs: the verdict table, one folded block per failure with the interleaving
// and the replay command, the append to $GITHUB_STEP_SUMMARY, and redaction.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MarkdownReporter } from '../../src/report/markdown-reporter.ts';
import { createReporters } from '../../src/report/registry.ts';
import type { ReportDocument } from '../../src/report/report-document.ts';
import { checksOf, copyOf, localServerReachable, realRuns, removeScratch, type RealRuns } from './real-runs.ts';

const VERDICT = { pass: '✅ pass', violation: '❌ violation', 'over-restrictive': '⚠️ over-restrictive', error: '💥 error' } as const;

/** Writes summary.md through the registry, as the CLI does. */
async function writeSummary(document: ReportDocument, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const [reporter] = createReporters(['markdown'], { reportDir: dir, out: () => undefined, quiet: true });
  expect(await reporter!.onRunEnd(document)).toBe(join(dir, 'summary.md'));
  return readFile(join(dir, 'summary.md'), 'utf8');
}

const reachable = await localServerReachable();

describe.skipIf(!reachable)('markdown reporter on real runs', () => {
  let runs: RealRuns;
  const savedStepSummary = process.env.GITHUB_STEP_SUMMARY;
  beforeAll(async () => {
    runs = await realRuns();
  });
  afterAll(() => removeScratch(runs?.dir));
  afterEach(() => {
    if (savedStepSummary === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = savedStepSummary;
  });

  it('has a table row per rule and isolation level, and a folded block per failure with its replay command', async () => {
    delete process.env.GITHUB_STEP_SUMMARY;
    for (const [name, document] of Object.entries({ overRestrictive: runs.overRestrictive, race: runs.race, waited: runs.waited })) {
      const md = await writeSummary(document, join(runs.dir, 'markdown', name));
      expect(md).toContain('| rule | isolation | verdict | runs | time |');
      for (const { rule, check } of checksOf(document)) {
        expect(md).toContain(`| \`${rule.id}\` | ${check.isolation} | ${VERDICT[check.verdict]} | ${check.runs} | ${(check.durationMs / 1000).toFixed(1)}s |`);
        if (check.counterexample) expect(md).toContain(`\`\`\`sh\n${check.counterexample.replay}\n\`\`\``);
      }
      const failing = checksOf(document).filter(({ check }) => check.verdict !== 'pass');
      expect(md.match(/<details>/g)?.length ?? 0).toBe(failing.length);
      expect(md.match(/<\/details>/g)?.length ?? 0).toBe(failing.length);
    }
  });

  it('shows the interleaving with one column per session, the broken step marked, and the offending rows', async () => {
    const md = await writeSummary(runs.race, join(runs.dir, 'markdown', 'race-steps'));
    const c = runs.race.rules[0]!.checks[0]!.counterexample!;
    expect(md).toContain('| step | session 1 | session 2 |');
    const rows = md.split('\n').filter((line) => /^\| (\*\*▶ )?\d+(\*\*)? \|/.test(line));
    expect(rows).toHaveLength(c.history.length);
    for (const [i, event] of c.history.entries()) {
      // The step sits in its session's column: session s is the (s + 2)th cell.
      const cells = rows[i]!.split(/(?<!\\)\|/).slice(1, -1);
      expect(cells).toHaveLength(3);
      expect(cells[event.session + 1]).toContain(event.label);
    }
    expect(rows[c.atEvent!]).toContain('**▶');
    expect(rows[c.atEvent!]).toContain('rule broken here');
    expect(md).toContain(`\`\`\`json\n${JSON.stringify(c.offendingRows![0])}`);
  });

  it('notes a wait in the step that waited', async () => {
    const md = await writeSummary(runs.waited, join(runs.dir, 'markdown', 'waited'));
    const waited = runs.waited.rules[0]!.checks[0]!.counterexample!.history.find((e) => e.waitedFor?.length)!;
    // Waiting, when the run reached its verdict before the step ended.
    expect(md).toMatch(new RegExp(`⏳ (waited|waiting) for session ${waited.waitedFor![0]! + 1}`));
  });

  it('appends the same Markdown to $GITHUB_STEP_SUMMARY, after what earlier steps wrote', async () => {
    const stepSummary = join(runs.dir, 'markdown', 'step-summary.md');
    await mkdir(join(runs.dir, 'markdown'), { recursive: true });
    await writeFile(stepSummary, '# earlier step\n');
    process.env.GITHUB_STEP_SUMMARY = stepSummary;
    const first = await writeSummary(runs.race, join(runs.dir, 'markdown', 'gh-1'));
    const second = await writeSummary(runs.overRestrictive, join(runs.dir, 'markdown', 'gh-2'));
    expect(await readFile(stepSummary, 'utf8')).toBe(`# earlier step\n${first}\n${second}\n`);
  });

  it('leaves $GITHUB_STEP_SUMMARY alone when it is not set', async () => {
    // The environment the reporter was given decides, not whatever the process has.
    const untouched = join(runs.dir, 'markdown', 'never-written.md');
    process.env.GITHUB_STEP_SUMMARY = untouched;
    const reporter = new MarkdownReporter({ reportDir: join(runs.dir, 'markdown', 'no-env'), out: () => undefined, quiet: true }, {});
    await reporter.onRunEnd(runs.race);
    expect(existsSync(untouched)).toBe(false);
    expect(existsSync(join(runs.dir, 'markdown', 'no-env', 'summary.md'))).toBe(true);
  });

  it('keeps text from the run inert and hides passwords', async () => {
    const document = copyOf(runs.race);
    const check = document.rules[0]!.checks[0]!;
    check.notes.push('retried on postgresql://app:s3cret@db/x');
    check.counterexample!.history[0]!.label = 'insert <img src=x onerror=alert(1)> | `tick` *bold*';
    document.rules[0]!.title = '<script>alert(1)</script>';
    const md = await writeSummary(document, join(runs.dir, 'markdown', 'hostile'));
    expect(md).not.toContain('s3cret');
    expect(md).toContain('postgresql://app:\\*\\*\\*@db/x');
    expect(md).not.toContain('<script>');
    expect(md).not.toContain('<img');
    expect(md).toContain('&lt;script&gt;');
    // A pipe in a cell would split it, a backtick would end the code span.
    const step = md.split('\n').find((line) => line.includes('onerror'))!;
    expect(step.split(/(?<!\\)\|/).slice(1, -1)).toHaveLength(3);
    expect(step).not.toMatch(/`[^`]*`tick/);
  });
});
