import { appendFile } from 'node:fs/promises';
import { redactUrl } from '../db/connection.ts';
import { formatOutcome } from '../engine/history.ts';
import { gapHeadline, gapLine } from './gap-text.ts';
import { writeReportFile, type Reporter, type ReporterContext } from './reporter.ts';
import type { ReportDocument } from './report-document.ts';

type Rule = ReportDocument['rules'][number];
type Check = Rule['checks'][number];
type Counterexample = NonNullable<Check['counterexample']>;
type Event = Counterexample['history'][number];

const VERDICT: Record<Check['verdict'], string> = {
  pass: '✅ pass',
  violation: '❌ violation',
  'over-restrictive': '⚠️ over-restrictive',
  error: '💥 error',
};

/** GitHub cuts pull-request comments at 65,536 characters; past this many failures only the table is kept. */
const MAX_DETAILS = 20;
const MAX_ROWS = 20;

/** Writes <report-dir>/summary.md for a pull-request comment, and appends it to $GITHUB_STEP_SUMMARY when set. */
export class MarkdownReporter implements Reporter {
  readonly name = 'markdown';
  constructor(
    private readonly context: ReporterContext,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async onRunEnd(document: ReportDocument): Promise<string> {
    // Each text is redacted where it is escaped: a pass over the whole would undo the escaping of `***` and could run from a URL to a later "@".
    const text = markdownSummary(document);
    const file = await writeReportFile(this.context, 'summary.md', text);
    const stepSummary = this.env.GITHUB_STEP_SUMMARY;
    // Appended, not written: earlier steps of the job may have written their own summaries there.
    if (stepSummary) await appendFile(stepSummary, `${text}\n`);
    return file;
  }
}

/** The Markdown summary of a report: a verdict table, then one collapsible block per failing check. */
export function markdownSummary(document: ReportDocument): string {
  const failing = document.rules.flatMap((rule) => rule.checks.filter((check) => check.verdict !== 'pass').map((check) => ({ rule, check })));
  const parts = [heading(document), verdictTable(document)];
  if (document.error) parts.push(`> **The run stopped early:** ${inline(document.error)}`);
  parts.push(...failing.slice(0, MAX_DETAILS).map(({ rule, check }) => details(rule, check)));
  if (failing.length > MAX_DETAILS) parts.push(`_${failing.length - MAX_DETAILS} more failing checks: see report.html or report.json._`);
  const gapped = document.rules.flatMap((rule) => rule.checks.filter((check) => check.generatorGaps?.gaps.length).map((check) => ({ rule, check })));
  if (gapped.length > 0) parts.push(generatorGaps(gapped.slice(0, MAX_DETAILS)));
  return `${parts.join('\n\n')}\n`;
}

function heading(document: ReportDocument): string {
  const s = document.summary;
  const counts = [
    s.violation && `${s.violation} violation`,
    s.overRestrictive && `${s.overRestrictive} over-restrictive`,
    s.error && `${s.error} error`,
    `${s.pass} pass`,
  ].filter(Boolean);
  const mark = s.error || document.error ? '💥' : s.violation || s.overRestrictive ? '❌' : '✅';
  const facts = [
    `${s.rules} rule${s.rules === 1 ? '' : 's'}`,
    `seed ${document.options.seed}`,
    `${document.options.runs} runs per check`,
    `PostgreSQL ${serverVersion(document.server.version)} (${inline(document.server.provider)})`,
    `${(document.durationMs / 1000).toFixed(1)}s`,
    `pgconform ${inline(document.tool.version)}`,
  ];
  return `### ${mark} pgconform: ${counts.join(', ')}\n\n${facts.join(' · ')}`;
}

function verdictTable(document: ReportDocument): string {
  const rows = document.rules.flatMap((rule) =>
    rule.checks.map((check) => `| \`${code(rule.id)}\` | ${check.isolation} | ${VERDICT[check.verdict]} | ${check.runs} | ${(check.durationMs / 1000).toFixed(1)}s |`),
  );
  return ['| rule | isolation | verdict | runs | time |', '| --- | --- | --- | ---: | ---: |', ...rows].join('\n');
}

/** One failing check: why, the interleaving, the rows and the command that replays it, folded. */
function details(rule: Rule, check: Check): string {
  const c = check.counterexample;
  const body = [`**${inline(rule.title)}** (${inline(rule.source)}), schema ${rule.schema.map((s) => `\`${code(s)}\``).join(', ')}`];
  if (check.error) body.push(fenced(check.error, 'text'));
  body.push(...check.notes.map((note) => `> note: ${inline(note)}`));
  const failedCells = check.truthTable?.rows.filter((row) => !row.ok) ?? [];
  if (failedCells.length > 0) body.push(truthTableFailures(failedCells));
  if (c) {
    body.push(steps(c));
    if (c.offendingRows?.length) body.push(`Offending rows:\n\n${fenced(c.offendingRows.slice(0, MAX_ROWS).map((row) => JSON.stringify(row)).join('\n'), 'json')}`);
    body.push(`Found by ${c.foundBy}${c.foundBy === 'property' ? ` (seed ${c.seed}, path \`${code(c.path)}\`, ${c.shrinks} shrinks)` : ''}. Replay:\n\n${fenced(c.replay, 'sh')}`);
  }
  const summary = `<b>${html(rule.id)}</b> [${check.isolation}]: ${VERDICT[check.verdict]}${c ? ` — ${html(headline(c))}` : ''}`;
  // The blank lines around the body let GitHub render the Markdown inside the HTML block.
  return `<details><summary>${summary}</summary>\n\n${body.join('\n\n')}\n\n</details>`;
}

/** Checks whose generated rows an unrelated object refused: not findings, but the rule was exercised less. */
function generatorGaps(gapped: ReadonlyArray<{ rule: Rule; check: Check }>): string {
  const blocks = gapped.map(
    ({ rule, check }) => `**\`${code(rule.id)}\`** [${check.isolation}]: ${inline(gapHeadline(check))}\n\n${check.generatorGaps!.gaps.map((gap) => `- ${inline(gapLine(gap))}`).join('\n')}`,
  );
  return `#### Generator gaps\n\n${blocks.join('\n\n')}`;
}

