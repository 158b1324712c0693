import type { RuleCheck } from '../engine/rule-check.ts';
import { timeline } from '../report/timeline.ts';
import type { Rule } from '../rules/rule.ts';
import { displayPath } from '../spec/loader.ts';
import { schemaSummary } from '../source/schema-summary.ts';

const MAX_ROWS = 10;

/**
 * A failed check as a test failure message: what broke, the counterexample as a timeline (one column
 * per session), the offending rows, and the options that replay exactly this search.
 */
export function failureMessage(rule: Rule, check: RuleCheck, schema: readonly string[]): string {
  const lines = [`${rule.id} — ${rule.title}: ${check.verdict.toUpperCase()} [${check.isolation}], schema ${schemaSummary(schema.map(displayPath))}`];
  const c = check.counterexample;
  if (check.verdict === 'error' || !c) {
    lines.push(`the check could not decide: ${check.error ?? 'no counterexample was kept'}`, ...check.notes);
    return lines.join('\n');
  }
  const verdict = c.verdict;
  const at = verdict.kind === 'violation' || verdict.kind === 'over-restrictive' ? verdict.atEvent : undefined;
  if (verdict.kind === 'violation') lines.push(`a committed state breaks the rule after step ${(at ?? 0) + 1}:`);
  if (verdict.kind === 'over-restrictive') lines.push(`the schema rejected step ${(at ?? 0) + 1}, which the rule allows: ${verdict.judgement.reason}`);
  lines.push('', ...timeline(c.history, { highlight: at }), '');
  if (verdict.kind === 'violation') {
    lines.push('offending rows:', ...verdict.rows.slice(0, MAX_ROWS).map((row) => `  ${JSON.stringify(row)}`));
    if (verdict.rows.length > MAX_ROWS) lines.push(`  … ${verdict.rows.length - MAX_ROWS} more`);
  }
  if (verdict.kind === 'over-restrictive') {
    lines.push('committed rows when it was rejected:', ...Object.entries(verdict.state).flatMap(([table, rows]) => rows.slice(0, MAX_ROWS).map((row) => `  ${table} ${JSON.stringify(row)}`)));
  }
  lines.push(
    c.foundBy === 'truth-table'
      ? 'found by the truth-table probe, which every run repeats'
      : `found with seed ${c.seed}, path ${c.path} (${c.shrinks} shrinks); replay: add { seed: ${c.seed}, path: ${JSON.stringify(c.path)} } to the conformance options`,
  );
  return lines.join('\n');
}
