import type { LoadedSpec } from '../spec/loader.ts';
import type { IsolationLevel } from '../engine/scenario.ts';
import type { Execution } from '../engine/executor.ts';
import type { RuleCheck } from '../engine/rule-check.ts';
import type { Reporter, ReporterContext } from './reporter.ts';
import type { ReportDocument } from './report-document.ts';
import { gapLines } from './gap-text.ts';
import { timeline } from './timeline.ts';
import { schemaSummary } from '../source/schema-summary.ts';

const MARK: Record<string, string> = { pass: 'PASS', violation: 'VIOLATION', 'over-restrictive': 'OVER-RESTRICTIVE', error: 'ERROR' };

/** Live progress on stderr (TTY only), then a verdict table and every counterexample as a timeline. */
export class ConsoleReporter implements Reporter {
  readonly name = 'console';
  private readonly live: boolean;
  private progress = new Map<string, { runs: number; steps: number; started: number }>();
  private lastDraw = 0;
  private budget = 0;

  constructor(private readonly context: ReporterContext) {
    this.live = !context.quiet && process.stderr.isTTY === true;
  }

  onRunStart(info: { options: { runs: number } }): void {
    this.budget = info.options.runs;
  }

  onCheckStart(spec: LoadedSpec, isolation: IsolationLevel): void {
    this.progress.set(`${spec.rule.id} ${isolation}`, { runs: 0, steps: 0, started: performance.now() });
  }

  onExecution(spec: LoadedSpec, isolation: IsolationLevel, execution: Execution): void {
    const entry = this.progress.get(`${spec.rule.id} ${isolation}`);
    if (!entry) return;
    entry.runs++;
    entry.steps += execution.steps;
    const now = performance.now();
    if (this.live && now - this.lastDraw > 100) {
      this.lastDraw = now;
      const line = [...this.progress]
        .map(([key, p]) => {
          const seconds = (now - p.started) / 1000;
          // Shrinking executes scenarios too, so runs may pass the budget once a failure is found.
          return `${key}: ${p.runs}/${this.budget} runs, ${Math.round(p.steps / Math.max(seconds, 0.001))} steps/s, ${seconds.toFixed(1)}s`;
        })
        .join(' | ');
      process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
    }
  }

  onCheckEnd(spec: LoadedSpec, check: RuleCheck): void {
    this.progress.delete(`${spec.rule.id} ${check.isolation}`);
    if (this.live) process.stderr.write('\r\x1b[K');
    if (!this.context.quiet) {
      this.context.out(`${MARK[check.verdict]?.padEnd(16)} ${spec.rule.id} [${check.isolation}] ${check.runs} runs, ${(check.durationMs / 1000).toFixed(1)}s`);
    }
  }

  async onRunEnd(document: ReportDocument): Promise<void> {
    const out = this.context.out;
    out('');
    out(`${'rule'.padEnd(30)} ${'isolation'.padEnd(16)} ${'verdict'.padEnd(17)} ${'runs'.padStart(6)} ${'time'.padStart(7)}`);
    for (const rule of document.rules) {
      for (const check of rule.checks) {
        out(`${rule.id.padEnd(30)} ${check.isolation.padEnd(16)} ${(MARK[check.verdict] ?? check.verdict).padEnd(17)} ${String(check.runs).padStart(6)} ${`${(check.durationMs / 1000).toFixed(1)}s`.padStart(7)}`);
      }
    }
    for (const rule of document.rules) {
      for (const check of rule.checks) {
        if (check.truthTable && check.truthTable.rows.some((row) => !row.ok)) {
          out('');
          out(`${rule.id} [${check.isolation}] truth table:`);
          for (const row of check.truthTable.rows) {
            out(`  ${row.ok ? ' ' : '✗'} ${row.cell.padEnd(44)} must ${row.expected.padEnd(6)}  insert: ${row.insert}; update: ${row.update}`);
          }
        }
        const c = check.counterexample;
        if (check.error) out(`\n${rule.id} [${check.isolation}] ERROR: ${check.error}`);
        for (const note of check.notes) out(`\n${rule.id} [${check.isolation}] note: ${note}`);
        const gaps = gapLines(check);
        if (gaps.length > 0) out(`\n${rule.id} [${check.isolation}] ${gaps[0]}`);
        for (const line of gaps.slice(1)) out(`  ${line}`);
        if (!c) continue;
        out('');
        out(`${MARK[c.kind]}: ${rule.id} — ${rule.title} [${check.isolation}], schema ${schemaSummary(rule.schema)}`);
        out(
          c.kind === 'violation'
            ? `  a committed state breaks the rule after step ${(c.atEvent ?? 0) + 1}:`
            : `  the schema rejected step ${(c.atEvent ?? 0) + 1}, which the rule allows: ${c.judgement ?? ''}`,
        );
        for (const line of timeline(c.history, { highlight: c.atEvent })) out(`  ${line}`);
        if (c.offendingRows) {
          out('  offending rows:');
          for (const row of c.offendingRows.slice(0, 10)) out(`    ${JSON.stringify(row)}`);
        }
        out(`  found by ${c.foundBy}${c.foundBy === 'property' ? ` (seed ${c.seed}, path ${c.path}, ${c.shrinks} shrinks)` : ''}`);
        out(`  replay: ${c.replay}`);
      }
    }
    const s = document.summary;
    out('');
    out(`${s.rules} rules: ${s.pass} pass, ${s.violation} violation, ${s.overRestrictive} over-restrictive, ${s.error} error (seed ${document.options.seed}, ${(document.durationMs / 1000).toFixed(1)}s)`);
  }
}
