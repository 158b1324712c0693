import { redactUrl } from '../db/connection.ts';
import { formatOutcome } from '../engine/history.ts';
import { writeReportFile, type Reporter, type ReporterContext } from './reporter.ts';
import type { ReportDocument } from './report-document.ts';
import { gapLines } from './gap-text.ts';
import { wrap } from './timeline.ts';

type Rule = ReportDocument['rules'][number];
type Check = Rule['checks'][number];
type Counterexample = NonNullable<Check['counterexample']>;
type Event = Counterexample['history'][number];
type Verdict = Check['verdict'];

const VERDICT_LABEL: Record<Verdict, string> = { pass: 'pass', violation: 'violation', 'over-restrictive': 'over-restrictive', error: 'error' };

/** Writes <report-dir>/report.html: one self-contained page (no network, no scripts) with a sequence diagram per counterexample. */
export class HtmlReporter implements Reporter {
  readonly name = 'html';
  constructor(private readonly context: ReporterContext) {}

  async onRunEnd(document: ReportDocument): Promise<string> {
    // Not redacted as a whole: esc() redacts each text, and a pass over the markup could run from a URL to a later "@".
    return writeReportFile(this.context, 'report.html', htmlReport(document));
  }
}

/** The whole report page. Everything from the run (SQL, values, messages) is escaped. */
export function htmlReport(document: ReportDocument): string {
  const s = document.summary;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>pgconform: ${s.violation} violation, ${s.overRestrictive} over-restrictive, ${s.error} error, ${s.pass} pass</title>
<style>${CSS}</style>
</head>
<body>
<main>
${pageHeader(document)}
${overview(document)}
${document.rules.map(ruleSection).join('\n')}
</main>
</body>
</html>
`;
}

function pageHeader(document: ReportDocument): string {
  const s = document.summary;
  const chips = [
    chip('violation', s.violation),
    chip('over-restrictive', s.overRestrictive),
    chip('error', s.error),
    chip('pass', s.pass),
  ].join('');
  const o = document.options;
  const facts = [
    `${s.rules} rule${s.rules === 1 ? '' : 's'}`,
    `seed ${o.seed}`,
    `${o.runs} runs per check`,
    `isolation ${o.isolation.map(esc).join(', ')}`,
    o.stress ? 'stress mode' : '',
    `PostgreSQL ${serverVersion(document.server.version)} (${esc(document.server.provider)})`,
    `started ${esc(document.startedAt)}`,
    `took ${(document.durationMs / 1000).toFixed(1)}s`,
    `pgconform ${esc(document.tool.version)}`,
  ].filter(Boolean);
  const stopped = document.error ? `<div class="error-box"><strong>The run stopped early:</strong><pre>${esc(document.error)}</pre></div>` : '';
  return `<header><h1>pgconform report</h1><div class="chips">${chips}</div><p class="facts">${facts.join(' · ')}</p>${stopped}</header>`;
}

function chip(verdict: Verdict, count: number): string {
  return `<span class="chip v-${verdict}${count === 0 ? ' zero' : ''}"><b>${count}</b> ${VERDICT_LABEL[verdict]}</span>`;
}

function overview(document: ReportDocument): string {
  const rows = document.rules.flatMap((rule) =>
    rule.checks.map(
      (check) =>
        `<tr><td><a href="#${anchor(rule.id, check.isolation)}"><code>${esc(rule.id)}</code></a></td><td>${esc(rule.title)}</td><td>${check.isolation}</td><td>${badge(check.verdict)}</td><td class="num">${check.runs}</td><td class="num">${check.steps}</td><td class="num">${(check.durationMs / 1000).toFixed(1)}s</td></tr>`,
    ),
  );
  return `<section class="card"><h2>Verdicts</h2><table class="overview"><thead><tr><th>rule</th><th>title</th><th>isolation</th><th>verdict</th><th class="num">runs</th><th class="num">steps</th><th class="num">time</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function badge(verdict: Verdict): string {
  return `<span class="badge v-${verdict}">${VERDICT_LABEL[verdict]}</span>`;
}

function ruleSection(rule: Rule): string {
  const schema = rule.schema.map((file) => `<code>${esc(file)}</code>`).join(', ');
  return `<section class="card rule v-${rule.verdict}" id="${anchor(rule.id)}">
<h2>${badge(rule.verdict)} <code>${esc(rule.id)}</code> ${esc(rule.title)}</h2>
<p class="facts">source ${esc(rule.source)} · spec <code>${esc(rule.specFile)}</code> · schema ${schema}</p>
${rule.checks.map((check) => checkBlock(rule, check)).join('\n')}
</section>`;
}

function checkBlock(rule: Rule, check: Check): string {
  const parts = [
    `<h3>${badge(check.verdict)} ${check.isolation} <span class="facts">${check.runs} runs, ${check.steps} steps, ${(check.durationMs / 1000).toFixed(1)}s, seed ${check.seed}</span></h3>`,
  ];
  if (check.error) parts.push(`<div class="error-box"><pre>${esc(check.error)}</pre></div>`);
  if (check.notes.length > 0) parts.push(`<ul class="notes">${check.notes.map((note) => `<li>${esc(note)}</li>`).join('')}</ul>`);
  const gaps = gapLines(check);
  if (gaps.length > 0) parts.push(`<div class="gaps"><h4>${esc(gaps[0]!)}</h4><ul class="notes">${gaps.slice(1).map((line) => `<li>${esc(line)}</li>`).join('')}</ul></div>`);
  if (check.truthTable) parts.push(truthTable(check.truthTable));
  if (check.counterexample) parts.push(counterexampleBlock(check.counterexample, anchor(rule.id, check.isolation)));
  return `<div class="check" id="${anchor(rule.id, check.isolation)}">${parts.join('\n')}</div>`;
}

function truthTable(table: NonNullable<Check['truthTable']>): string {
  const rows = table.rows.map(
    (row) =>
      `<tr class="${row.ok ? 'ok' : 'fail'}"><td class="mark">${row.ok ? '✓' : '✗'}</td><td class="cell"><code>${esc(row.cell)}</code></td><td class="nowrap">must ${row.expected}</td><td>${esc(row.insert)}</td><td>${esc(row.update)}</td></tr>`,
  );
  const failed = table.rows.filter((row) => !row.ok).length;
  const title = `Truth table over ${table.columns.map((c) => `<code>${esc(c)}</code>`).join(', ')} <span class="facts">${failed === 0 ? `all ${table.rows.length} cells pass` : `${failed} of ${table.rows.length} cells fail`}</span>`;
  const body = `<table><thead><tr><th></th><th>cell</th><th>expected</th><th>insert</th><th>update</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  // A table that passes is folded: only the failing cells deserve the reader's attention.
  return failed === 0
    ? `<details class="truth-table"><summary>${title}</summary>${body}</details>`
    : `<div class="truth-table"><h4>${title}</h4>${body}</div>`;
}

function counterexampleBlock(c: Counterexample, id: string): string {
  const found = c.foundBy === 'property' ? `found by property search (seed ${c.seed}, path <code>${esc(c.path)}</code>, ${c.shrinks} shrinks)` : c.foundBy === 'corpus' ? 'found by replaying the failure corpus' : 'found by the truth table';
  const rows = c.offendingRows?.length ? `<h4>Offending rows</h4>${rowsTable(c.offendingRows)}` : '';
  return `<div class="counterexample">
<p class="headline v-${c.kind}">${esc(headline(c))}</p>
<figure class="diagram">${sequenceDiagram(c, `d-${id}`)}<figcaption>${LEGEND}</figcaption></figure>
${rows}
<details class="steps"><summary>SQL of each step</summary>${stepsTable(c)}</details>
<p class="facts">${found}${c.replayable ? '' : ' · not replayable (stress mode)'}</p>
<div class="replay"><span>replay</span><pre><code>${esc(c.replay)}</code></pre></div>
</div>`;
}

function headline(c: Counterexample): string {
  const step = (c.atEvent ?? 0) + 1;
  if (c.kind === 'violation') return `A committed state breaks the rule after step ${step}.`;
  if (c.kind === 'over-restrictive') return `The schema rejected step ${step}, which the rule allows${c.judgement ? `: ${c.judgement}` : ''}.`;
  return `Step ${step} failed.`;
}

function rowsTable(rows: ReadonlyArray<Record<string, unknown>>): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const body = rows
    .slice(0, 50)
    .map((row) => `<tr>${columns.map((column) => `<td><code>${esc(showValue(row[column]))}</code></td>`).join('')}</tr>`)
    .join('');
  const more = rows.length > 50 ? `<p class="facts">${rows.length - 50} more rows in report.json</p>` : '';
  return `<table class="rows"><thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>${more}`;
}

function stepsTable(c: Counterexample): string {
  const rows = c.history.map(
    (e) =>
      `<tr class="${e.index === c.atEvent ? 'marked' : ''}"><td class="num">${e.index + 1}</td><td>session ${e.session + 1}</td><td class="num">${e.startedAt}–${running(e) ? '…' : e.endedAt}</td><td><code>${esc(e.label)}</code></td><td><code>${esc(e.sql)}</code>${e.params.length ? `<div class="params">params: <code>${esc(JSON.stringify(e.params))}</code></div>` : ''}</td><td class="s-${e.outcome.status}">${esc(outcomeText(e))}${e.waitedFor?.length ? `<div>${running(e) ? 'waiting' : 'waited'} for ${e.waitedFor.map((s) => `session ${s + 1}`).join(', ')}</div>` : ''}</td></tr>`,
  );
  return `<table><thead><tr><th class="num">step</th><th>session</th><th class="num">time</th><th>step</th><th>SQL</th><th>outcome</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

// ---------------------------------------------------------------------------------------------
// The sequence diagram: one lane per session, time flowing down. The vertical position follows
// the logical clock (startedAt/endedAt), but each tick only takes the height its label needs, so
// a step that waited stretches over the steps other sessions ran meanwhile.

const GUTTER = 64;
const TOP = 52;
const LINE_H = 16;
const CHAR_W = 7.3;
const PILL_W = 76;
const PILL_H = 20;
const END_GAP = 8;
/** Lane line's distance from the lane's left edge: room for half a BEGIN pill. */
const LANE_INSET = 54;
const HEAD_W = 120;

interface Line {
  readonly text: string;
  readonly cls: string;
}

interface Placed {
  readonly event: Event;
  readonly lines: Line[];
  /** Height of the row its label needs. */
  readonly height: number;
}

interface Geometry {
  readonly sessions: number;
  readonly laneWidth: number;
  readonly width: number;
  readonly height: number;
  readonly y: (tick: number) => number;
  /** Where a step's bar ends: its end tick, or the bottom for a step still running when the history was taken. */
  readonly endY: (event: Event) => number;
  readonly laneX: (session: number) => number;
}

/** An inline SVG sequence diagram of a counterexample; `id` prefixes its internal ids, unique on the page. */
export function sequenceDiagram(c: Counterexample, id: string): string {
  const sessions = Math.max(0, ...c.history.map((e) => e.session)) + 1;
  const laneWidth = Math.max(300, Math.min(540, Math.floor((1140 - GUTTER) / sessions)));
  const placed = c.history.map((event) => place(event, c, laneWidth));
  const g = geometry(placed, sessions, laneWidth);
  const marked = placed.find((p) => p.event.index === c.atEvent);
  const body = [
    guides(placed, g),
    marked ? highlightBand(marked, g) : '',
    transactions(c.history, g),
    lanes(g),
    waits(c.history, g, id),
    ...placed.map((p) => step(p, g, id, p === marked)),
    marked ? highlightOutline(marked, g) : '',
  ];
  const title = `Interleaving of ${c.history.length} steps in ${sessions} session${sessions === 1 ? '' : 's'}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="${g.width}" height="${g.height}" viewBox="0 0 ${g.width} ${g.height}" role="img" aria-labelledby="${id}-title" data-sessions="${sessions}" data-steps="${c.history.length}">
<title id="${id}-title">${esc(title)}</title>
${defs(id)}
${body.filter(Boolean).join('\n')}
</svg>`;
}

/** The text lines of one step and the height they take. */
function place(event: Event, c: Counterexample, laneWidth: number): Placed {
  const isOp = event.kind === 'op';
  const chars = Math.floor((laneWidth - LANE_INSET - (isOp ? 16 : PILL_W / 2 + 8) - 14) / CHAR_W);
  const lines: Line[] = [];
  if (isOp) lines.push(...wrap(event.label, chars, 3).map((text) => ({ text, cls: 'label' })));
  if (isOp || event.outcome.status !== 'ok') {
    const cls = running(event) ? 'outcome s-running' : `outcome s-${event.outcome.status}`;
    lines.push(...wrap(`→ ${outcomeText(event)}`, chars, 3).map((text) => ({ text, cls })));
  }
  if (event.waitedFor?.length) lines.push(...wrap(waitedText(event, c.history), chars, 2).map((text) => ({ text, cls: 'waited' })));
  if (event.index === c.atEvent) lines.push({ text: `◀ ${tagText(c.kind)}`, cls: 'tag' });
  const height = Math.max(PILL_H + 10, lines.length * LINE_H + 10);
  return { event, lines, height };
}

function tagText(kind: Counterexample['kind']): string {
  return kind === 'violation' ? 'rule broken here' : kind === 'over-restrictive' ? 'wrongly rejected' : 'failed here';
}

function waitedText(event: Event, history: readonly Event[]): string {
  const releases = (event.waitedFor ?? []).map((s) => {
    const release = releaseOf(event, s, history);
    return `session ${s + 1}${release ? ` (until step ${release.index + 1})` : ''}`;
  });
  return `↳ ${running(event) ? 'waiting' : 'waited'} for ${releases.join(', ')}`;
}

/** A step the run was still waiting for when it reached its verdict: it has no end tick. */
function running(e: Event): boolean {
  return e.endedAt < e.startedAt;
}

function outcomeText(e: Event): string {
  return running(e) ? 'still running when the verdict was reached' : formatOutcome(e);
}

/** The blocking session's last step that ended before the wait did: the one that let it go on. */
function releaseOf(event: Event, session: number, history: readonly Event[]): Event | undefined {
  if (running(event)) return undefined;
  return history.filter((e) => e.session === session && e.endedAt <= event.endedAt && e.endedAt > event.startedAt).at(-1);
}

/** Maps logical ticks to y: a tick where a step starts gets that step's height, an end tick a small gap. */
function geometry(placed: readonly Placed[], sessions: number, laneWidth: number): Geometry {
  const ticks = [...new Set(placed.flatMap((p) => (running(p.event) ? [p.event.startedAt] : [p.event.startedAt, p.event.endedAt])))].sort((a, b) => a - b);
  const startsAt = new Map(placed.map((p) => [p.event.startedAt, p]));
  const ys = new Map<number, number>();
  let y = TOP;
  for (const tick of ticks) {
    ys.set(tick, y);
    y += startsAt.get(tick)?.height ?? END_GAP;
  }
  const bottom = y;
  return {
    sessions,
    laneWidth,
    width: GUTTER + sessions * laneWidth,
    height: bottom + 16,
    y: (tick) => ys.get(tick) ?? TOP,
    endY: (e) => {
      if (running(e)) return bottom;
      // A step recorded without a round trip (skipped) starts and ends on one tick: it takes its row.
      if (e.endedAt === e.startedAt) return (ys.get(e.startedAt) ?? TOP) + (startsAt.get(e.startedAt)?.height ?? END_GAP);
      return ys.get(e.endedAt) ?? bottom;
    },
    laneX: (session) => GUTTER + session * laneWidth + LANE_INSET,
  };
}

function defs(id: string): string {
  return `<defs>
<pattern id="${id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fef3c7"/><line x1="0" y1="0" x2="0" y2="6" stroke="#f59e0b" stroke-width="2.5"/></pattern>
<marker id="${id}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#d97706"/></marker>
</defs>`;
}

/** Faint rules across all lanes where each step starts, so the order reads across lanes. */
function guides(placed: readonly Placed[], g: Geometry): string {
  return placed.map((p) => `<line class="guide" x1="8" x2="${g.width - 8}" y1="${g.y(p.event.startedAt)}" y2="${g.y(p.event.startedAt)}"/>`).join('\n');
}

function lanes(g: Geometry): string {
  return Array.from({ length: g.sessions }, (_, s) => {
    const x = g.laneX(s);
    return `<g class="lane" data-session="${s + 1}"><line class="lane-line" x1="${x}" x2="${x}" y1="${TOP - 14}" y2="${g.height - 6}"/><rect class="lane-head" x="${x - HEAD_W / 2}" y="10" width="${HEAD_W}" height="26" rx="13"/><text class="lane-title" x="${x}" y="28" text-anchor="middle">session ${s + 1}</text></g>`;
  }).join('\n');
}

/** A shaded band on a lane from BEGIN to COMMIT/ROLLBACK: which steps ran inside one transaction. */
function transactions(history: readonly Event[], g: Geometry): string {
  const bands: string[] = [];
  const open = new Map<number, Event>();
  for (const e of history) {
    if (e.kind === 'begin') open.set(e.session, e);
    if (e.kind === 'commit' || e.kind === 'rollback') {
      const begin = open.get(e.session);
      if (begin) bands.push(band(begin.session, g.y(begin.startedAt), g.endY(e), g));
      open.delete(e.session);
    }
  }
  // A transaction the history does not close was still open when the verdict was reached.
  for (const begin of open.values()) bands.push(band(begin.session, g.y(begin.startedAt), g.height - 16, g));
  return bands.join('\n');
}

function band(session: number, y1: number, y2: number, g: Geometry): string {
  return `<rect class="tx" x="${g.laneX(session) - 13}" y="${y1 + 2}" width="26" height="${Math.max(4, y2 - y1 - 4)}" rx="6"/>`;
}

/** For each wait, an arrow from the step of the blocking session that released it to the end of the wait. */
function waits(history: readonly Event[], g: Geometry, id: string): string {
  return history
    .filter((e) => !running(e))
    .flatMap((e) =>
      (e.waitedFor ?? []).map((s) => {
        const release = releaseOf(e, s, history);
        const from = g.laneX(s);
        const to = g.laneX(e.session) + (from < g.laneX(e.session) ? -9 : 9);
        const y1 = release ? g.y(release.endedAt) - 4 : g.y(e.endedAt) - 4;
        const y2 = g.y(e.endedAt) - 4;
        return `<line class="wait-arrow" x1="${from}" y1="${y1}" x2="${to}" y2="${y2}" marker-end="url(#${id}-arrow)"/>`;
      }),
    )
    .join('\n');
}

function step(p: Placed, g: Geometry, id: string, marked: boolean): string {
  const e = p.event;
  const x = g.laneX(e.session);
  const y0 = g.y(e.startedAt);
  const y1 = g.endY(e);
  const isOp = e.kind === 'op';
  const status = e.outcome.status;
  const shape = isOp ? opBox(x, y0, y1, status, Boolean(e.waitedFor?.length), running(e), id) : pill(x, y0, e.kind, status);
  const textX = isOp ? x + 16 : x + PILL_W / 2 + 8;
  const firstY = isOp ? y0 + 16 : y0 + 20;
  const text = p.lines.map((line, i) => `<text class="${line.cls}" x="${textX}" y="${firstY + i * LINE_H}">${esc(line.text)}</text>`).join('');
  const number = `<text class="step-no${marked ? ' marked' : ''}" x="${GUTTER - 8}" y="${y0 + 19}" text-anchor="end">${marked ? '▶ ' : ''}${e.index + 1}</text>`;
  const classes = ['step', `k-${e.kind}`, `s-${status}`, e.waitedFor?.length ? 'waited' : '', running(e) ? 'running' : '', marked ? 'highlight' : ''].filter(Boolean).join(' ');
  const waited = e.waitedFor?.length ? ` data-waited-for="${e.waitedFor.map((s) => s + 1).join(',')}"` : '';
  return `<g class="${classes}" data-index="${e.index + 1}" data-session="${e.session + 1}"${waited}><title>${esc(tooltip(e))}</title>${number}${shape}${text}</g>`;
}

/** An operation: a bar on the lane from its start to its end; hatched when it waited for a lock, open-ended when still running. */
function opBox(x: number, y0: number, y1: number, status: Event['outcome']['status'], waited: boolean, open: boolean, id: string): string {
  const fill = waited ? ` fill="url(#${id}-hatch)"` : '';
  const classes = ['box', open ? 's-running' : `s-${status}`, waited ? 'waiting' : '', open ? 'open' : ''].filter(Boolean).join(' ');
  return `<rect class="${classes}" x="${x - 7}" y="${y0 + 3}" width="14" height="${Math.max(8, y1 - y0 - 6)}" rx="3"${fill}/>`;
}

/** BEGIN, COMMIT and ROLLBACK: a labelled pill centred on the lane, each in its own style. */
function pill(x: number, y0: number, kind: Event['kind'], status: Event['outcome']['status']): string {
  const word = kind.toUpperCase();
  return `<rect class="pill p-${kind} s-${status}" x="${x - PILL_W / 2}" y="${y0 + 5}" width="${PILL_W}" height="${PILL_H}" rx="${PILL_H / 2}"/><text class="pill-text p-${kind}" x="${x}" y="${y0 + 19}" text-anchor="middle">${word}</text>`;
}

function tooltip(e: Event): string {
  const lines = [`step ${e.index + 1}, session ${e.session + 1}, logical time ${e.startedAt}–${running(e) ? '' : e.endedAt}`, e.label, e.sql];
  if (e.params.length) lines.push(`params: ${JSON.stringify(e.params)}`);
  lines.push(`→ ${outcomeText(e)}`);
  return lines.join('\n');
}

function highlightBand(p: Placed, g: Geometry): string {
  const y0 = g.y(p.event.startedAt);
  return `<rect class="marked-band" x="4" y="${y0}" width="${g.width - 8}" height="${p.height}" rx="4"/>`;
}

function highlightOutline(p: Placed, g: Geometry): string {
  const e = p.event;
  const x = g.laneX(e.session);
  const y0 = g.y(e.startedAt);
  const bottom = Math.max(y0 + p.height, g.endY(e));
  const left = e.kind === 'op' ? x - 14 : x - PILL_W / 2 - 6;
  const right = x - LANE_INSET + g.laneWidth - 8;
  return `<rect class="marked-outline" x="${left}" y="${y0 + 1}" width="${right - left}" height="${bottom - y0 - 2}" rx="8"/>`;
}

/** Word-wraps to `width` characters, at most `max` lines, the last one cut with an ellipsis. */

const LEGEND = [
  ['lg-begin', 'BEGIN'],
  ['lg-commit', 'COMMIT'],
  ['lg-rollback', 'ROLLBACK'],
  ['lg-ok', 'statement ok'],
  ['lg-rejected', 'rejected'],
  ['lg-aborted', 'aborted (40001/40P01)'],
  ['lg-error', 'error'],
  ['lg-waited', 'waited for a lock'],
  ['lg-tx', 'inside a transaction'],
  ['lg-marked', 'where the verdict was decided'],
]
  .map(([cls, text]) => `<span class="legend"><i class="${cls}"></i>${text}</span>`)
  .join('');

// ---------------------------------------------------------------------------------------------

function showValue(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function anchor(...parts: string[]): string {
  return parts.map((part) => part.toLowerCase().replace(/[^a-z0-9]+/g, '-')).join('--');
}

function serverVersion(version: number): string {
  // server_version_num: 150020 is 15.20; before 10 it was 90624 for 9.6.24.
  return version >= 100000 ? `${Math.floor(version / 10000)}.${version % 10000}` : String(version);
}

/** Escapes text for HTML and SVG content and attributes, and hides passwords in connection URLs. */
function esc(text: string): string {
  return redactUrl(text)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const CSS = `
:root { --fg: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #f8fafc;
  --pass: #15803d; --violation: #dc2626; --over: #ea580c; --error: #7e22ce; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px; }
h1 { margin: 0 0 8px; font-size: 24px; }
h2 { font-size: 18px; margin: 0 0 6px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
h3 { font-size: 15px; margin: 18px 0 8px; display: flex; gap: 8px; align-items: center; }
h4 { font-size: 13px; margin: 14px 0 6px; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; }
.facts { color: var(--muted); font-size: 13px; margin: 4px 0; font-weight: normal; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; margin: 16px 0; box-shadow: 0 1px 2px rgba(15,23,42,.04); }
.rule.v-violation { border-left: 5px solid var(--violation); }
.rule.v-over-restrictive { border-left: 5px solid var(--over); }
.rule.v-error { border-left: 5px solid var(--error); }
.rule.v-pass { border-left: 5px solid var(--pass); }
.chips { display: flex; gap: 8px; flex-wrap: wrap; margin: 8px 0; }
.chip { padding: 4px 12px; border-radius: 999px; color: #fff; font-size: 14px; }
.chip.zero { opacity: .35; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; color: #fff; font-size: 12px; font-weight: 600; white-space: nowrap; }
.v-pass.chip, .v-pass.badge { background: var(--pass); }
.v-violation.chip, .v-violation.badge { background: var(--violation); }
.v-over-restrictive.chip, .v-over-restrictive.badge { background: var(--over); }
.v-error.chip, .v-error.badge { background: var(--error); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
a { color: #1d4ed8; text-decoration: none; }
a:hover { text-decoration: underline; }
.truth-table tr.fail td { background: #fee2e2; }
.truth-table tr.fail td.mark { color: var(--violation); font-weight: 700; }
.truth-table tr.ok td.mark { color: var(--pass); }
.truth-table td.cell, .truth-table td.nowrap { white-space: nowrap; }
.truth-table summary { cursor: pointer; font-weight: 600; font-size: 13px; margin: 14px 0 6px; }
.error-box { background: #faf5ff; border: 1px solid #d8b4fe; border-radius: 8px; padding: 10px 12px; margin: 8px 0; color: #581c87; }
.notes { color: var(--muted); }
.headline { font-weight: 600; margin: 8px 0; }
.headline.v-violation { color: var(--violation); }
.headline.v-over-restrictive { color: var(--over); }
.diagram { margin: 8px 0; overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
.diagram figcaption { padding: 6px 10px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); display: flex; flex-wrap: wrap; gap: 4px 14px; }
.legend { display: inline-flex; align-items: center; gap: 5px; }
.legend i { display: inline-block; width: 14px; height: 12px; border-radius: 3px; border: 1.5px solid; }
.legend i.lg-begin { background: #fff; border-color: #475569; border-radius: 6px; }
.legend i.lg-commit { background: #15803d; border-color: #15803d; border-radius: 6px; }
.legend i.lg-rollback { background: #475569; border-color: #475569; border-radius: 6px; }
.legend i.lg-ok { background: #dbeafe; border-color: #2563eb; }
.legend i.lg-rejected { background: #fed7aa; border-color: #ea580c; }
.legend i.lg-aborted { background: #e9d5ff; border-color: #9333ea; }
.legend i.lg-error { background: #fecaca; border-color: #b91c1c; }
.legend i.lg-waited { background: repeating-linear-gradient(45deg, #fef3c7 0 3px, #f59e0b 3px 5px); border-color: #d97706; }
.legend i.lg-tx { background: #e0e7ff; border-color: #e0e7ff; }
.legend i.lg-marked { background: #fef2f2; border-color: #dc2626; border-width: 2px; }
svg.sequence { display: block; }
svg.sequence text { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 12px; fill: #0f172a; }
svg.sequence .guide { stroke: #f1f5f9; stroke-width: 1; }
svg.sequence .lane-line { stroke: #94a3b8; stroke-width: 1.5; stroke-dasharray: 4 4; }
svg.sequence .lane-head { fill: #1e293b; }
svg.sequence text.lane-title { fill: #fff; font-weight: 600; font-family: system-ui, "DejaVu Sans", sans-serif; font-size: 13px; }
svg.sequence .tx { fill: #e0e7ff; }
svg.sequence .box { stroke-width: 1.5; }
svg.sequence .box.s-ok { stroke: #2563eb; }
svg.sequence .box.s-rejected { stroke: #ea580c; }
svg.sequence .box.s-aborted { stroke: #9333ea; }
svg.sequence .box.s-error { stroke: #b91c1c; }
svg.sequence .box.s-skipped { stroke: #94a3b8; stroke-dasharray: 3 2; }
svg.sequence .box.s-ok:not(.waiting) { fill: #dbeafe; }
svg.sequence .box.s-rejected:not(.waiting) { fill: #fed7aa; }
svg.sequence .box.s-aborted:not(.waiting) { fill: #e9d5ff; }
svg.sequence .box.s-error:not(.waiting) { fill: #fecaca; }
svg.sequence .box.s-skipped:not(.waiting) { fill: #f1f5f9; }
svg.sequence .box.waiting.s-ok, svg.sequence .box.s-running { stroke: #d97706; }
svg.sequence .box.open { stroke-dasharray: 4 3; }
svg.sequence .box.s-running:not(.waiting) { fill: #fef3c7; }
svg.sequence text.outcome.s-running { fill: #b45309; font-style: italic; }
svg.sequence .pill { stroke-width: 1.5; }
svg.sequence .pill.p-begin { fill: #fff; stroke: #475569; }
svg.sequence .pill.p-commit { fill: #15803d; stroke: #15803d; }
svg.sequence .pill.p-rollback { fill: #475569; stroke: #475569; }
svg.sequence .pill.s-rejected { fill: #ea580c; stroke: #9a3412; }
svg.sequence .pill.s-aborted { fill: #9333ea; stroke: #581c87; }
svg.sequence .pill.s-error { fill: #b91c1c; stroke: #7f1d1d; }
svg.sequence .pill.s-skipped { fill: #f1f5f9; stroke: #94a3b8; stroke-dasharray: 3 2; }
svg.sequence text.pill-text { font-weight: 700; font-size: 11px; letter-spacing: .04em; fill: #fff; }
svg.sequence text.pill-text.p-begin { fill: #334155; }
svg.sequence .s-skipped text.pill-text { fill: #64748b; }
svg.sequence text.label { fill: #0f172a; }
svg.sequence text.outcome { fill: #475569; }
svg.sequence text.outcome.s-rejected { fill: #c2410c; font-weight: 600; }
svg.sequence text.outcome.s-aborted { fill: #7e22ce; font-weight: 600; }
svg.sequence text.outcome.s-error { fill: #b91c1c; font-weight: 600; }
svg.sequence text.outcome.s-skipped { fill: #64748b; font-style: italic; }
svg.sequence text.waited { fill: #b45309; }
svg.sequence text.tag { fill: #dc2626; font-weight: 700; }
svg.sequence text.step-no { fill: #64748b; font-weight: 600; }
svg.sequence text.step-no.marked { fill: #dc2626; }
svg.sequence .wait-arrow { stroke: #d97706; stroke-width: 1.8; stroke-dasharray: 5 3; }
svg.sequence .marked-band { fill: #fef2f2; }
svg.sequence .marked-outline { fill: none; stroke: #dc2626; stroke-width: 2.5; }
.rows td code { font-size: 12px; }
.steps { margin: 8px 0; }
.steps summary { cursor: pointer; color: #1d4ed8; }
.steps tr.marked td { background: #fef2f2; }
.steps .s-rejected { color: #c2410c; } .steps .s-aborted { color: #7e22ce; } .steps .s-error { color: #b91c1c; }
.params { color: var(--muted); margin-top: 2px; }
.replay { display: flex; gap: 10px; align-items: stretch; margin: 8px 0; }
.replay span { background: #1e293b; color: #fff; padding: 6px 10px; border-radius: 6px 0 0 6px; font-size: 12px; font-weight: 600; }
.replay pre { flex: 1; background: #f1f5f9; padding: 6px 10px; border-radius: 0 6px 6px 0; margin-left: -10px; }
`;
