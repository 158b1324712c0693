import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeXml } from '../report/junit-reporter.ts';
import type { MutationDocument } from './mutation-document.ts';

// The reports of `pgconform mutate` beside mutate.json: mutate.md for the pull request (a score table first,
// then the survivors that fail the run, the rest collapsed; appended to $GITHUB_STEP_SUMMARY when set) and
// junit.xml (a test case per scored mutant, failing when a behaviour-changing one survives).

/** Writes mutate.md and junit.xml into `dir` (which exists) and returns their paths. */
export async function writeMutationReports(dir: string, document: MutationDocument, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const markdown = mutationMarkdown(document);
  await writeFile(join(dir, 'mutate.md'), markdown);
  await writeFile(join(dir, 'junit.xml'), mutationJunit(document));
  // Appended: earlier steps of the job may have written their own summaries there.
  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
  return [join(dir, 'mutate.md'), join(dir, 'junit.xml')];
}

/** mutate.md: the score per rule, the survivors that make the spec too weak, and every mutant under <details>. */
export function mutationMarkdown(document: MutationDocument): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [`## pgconform mutate (seed ${document.options.seed}, ${document.options.runs} scenarios, ${document.options.isolation})`, '', '| rule | killed | survived | n/a | score | not scored |', '| --- | --- | --- | --- | --- | --- |'];
  for (const rule of document.rules) {
    const score = rule.baseline.verdict !== 'pass' ? `fails on the original (${rule.baseline.verdict})` : rule.score === null ? '—' : `${Math.round(rule.score * 100)}%`;
    lines.push(`| ${rule.weakSpec > 0 || rule.baseline.verdict !== 'pass' ? '❌ ' : ''}${cell(rule.ruleId)} | ${rule.killed} | ${rule.survived} | ${rule.notApplicable} | ${score} | ${rule.unscored} |`);
  }
  for (const rule of document.rules) {
    const weak = rule.mutants.filter((m) => m.apart === undefined && m.survivor?.kind === 'weak-spec');
    for (const mutant of weak) lines.push('', `- **${cell(rule.ruleId)}**: \`${cell(mutant.name)}\` survived: ${cell(mutant.survivor!.explanation)}`);
    lines.push('', `<details><summary>${cell(rule.ruleId)}: every mutant</summary>`, '', '| mutant | outcome |', '| --- | --- |');
    for (const mutant of rule.mutants) {
      const outcome = mutant.status === 'killed' ? `killed (${mutant.verdict})` : mutant.status === 'survived' ? `survived: ${mutant.survivor?.kind}` : `n/a: ${mutant.reason ?? ''}`;
      lines.push(`| \`${cell(mutant.name)}\` | ${cell(outcome)}${mutant.apart ? ' (not scored)' : ''} |`);
    }
    lines.push('', '</details>');
  }
  return `${lines.join('\n')}\n`;
}

/** junit.xml: per rule a suite, per scored mutant a case; a behaviour-changing survivor, or a rule failing on the original, is a failure. */
export function mutationJunit(document: MutationDocument): string {
  const suites = document.rules.map((rule) => {
    const scored = rule.mutants.filter((m) => m.apart === undefined);
    const cases = scored.map((m) => {
      const failure = m.survivor?.kind === 'weak-spec' ? `<failure message="${escapeXml(m.survivor.explanation)}">${escapeXml((m.survivor.example ?? []).join('\n'))}</failure>` : '';
      const skipped = m.status === 'not-applicable' ? `<skipped message="${escapeXml(m.reason ?? 'not applicable')}"/>` : '';
      return `    <testcase classname="pgconform.mutate.${escapeXml(rule.ruleId)}" name="${escapeXml(m.name)}">${failure}${skipped}</testcase>`;
    });
    if (rule.baseline.verdict !== 'pass') cases.unshift(`    <testcase classname="pgconform.mutate.${escapeXml(rule.ruleId)}" name="original schema"><failure message="the rule fails on the original schema (${rule.baseline.verdict})"/></testcase>`);
    const failures = scored.filter((m) => m.survivor?.kind === 'weak-spec').length + (rule.baseline.verdict !== 'pass' ? 1 : 0);
    return [`  <testsuite name="${escapeXml(rule.ruleId)}" tests="${cases.length}" failures="${failures}" errors="0">`, ...cases, '  </testsuite>'].join('\n');
  });
  return ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites name="pgconform mutate">', ...suites, '</testsuites>', ''].join('\n');
}
