import { timeline } from '../report/timeline.ts';
import { displayPath } from '../spec/loader.ts';
import type { MappedObject } from './enforcement-map.ts';
import type { Explanation, RuleExplanation } from './explanation.ts';
import { schemaArguments, schemaSummary } from '../source/schema-summary.ts';

/** The explanation as console text: per rule its enforcing objects, related ones, fragilities, and the run's verdict. */
export function explanationLines(explanation: Explanation): string[] {
  const lines = explanation.rules.flatMap((rule, i) => [...(i > 0 ? [''] : []), ...ruleLines(rule)]);
  lines.push('');
  if (explanation.error) lines.push(`the confirming run stopped: ${explanation.error}`);
  const count = (status: string) => explanation.rules.filter((r) => r.confirmation?.status === status).length;
  const n = explanation.rules.length;
  if (explanation.run) {
    const counts = (['confirmed', 'refuted', 'held', 'broken', 'error'] as const).map((s) => `${count(s)} ${s}`).join(', ');
    lines.push(`${n} rule${n === 1 ? '' : 's'}: ${counts} (seed ${explanation.run.seed}, ${explanation.run.runs} runs)`);
  } else {
    const fragile = explanation.rules.filter((r) => r.map.fragilities.some((f) => f.severity === 'warning')).length;
    lines.push(`${n} rule${n === 1 ? '' : 's'} mapped, ${fragile} fragile by construction (not run: --no-run)`);
  }
  return lines;
}

function ruleLines(rule: RuleExplanation): string[] {
  const lines = [`${rule.id} — ${rule.title} (${rule.source})`, `  schema: ${schemaSummary(rule.schema.map(displayPath))}`];
  const enforcing = rule.map.objects.filter((o) => o.enforces);
  const related = rule.map.objects.filter((o) => !o.enforces);
  lines.push(enforcing.length > 0 ? '  enforced by:' : '  enforced by: nothing');
  for (const object of enforcing) lines.push(`    ${objectLine(object)}`, ...definitionLines(object.definition));
  if (related.length > 0) {
    lines.push("  also on the rule's columns (they do not enforce it):");
    for (const object of related) lines.push(`    ${objectLine(object)}`);
  }
  const warnings = rule.map.fragilities.filter((f) => f.severity === 'warning');
  const notes = rule.map.fragilities.filter((f) => f.severity === 'note');
  lines.push(warnings.length > 0 ? '  fragile by construction:' : '  fragile by construction: nothing found in the schema');
  for (const f of warnings) lines.push(`    ! ${f.object ? `${f.object} ` : ''}${f.reason}`);
  for (const f of notes) lines.push(`    note: ${f.object ? `${f.object} ` : ''}${f.reason}`);
  const confirmation = rule.confirmation;
  if (!confirmation) return lines;
  lines.push(`  ${confirmation.statement}`);
  const c = confirmation.counterexample;
  if (c) {
    for (const line of timeline(c.history, { highlight: c.atEvent })) lines.push(`    ${line}`);
    for (const row of (c.offendingRows ?? []).slice(0, 5)) lines.push(`    offending: ${JSON.stringify(row)}`);
    lines.push(`    replay: pgconform run ${rule.id} --schema ${schemaArguments(rule.schema.map(displayPath))} --seed ${c.seed}${c.path ? ` --path ${c.path}` : ''}`);
  }
  return lines;
}

/** "uq_x on access_requests — unique index on (…)"; a NOT NULL is named by its column. */
function objectLine(object: MappedObject): string {
  return `${object.name}${object.kind === 'not null' ? '' : ` on ${object.table}`} — ${object.role}`;
}

/** A definition indented under its object, one line per source line. */
function definitionLines(definition: string): string[] {
  return definition.split('\n').map((line) => `        ${line}`);
}
