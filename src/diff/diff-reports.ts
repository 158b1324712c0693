import type { Renderings } from '../report/document-output.ts';
import { escapeXml } from '../report/junit-reporter.ts';
import { schemaSummary } from '../source/schema-summary.ts';
import type { DiffDocument } from './diff-document.ts';

// The reports of `pgconform diff` for a pull request, chosen by --format (see document-output.ts): the console
// text, diff.json (the document), diff.md (the verdict and one line per rule first, the evidence under a
// collapsed <details>) and junit.xml (a test case per rule and isolation level, failing on a regression).

/** The diff in each --format; `evidence` is the long text that follows the verdict and one line per rule. */
export function diffRenderings(document: DiffDocument, evidence: readonly string[]): Renderings {
  return {
    console: { text: () => diffConsole(document, evidence).join('\n') },
    json: { file: 'diff.json', text: () => `${JSON.stringify(document, null, 2)}\n` },
    markdown: { file: 'diff.md', text: () => diffMarkdown(document, evidence) },
    junit: { file: 'junit.xml', text: () => diffJunit(document) },
  };
}

/** The console text: the verdict and one line per rule and level first; the long evidence after it. */
export function diffConsole(document: DiffDocument, evidence: readonly string[]): string[] {
  return [
    `${diffVerdictLine(document)} (seed ${document.seed})`,
    ...document.rules.map((rule) => `  ${rule.regressions.length > 0 ? 'REGRESSION' : 'same      '} ${rule.ruleId} [${rule.isolation}]: ${rule.regressions[0] ?? rule.summary}`),
    '',
    ...evidence,
  ];
}

/** One line for the verdict of a diff. */
export function diffVerdictLine(document: DiffDocument): string {
  const regressions = document.rules.filter((rule) => rule.regressions.length > 0);
  switch (document.verdict) {
    case 'regression':
      return `regression in ${regressions.length} of ${document.rules.length} rule checks`;
    case 'unsafe-migration':
      return `the migration is unsafe for ${document.migrations.filter((m) => m.problems.length > 0).length} of ${document.migrations.length} rules`;
    case 'nothing-compared':
      return `compared no rule (${document.skipped.length} skipped)`;
    default:
      return `no regression in ${document.rules.length} rule checks${document.migrations.length ? `; the migration is safe for ${document.migrations.length} rules` : ''}`;
  }
}

/** diff.md: the verdict, a table of rules with the one-line reason, then the evidence collapsed. */
export function diffMarkdown(document: DiffDocument, evidence: readonly string[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `## pgconform diff: ${diffVerdictLine(document)}`,
    '',
    `before \`${schemaSummary(document.before)}\`${document.after ? ` · after \`${schemaSummary(document.after)}\`` : ''} · seed ${document.seed} · ${document.runs} scenarios · ${document.isolation.join(', ')}`,
    '',
  ];
  if (document.rules.length > 0) {
    lines.push('| rule | isolation | verdict | change |', '| --- | --- | --- | --- |');
    for (const rule of document.rules) {
      const verdict = rule.verdicts ? `${rule.verdicts.before} → ${rule.verdicts.after}` : '—';
      const mark = rule.regressions.length > 0 ? '❌ ' : '';
      lines.push(`| ${mark}${cell(rule.ruleId)} | ${rule.isolation} | ${verdict} | ${cell(rule.regressions[0] ?? rule.summary)} |`);
    }
    lines.push('');
  }
  for (const migration of document.migrations) lines.push(`- migration, ${cell(migration.ruleId)}: ${cell(migration.summary)}`);
  if (document.skipped.length > 0) lines.push(`- skipped: ${document.skipped.map((s) => s.ruleId).join(', ')}`);
  if (evidence.length > 0) lines.push('', '<details><summary>evidence</summary>', '', '```text', ...evidence, '```', '', '</details>');
  return `${lines.join('\n')}\n`;
}

/** junit.xml: one test case per rule and isolation level; a regression is a failure. */
export function diffJunit(document: DiffDocument): string {
  const cases = document.rules.map((rule) => {
    const name = escapeXml(`${rule.ruleId} [${rule.isolation}]`);
    const body = rule.regressions.length > 0 ? `<failure message="${escapeXml(rule.regressions[0]!)}">${escapeXml(rule.regressions.join('\n'))}</failure>` : '';
    return `    <testcase classname="pgconform.diff" name="${name}">${body}</testcase>`;
  });
  const migrations = document.migrations.map((m) => {
    const body = m.problems.length > 0 ? `<failure message="${escapeXml(m.problems[0]!)}">${escapeXml(m.summary)}</failure>` : '';
    return `    <testcase classname="pgconform.diff.migration" name="${escapeXml(m.ruleId)}">${body}</testcase>`;
  });
  const failures = document.rules.filter((r) => r.regressions.length > 0).length + document.migrations.filter((m) => m.problems.length > 0).length;
  const tests = cases.length + migrations.length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="pgconform diff" tests="${tests}" failures="${failures}">`,
    `  <testsuite name="pgconform diff" tests="${tests}" failures="${failures}" errors="0">`,
    ...cases,
    ...migrations,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
