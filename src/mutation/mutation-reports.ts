import type { Renderings } from '../report/document-output.ts';
import { escapeXml } from '../report/junit-reporter.ts';
import type { MutationDocument } from './mutation-document.ts';

// The reports of `pgconform mutate`, chosen by --format (see document-output.ts): the console text, mutate.json,
// mutate.md for the pull request (a score table first, then the survivors that fail the run, the rest collapsed)
// and junit.xml (a test case per scored mutant and isolation level, failing when a behaviour-changing one survives).

/** The mutation run in each --format; the console text is mutation-text.ts's. */
export function mutationRenderings(document: MutationDocument, consoleText: () => string): Renderings {
  return {
    console: { text: consoleText },
    json: { file: 'mutate.json', text: () => `${JSON.stringify(document, null, 2)}\n` },
    markdown: { file: 'mutate.md', text: () => mutationMarkdown(document) },
    junit: { file: 'junit.xml', text: () => mutationJunit(document) },
  };
}

/** A rule and the level it was checked at, as every report names it. */
function labelOf(rule: MutationDocument['rules'][number]): string {
  return `${rule.ruleId} [${rule.isolation}]`;
}

/** mutate.md: the score per rule, the survivors that make the spec too weak, and every mutant under <details>. */
export function mutationMarkdown(document: MutationDocument): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `## pgconform mutate (seed ${document.options.seed}, ${document.options.runs} scenarios, ${document.options.isolation.join(', ')})`,
    '',
    '| rule | isolation | killed | survived | n/a | score | not run |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const rule of document.rules) {
    const score = rule.baseline.verdict !== 'pass' ? `fails on the original (${rule.baseline.verdict})` : rule.score === null ? '—' : `${Math.round(rule.score * 100)}%`;
    lines.push(`| ${rule.weakSpec > 0 || rule.baseline.verdict !== 'pass' ? '❌ ' : ''}${cell(rule.ruleId)} | ${rule.isolation} | ${rule.killed} | ${rule.survived} | ${rule.notApplicable} | ${score} | ${rule.unscored} |`);
  }
  for (const rule of document.rules) {
    const weak = rule.mutants.filter((m) => m.apart === undefined && m.survivor?.kind === 'weak-spec');
    for (const mutant of weak) lines.push('', `- **${cell(labelOf(rule))}**: \`${cell(mutant.name)}\` survived: ${cell(mutant.survivor!.explanation)}`);
    lines.push('', `<details><summary>${cell(labelOf(rule))}: every mutant</summary>`, '', '| mutant | outcome |', '| --- | --- |');
    for (const mutant of rule.mutants) lines.push(`| \`${cell(mutant.name)}\` | ${cell(outcomeOf(mutant))} |`);
    lines.push('', '</details>');
  }
  return `${lines.join('\n')}\n`;
}

function outcomeOf(mutant: MutationDocument['rules'][number]['mutants'][number]): string {
  switch (mutant.status) {
    case 'killed':
      return `killed (${mutant.verdict})${mutant.apart ? ' (not scored)' : ''}`;
    case 'survived':
      return `survived: ${mutant.survivor?.kind}${mutant.apart ? ' (not scored)' : ''}`;
    case 'not-run':
      return `not run: does not enforce the rule (${mutant.apart ?? ''})`;
    default:
      return `n/a: ${mutant.reason ?? ''}`;
  }
}

/** junit.xml: per rule and level a suite, per scored mutant a case; a behaviour-changing survivor, or a rule failing on the original, is a failure. */
export function mutationJunit(document: MutationDocument): string {
  const suites = document.rules.map((rule) => {
    const scored = rule.mutants.filter((m) => m.apart === undefined);
    const cases = scored.map((m) => {
      const failure = m.survivor?.kind === 'weak-spec' ? `<failure message="${escapeXml(m.survivor.explanation)}">${escapeXml((m.survivor.example ?? []).join('\n'))}</failure>` : '';
      const skipped = m.status === 'not-applicable' ? `<skipped message="${escapeXml(m.reason ?? 'not applicable')}"/>` : '';
      return `    <testcase classname="pgconform.mutate.${escapeXml(rule.ruleId)}" name="${escapeXml(`${m.name} [${rule.isolation}]`)}">${failure}${skipped}</testcase>`;
    });
    if (rule.baseline.verdict !== 'pass') cases.unshift(`    <testcase classname="pgconform.mutate.${escapeXml(rule.ruleId)}" name="${escapeXml(`original schema [${rule.isolation}]`)}"><failure message="the rule fails on the original schema (${rule.baseline.verdict})"/></testcase>`);
    const failures = scored.filter((m) => m.survivor?.kind === 'weak-spec').length + (rule.baseline.verdict !== 'pass' ? 1 : 0);
    return [`  <testsuite name="${escapeXml(labelOf(rule))}" tests="${cases.length}" failures="${failures}" errors="0">`, ...cases, '  </testsuite>'].join('\n');
  });
  return ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites name="pgconform mutate">', ...suites, '</testsuites>', ''].join('\n');
}