function headline(c: Counterexample): string {
  const step = (c.atEvent ?? 0) + 1;
  if (c.kind === 'violation') return `a committed state breaks the rule after step ${step}`;
  if (c.kind === 'over-restrictive') return `the schema rejected step ${step}, which the rule allows${c.judgement ? `: ${c.judgement}` : ''}`;
  return `step ${step} failed`;
}

function truthTableFailures(rows: NonNullable<Check['truthTable']>['rows']): string {
  const lines = rows.map((row) => `| ${cell(row.cell)} | ${row.expected} | ${cell(row.insert)} | ${cell(row.update)} |`);
  return ['Truth table cells that fail:', '', '| cell | must | insert | update |', '| --- | --- | --- | --- |', ...lines].join('\n');
}

/** The interleaving as a table with one column per session, one row per step, in the order they ran. */
function steps(c: Counterexample): string {
  const sessions = Math.max(0, ...c.history.map((e) => e.session)) + 1;
  const header = `| step | ${Array.from({ length: sessions }, (_, s) => `session ${s + 1}`).join(' | ')} |`;
  const rule = `| ---: | ${Array.from({ length: sessions }, () => '---').join(' | ')} |`;
  const rows = c.history.map((event) => {
    const marked = event.index === c.atEvent;
    const cells = Array.from({ length: sessions }, (_, s) => (s === event.session ? stepCell(event, marked, c.kind) : ' '));
    return `| ${marked ? `**▶ ${event.index + 1}**` : event.index + 1} | ${cells.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}

function stepCell(event: Event, marked: boolean, kind: Counterexample['kind']): string {
  const label = event.kind === 'op' ? `\`${code(event.label)}\`` : `**${cell(event.label)}**`;
  // A step with no end tick was still running (waiting) when the run reached its verdict.
  const running = event.endedAt < event.startedAt;
  const waited = event.waitedFor?.length ? `<br>⏳ ${running ? 'waiting' : 'waited'} for ${event.waitedFor.map((s) => `session ${s + 1}`).join(', ')}` : '';
  const tag = marked ? `<br>**◀ ${kind === 'violation' ? 'rule broken here' : kind === 'over-restrictive' ? 'wrongly rejected' : 'failed here'}**` : '';
  return `${label} → ${cell(running ? 'still running when the verdict was reached' : formatOutcome(event))}${waited}${tag}`;
}

/** Text for a table cell: Markdown and HTML inert, pipes escaped, one line. */
function cell(text: string): string {
  return inline(text).replace(/\|/g, '\\|');
}

/** Text for running Markdown: inline syntax and HTML made inert, newlines as <br>. */
function inline(text: string): string {
  return html(text)
    .replace(/([\\`*_[\]~#!])/g, '\\$1')
    .replace(/\r?\n/g, '<br>');
}

/** Text for a code span: backticks cannot be escaped there, so they become look-alikes; pipes would still split table cells. */
function code(text: string): string {
  return redactUrl(text).replace(/`/g, 'ˋ').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function html(text: string): string {
  return redactUrl(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A fenced code block whose fence is longer than any backtick run inside. */
function fenced(text: string, language: string): string {
  const longest = Math.max(2, ...[...redactUrl(text).matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${redactUrl(text)}\n${fence}`;
}

function serverVersion(version: number): string {
  // server_version_num: 150020 is 15.20; before 10 it was 90624 for 9.6.24.
  return version >= 100000 ? `${Math.floor(version / 10000)}.${version % 10000}` : String(version);
}
