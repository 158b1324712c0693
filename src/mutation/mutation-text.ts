import { displayPath } from '../spec/loader.ts';
import type { MutantResult, MutationResult, RuleMutation } from './mutation-run.ts';
import { schemaSummary } from '../source/schema-summary.ts';

/** A rule and the isolation level it was checked at, as every line naming it says. */
export function ruleLabel(rule: Pick<RuleMutation, 'ruleId' | 'isolation'>): string {
  return `${rule.ruleId} [${rule.isolation}]`;
}

/** A mutation run as console lines: a table of scores per rule and level, then each one's mutants with what became of them. */
export function mutationLines(result: MutationResult): string[] {
  const width = Math.max(4, ...result.rules.map((r) => ruleLabel(r).length));
  const lines = [
    `${'rule'.padEnd(width)}  killed  survived  n/a  score`,
    ...result.rules.map((rule) =>
      rule.baseline.verdict === 'pass'
        ? `${ruleLabel(rule).padEnd(width)}  ${String(rule.killed).padStart(6)}  ${String(rule.survived).padStart(8)}  ${String(rule.notApplicable).padStart(3)}  ${score(rule)}${rule.unscored ? `  (${rule.unscored} not run: their objects do not enforce it)` : ''}`
        : `${ruleLabel(rule).padEnd(width)}  fails on the original schema (${rule.baseline.verdict}): not scored`,
    ),
  ];
  for (const rule of result.rules) lines.push('', ...ruleLines(rule));
  const absent = result.skipped.filter((skip) => skip.kind === 'no-tables').map((skip) => skip.ruleId);
  if (absent.length > 0) lines.push('', `skipped, their tables are not in the schema: ${absent.join(', ')}`);
  for (const skip of result.skipped.filter((s) => s.kind === 'misfit')) lines.push('', `skipped ${skip.ruleId}: ${skip.reason}`);
  return lines;
}

/** One rule's mutants: killed ones in a line each, survivors with their class, explanation and example. */
export function ruleLines(rule: RuleMutation): string[] {
  const lines = [`${ruleLabel(rule)} — ${rule.title} (${schemaSummary(rule.schema.map(displayPath))})`];
  if (rule.baseline.verdict !== 'pass') {
    lines.push(
      `  the rule fails on the original schema (${rule.baseline.verdict}): its mutants are not scored; fix the schema or the spec first (pgconform run ${rule.ruleId} shows the counterexample)`,
    );
    return lines;
  }
  if (rule.mutants.length === 0) lines.push('  no object of the schema touches the rule\'s tables: nothing to mutate');
  for (const mutant of rule.mutants.filter((m) => m.apart === undefined)) lines.push(...mutantLines(mutant));
  const apart = rule.mutants.filter((m) => m.apart !== undefined);
  if (apart.length > 0) {
    lines.push(`  not run, their objects do not enforce this rule (--all-objects runs and scores them):`);
    for (const mutant of apart) lines.push(`    ${mutant.status === 'not-run' ? 'not run ' : mutant.status.padEnd(8)}  ${mutant.name}: ${mutant.apart}`);
  }
  return lines;
}

function mutantLines(mutant: MutantResult): string[] {
  switch (mutant.status) {
    case 'killed':
      return [`  killed    ${mutant.name} → ${mutant.verdict}${mutant.counterexampleSteps ? ` (${mutant.counterexampleSteps} steps)` : ''}`];
    case 'not-applicable':
      return [`  n/a       ${mutant.name}: ${mutant.reason}`];
    case 'not-run':
      return [`  not run   ${mutant.name}: does not enforce the rule`];
    case 'survived': {
      const survivor = mutant.survivor!;
      const lines = [`  SURVIVED  ${mutant.name}: ${survivor.explanation}`];
      if (survivor.kind === 'weak-spec' && survivor.example) lines.push(`    example (before: the original schema, after: the mutant)`, ...survivor.example.map((line) => `    ${line}`));
      return lines;
    }
  }
}

function score(rule: RuleMutation): string {
  if (rule.score === null) return '—';
  return `${Math.round(rule.score * 100)}%`.padStart(5);
}
