import { redactUrl } from '../db/connection.ts';
import { writeReportFile, type Reporter, type ReporterContext } from './reporter.ts';
import type { ReportDocument } from './report-document.ts';
import { gapLines } from './gap-text.ts';
import { timeline } from './timeline.ts';
import { schemaSummary } from '../source/schema-summary.ts';

type Rule = ReportDocument['rules'][number];
type Check = Rule['checks'][number];

/** Writes <report-dir>/junit.xml: one testcase per rule and isolation level, for CI test tabs. */
export class JunitReporter implements Reporter {
  readonly name = 'junit';
  constructor(private readonly context: ReporterContext) {}

  async onRunEnd(document: ReportDocument): Promise<string> {
    // Not redacted as a whole: escapeXml() redacts each text, and a pass over the markup could run from a URL to a later "@".
    return writeReportFile(this.context, 'junit.xml', junitXml(document));
  }
}

/** The JUnit XML text of a report (the Ant/Surefire dialect CI systems read). */
export function junitXml(document: ReportDocument): string {
  const cases = document.rules.flatMap((rule) => rule.checks.map((check) => testcase(rule, check)));
  if (document.error) cases.push(runErrorCase(document.error));
  const counts = countCases(document);
  const totals = `tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="0" time="${seconds(document.durationMs)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="pgconform" ${totals}>`,
    `  <testsuite name="pgconform" ${totals} timestamp="${antTimestamp(document.startedAt)}">`,
    properties(document),
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** Test, failure and error counts as junit.xml states them: one test per check, plus one when the run itself failed. */
export function countCases(document: ReportDocument): { tests: number; failures: number; errors: number } {
  const checks = document.rules.flatMap((rule) => rule.checks);
  const runError = document.error ? 1 : 0;
  return {
    tests: checks.length + runError,
    failures: checks.filter((c) => c.verdict === 'violation' || c.verdict === 'over-restrictive').length,
    errors: checks.filter((c) => c.verdict === 'error').length + runError,
  };
}

function properties(document: ReportDocument): string {
  const entries: Array<[string, string | number | boolean]> = [
    ['pgconform.version', document.tool.version],
    ['seed', document.options.seed],
    ['runs', document.options.runs],
    ['isolation', document.options.isolation.join(',')],
    ['stress', document.options.stress],
    ['server', `${document.server.provider} ${document.server.version}`],
  ];
  const lines = entries.map(([name, value]) => `      <property name="${escapeXml(name)}" value="${escapeXml(String(value))}"/>`);
  return ['    <properties>', ...lines, '    </properties>'].join('\n');
}

function testcase(rule: Rule, check: Check): string {
  const open = `    <testcase classname="${escapeXml(rule.id)}" name="${escapeXml(`${rule.id} [${check.isolation}]`)}" time="${seconds(check.durationMs)}"`;
  const body = [verdictElement(rule, check), systemOut(check)].filter((part) => part !== '');
  if (body.length === 0) return `${open}/>`;
  return [`${open}>`, ...body, '    </testcase>'].join('\n');
}

function verdictElement(rule: Rule, check: Check): string {
  if (check.verdict === 'error') {
    const message = check.error ?? 'the check failed with an error';
    return `      <error message="${attr(message)}" type="error">${escapeXml(failureText(rule, check))}</error>`;
  }
  if (check.verdict === 'pass') return '';
  return `      <failure message="${attr(headline(check))}" type="${check.verdict}">${escapeXml(failureText(rule, check))}</failure>`;
}

function systemOut(check: Check): string {
  const lines = [...check.notes.map((note) => `note: ${note}`), ...gapLines(check)];
  if (lines.length === 0) return '';
  return `      <system-out>${escapeXml(lines.join('\n'))}</system-out>`;
}

/** A kit-level error that stopped the run: a testcase of its own, so that CI shows it as an error. */
function runErrorCase(error: string): string {
  return [
    '    <testcase classname="pgconform" name="pgconform run" time="0">',
    `      <error message="${attr(error)}" type="error">${escapeXml(error)}</error>`,
    '    </testcase>',
  ].join('\n');
}

/** The one-line reason, as the console reporter words it. */
function headline(check: Check): string {
  const c = check.counterexample;
  if (!c) return `${check.verdict} [${check.isolation}]`;
  const step = (c.atEvent ?? 0) + 1;
  return c.kind === 'violation'
    ? `a committed state breaks the rule after step ${step} [${check.isolation}]`
    : `the schema rejected step ${step}, which the rule allows [${check.isolation}]${c.judgement ? `: ${c.judgement}` : ''}`;
}

/** The counterexample as plain text: the same timeline, rows and replay command the console prints. */
function failureText(rule: Rule, check: Check): string {
  const lines = [`${rule.id} — ${rule.title} [${check.isolation}]`, `schema: ${schemaSummary(rule.schema)}`];
  if (check.error) lines.push(`error: ${check.error}`);
  const failedCells = check.truthTable?.rows.filter((row) => !row.ok) ?? [];
  if (failedCells.length > 0) {
    lines.push('truth table cells that fail:');
    for (const row of failedCells) lines.push(`  ${row.cell} must ${row.expected}; insert: ${row.insert}; update: ${row.update}`);
  }
  const c = check.counterexample;
  if (c) {
    lines.push(headline(check), ...timeline(c.history, { highlight: c.atEvent }));
    if (c.offendingRows?.length) lines.push('offending rows:', ...c.offendingRows.slice(0, 20).map((row) => `  ${JSON.stringify(row)}`));
    lines.push(`found by ${c.foundBy}${c.foundBy === 'property' ? ` (seed ${c.seed}, path ${c.path}, ${c.shrinks} shrinks)` : ''}`);
    lines.push(`replay: ${c.replay}`);
  }
  return lines.join('\n');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** The Ant schema's xs:dateTime has no zone or fractions; report.json's startedAt is UTC. */
function antTimestamp(iso: string): string {
  return iso.replace(/(\.\d+)?Z$/, '');
}

/** Escapes text for XML content and attributes, drops characters XML 1.0 forbids, and hides passwords. */
export function escapeXml(text: string): string {
  return (
    redactUrl(text)
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

/** An attribute value on one line: parsers would turn its newlines into spaces anyway. */
function attr(text: string): string {
  return escapeXml(text.replace(/\s*[\r\n]+\s*/g, ' ').trim());
}
