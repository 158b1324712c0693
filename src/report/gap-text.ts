import type { ReportDocument } from './report-document.ts';

type Check = ReportDocument['rules'][number]['checks'][number];

/** A check's generator gaps in plain lines (a headline, then one line per constraint), or none. */
export function gapLines(check: Check): string[] {
  const g = check.generatorGaps;
  if (!g || g.gaps.length === 0) return [];
  return [gapHeadline(check), ...g.gaps.map(gapLine)];
}

/** "generator gaps: 12 of 200 scenarios …, 3 lost before any judged step". */
export function gapHeadline(check: Check): string {
  const g = check.generatorGaps!;
  return `generator gaps: ${g.executions} of ${check.runs} scenarios had a step refused by an object that enforces nothing the rule states (not judged), ${g.lost} lost before any judged step`;
}

/** One gap: the constraint, its table and definition, how often, and an example statement. */
export function gapLine(gap: NonNullable<Check['generatorGaps']>['gaps'][number]): string {
  const params = gap.example.params.length > 0 ? ` with ${JSON.stringify(gap.example.params)}` : '';
  return `not judged: the generator wrote a row that ${gap.constraint} on ${gap.table} rejects (${gap.definition}), in ${gap.executions} scenario${gap.executions === 1 ? '' : 's'}; e.g. ${gap.example.label}: ${gap.example.statement}${params}`;
}
