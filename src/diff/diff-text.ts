import type { HistoryEvent } from '../engine/history.ts';
import { displayPath } from '../spec/loader.ts';
import type { BehaviourChange, ChangeExample, Judged, RuleDiff } from './behaviour-diff.ts';
import type { SchemaDiff } from './diff-schemas.ts';
import type { Direction } from './divergence.ts';
import { eventsByStep } from './divergence.ts';
import { schemaSummary } from '../source/schema-summary.ts';

const KIND: Record<Direction, Record<Judged, string>> = {
  'newly-accepted': {
    allowed: 'newly accepted, allowed by the rule',
    breaks: 'newly accepted, breaks the rule',
    unjudged: 'newly accepted, not judged: inside a longer transaction or beside another',
  },
  'newly-rejected': {
    allowed: 'newly rejected, allowed by the rule',
    breaks: 'newly rejected, broke the rule',
    unjudged: 'newly rejected, not judged: inside a longer transaction or beside another',
  },
};

/** Steps of an example shown before the changed one; earlier ones are counted, not printed. */
const CONTEXT_STEPS = 12;

/** A schema diff as console lines: per rule the verdicts, the sentence, and every kind of change with its example. */
export function diffLines(diff: SchemaDiff): string[] {
  const lines = [`before: ${schemaSummary(diff.before.map(displayPath))}`, `after:  ${schemaSummary(diff.after.map(displayPath))}`];
  for (const rule of diff.rules) lines.push('', ...ruleDiffLines(rule));
  const absent = diff.skipped.filter((skip) => skip.kind === 'no-tables').map((skip) => skip.ruleId);
  if (absent.length > 0) lines.push('', `skipped, their tables are not in both schemas: ${absent.join(', ')}`);
  for (const skip of diff.skipped.filter((s) => s.kind === 'misfit')) lines.push('', `skipped ${skip.ruleId}: ${skip.reason}`);
  return lines;
}

/** One rule's diff as console lines. */
export function ruleDiffLines(rule: RuleDiff): string[] {
  const lines = [`${rule.ruleId} — ${rule.title} [${rule.isolation}, ${rule.runs} scenarios, seed ${rule.seed}]`];
  if (rule.verdicts) lines.push(`  verdict: ${rule.verdicts.before.verdict} → ${rule.verdicts.after.verdict}`);
  lines.push(`  ${rule.summary}`);
  for (const change of rule.changes) lines.push(...changeLines(change, rule.runs));
  for (const reason of rule.regressions) lines.push(`  regression: ${reason}`);
  return lines;
}

function changeLines(change: BehaviourChange, runs: number): string[] {
  return [
    `  ${KIND[change.direction][change.judged]} (${change.scenarios} of ${runs} scenarios): ${change.description}`,
    ...exampleLines(change.example).map((line) => `    ${line}`),
  ];
}

/** The example step by step in the order the before schema ran it, up to the changed step (▶), with both outcomes. */
export function exampleLines(example: ChangeExample): string[] {
  const afterByStep = eventsByStep(example.after.history);
  const shown = [...eventsByStep(example.before.history)].filter(([, event]) => event.index <= example.divergence.beforeEvent);
  const lines: string[] = [];
  if (shown.length > CONTEXT_STEPS) lines.push(`  … ${shown.length - CONTEXT_STEPS} earlier steps`);
  for (const [key, event] of shown.slice(-CONTEXT_STEPS)) {
    const other = afterByStep.get(key);
    const mark = event.index === example.divergence.beforeEvent ? '▶' : ' ';
    lines.push(`${mark} s${event.session + 1} ${event.label}`);
    lines.push(`      before: ${outcome(event)} · after: ${other ? outcome(other) : 'not run'}`);
  }
  return lines;
}

/** An outcome in a few words, without the server's message: "rejected 23505 uq_care_team_primary". */
function outcome(event: HistoryEvent): string {
  const waited = event.waitedFor?.length ? ` (waited for s${event.waitedFor.map((s) => s + 1).join(', s')})` : '';
  const o = event.outcome;
  switch (o.status) {
    case 'ok':
      return `${event.kind === 'op' ? `ok (${o.rowCount} row${o.rowCount === 1 ? '' : 's'})` : 'ok'}${waited}`;
    case 'skipped':
      return 'skipped';
    default:
      return `${o.status} ${o.failure.code}${o.failure.constraint ? ` ${o.failure.constraint}` : ''}${waited}`;
  }
}
