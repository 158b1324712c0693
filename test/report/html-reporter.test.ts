// report.html from real runs: parse checks on the page and its sequence diagrams, escaping and
// redaction, and a real headless Chromium that must render it without a console message and not blank.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReporters } from '../../src/report/registry.ts';
import type { ReportDocument } from '../../src/report/report-document.ts';
import { countNear, decodePng, distinctColours } from './png.ts';
import { checksOf, copyOf, localServerReachable, realRuns, removeScratch, type RealRuns } from './real-runs.ts';

const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);

/** Writes report.html through the registry, as the CLI does. */
async function writeHtml(document: ReportDocument, dir: string): Promise<{ file: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const [reporter] = createReporters(['html'], { reportDir: dir, out: () => undefined, quiet: true });
  const file = join(dir, 'report.html');
  expect(await reporter!.onRunEnd(document)).toBe(file);
  return { file, html: await readFile(file, 'utf8') };
}

/** The inline SVG diagrams of a page. */
function diagrams(html: string): string[] {
  return html.match(/<svg [^>]*class="sequence"[\s\S]*?<\/svg>/g) ?? [];
}

/** Runs headless Chromium on a file with the flags CI can use (no network, no GPU, throwaway profile). */
async function chromium(file: string, dir: string, mode: string[]): Promise<{ stdout: string; stderr: string }> {
  const profile = await mkdtemp(join(tmpdir(), 'pgconform-chromium-'));
  try {
    return await run(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        ...mode,
        pathToFileURL(file).href,
      ],
      { cwd: dir, timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
    );
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

const reachable = await localServerReachable();
const hasChromium = existsSync(CHROMIUM);

describe.skipIf(!reachable)('html reporter on real runs', () => {
  let runs: RealRuns;
  beforeAll(async () => {
    runs = await realRuns();
  });
  afterAll(() => removeScratch(runs?.dir));

  it('is one self-contained page: no scripts, no external resources, a CSP that forbids loading any', async () => {
    const { html } = await writeHtml(runs.race, join(runs.dir, 'html', 'race'));
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|src=|url\((?!#)/i);
    expect(html).not.toMatch(/(href|src)="(https?:)?\/\//);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('has a verdict per rule and isolation level, and an SVG per counterexample with one lane per session', async () => {
    for (const [name, document] of Object.entries({ overRestrictive: runs.overRestrictive, race: runs.race, waited: runs.waited })) {
      const { html } = await writeHtml(document, join(runs.dir, 'html', name));
      const checks = checksOf(document);
      for (const { rule, check } of checks) {
        expect(html).toMatch(new RegExp(`<h3><span class="badge v-${check.verdict}">${check.verdict}</span> ${check.isolation}`));
        expect(html).toContain(`<code>${rule.id}</code>`);
      }
      const withCounterexample = checks.flatMap(({ check }) => (check.counterexample ? [check.counterexample] : []));
      const svgs = diagrams(html);
      expect(svgs).toHaveLength(withCounterexample.length);
      for (const [i, c] of withCounterexample.entries()) {
        const svg = svgs[i]!;
        // Inline SVG must also be well-formed XML, or an SVG viewer could not open it on its own.
        expect(XMLValidator.validate(svg)).toBe(true);
        const sessions = new Set(c.history.map((e) => e.session)).size;
        expect(svg).toContain(`data-sessions="${sessions}"`);
        expect(svg.match(/<g class="lane" /g)).toHaveLength(sessions);
        expect(svg.match(/<g class="step /g)).toHaveLength(c.history.length);
        const highlighted = svg.match(/<g class="step [^"]*\bhighlight\b[^"]*" data-index="(\d+)"[\s\S]*?<\/g>/g) ?? [];
        expect(highlighted).toHaveLength(1);
        expect(highlighted[0]).toContain(`data-index="${c.atEvent! + 1}"`);
        expect(highlighted[0]).toContain(c.kind === 'violation' ? '◀ rule broken here' : '◀ wrongly rejected');
        expect(svg).toContain('class="marked-outline"');
        expect(html).toContain(`<code>${c.replay}</code>`);
      }
    }
  });

  it('draws two lanes for the race, with BEGIN and COMMIT as pills and the rows that broke the rule', async () => {
    const { html } = await writeHtml(runs.race, join(runs.dir, 'html', 'race-pills'));
    const svg = diagrams(html)[0]!;
    const c = runs.race.rules[0]!.checks[0]!.counterexample!;
    expect(svg).toContain('data-sessions="2"');
    for (const kind of new Set(c.history.map((e) => e.kind))) {
      expect(svg).toContain(`class="step k-${kind}`);
      if (kind !== 'op') expect(svg).toContain(`<rect class="pill p-${kind} `);
    }
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg) as { svg: { g: Array<{ class: string; 'data-index'?: string; 'data-session'?: string }> } };
    const steps = parsed.svg.g.filter((g) => g.class.startsWith('step '));
    expect(steps.map((g) => [Number(g['data-index']), Number(g['data-session'])])).toEqual(c.history.map((e) => [e.index + 1, e.session + 1]));
    const row = c.offendingRows![0]!;
    for (const column of Object.keys(row)) expect(html).toContain(`<th>${column}</th>`);
  });

  it('draws a step that waited as a hatched bar from its start to its end, naming the session it waited for', async () => {
    const { html } = await writeHtml(runs.waited, join(runs.dir, 'html', 'waited'));
    const svg = diagrams(html)[0]!;
    const c = runs.waited.rules[0]!.checks[0]!.counterexample!;
    const waited = c.history.find((e) => e.waitedFor?.length)!;
    const step = svg.match(new RegExp(`<g class="step [^"]*\\bwaited\\b[^"]*" data-index="${waited.index + 1}"[^>]*data-waited-for="${waited.waitedFor![0]! + 1}"[\\s\\S]*?</g>`));
    expect(step, 'the waited step').not.toBeNull();
    // s-running: the run reached its verdict while the step still waited, so the bar runs to the bottom.
    expect(step![0]).toMatch(/<rect class="box (s-ok|s-running) waiting[^"]*" [^>]*fill="url\(#d-[^)]+-hatch\)"/);
    expect(step![0]).toMatch(new RegExp(`(waited|waiting) for session ${waited.waitedFor![0]! + 1}`));
    // The bar spans the steps other sessions ran while it waited: it is taller than a step that did not wait.
    const height = (s: string) => Number(/<rect class="box [^"]*" x="[^"]+" y="[^"]+" width="14" height="([\d.]+)"/.exec(s)?.[1]);
    const plain = svg.match(/<g class="step k-op s-ok"[\s\S]*?<\/g>/)![0];
    expect(height(step![0])).toBeGreaterThan(2 * height(plain));
    if (waited.endedAt > waited.startedAt) expect(svg).toContain('class="wait-arrow"');
  });

  it('highlights the failing cells of a truth table', async () => {
    // A real truth table from a passing check, with one cell's outcome turned into a failure.
    const document = copyOf(runs.race);
    const check = document.rules[0]!.checks[0]!;
    check.truthTable = { columns: ['status'], rows: [
      { cell: "(status='PENDING')", values: { status: 'PENDING' }, expected: 'accept', insert: 'committed', update: 'committed', ok: true },
      { cell: "(status='DENIED')", values: { status: 'DENIED' }, expected: 'reject', insert: 'committed', update: 'committed', ok: false },
    ] };
    const { html } = await writeHtml(document, join(runs.dir, 'html', 'truth-table'));
    expect(html).toContain('1 of 2 cells fail');
    expect(html.match(/<tr class="fail">/g)).toHaveLength(1);
    expect(html).toMatch(/<tr class="fail"><td class="mark">✗<\/td><td class="cell"><code>\(status=&#39;DENIED&#39;\)<\/code>/);
  });

  it('escapes SQL, values and messages from the run, and hides passwords', async () => {
    const document = copyOf(runs.race);
    const rule = document.rules[0]!;
    const c = rule.checks[0]!.counterexample!;
    rule.title = '</svg><img src=x onerror=alert(1)>';
    c.history[0]!.label = `insert '<script>alert("x")</script>' & more`;
    c.history[0]!.sql = 'SELECT 1 -- ]]> </title>';
    c.offendingRows = [{ 'a<b': '<i>row</i>', nested: { x: '"q"' } }];
    rule.checks[0]!.notes.push('connected to postgresql://app:s3cret@db:5432/x');
    // A URL without a password, then an "@" further on: the markup in between must survive redaction.
    rule.checks[0]!.notes.push('retried postgresql://localhost:5432/postgres');
    c.offendingRows.push({ email: 'bob@example.com' });
    const { html } = await writeHtml(document, join(runs.dir, 'html', 'hostile'));
    expect(html).not.toContain('s3cret');
    expect(html).toContain('postgresql://app:***@db:5432/x');
    expect(html).toContain('<li>retried postgresql://localhost:5432/postgres</li>');
    expect(html).toContain('<code>bob@example.com</code>');
    expect(html).not.toMatch(/<script|<img|<i>/);
    expect(html).toContain('&lt;/svg&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    for (const svg of diagrams(html)) expect(XMLValidator.validate(svg)).toBe(true);
  });

  it.skipIf(!hasChromium && !process.env.CI)('renders in headless Chromium: no console message, the diagram in the DOM, a screenshot that is not blank', async () => {
    if (!hasChromium) throw new Error(`CI needs Chromium at ${CHROMIUM}: apt-get update && apt-get install -y chromium`);
    const dir = join(runs.dir, 'html', 'browser');
    const { file } = await writeHtml(runs.waited, dir);
    const shot = join(dir, 'shot.png');

    const rendered = await chromium(file, dir, ['--enable-logging=stderr', '--v=0', `--screenshot=${shot}`, '--window-size=1280,2000']);
    // The page has no script, so any console line is a problem: an error, or a CSP refusal to load something.
    const consoleLines = rendered.stderr.split('\n').filter((line) => /:CONSOLE[:(]|Uncaught|Refused to/.test(line));
    expect(consoleLines).toEqual([]);

    const png = decodePng(await readFile(shot));
    expect([png.width, png.height]).toEqual([1280, 2000]);
    expect(distinctColours(png)).toBeGreaterThan(200);
    // The red outline of the step where the rule broke, the dark lane headers, and the hatched wait bar are drawn.
    expect(countNear(png, [0xdc, 0x26, 0x26], 30)).toBeGreaterThan(300);
    expect(countNear(png, [0x1e, 0x29, 0x3b], 12)).toBeGreaterThan(2 * 2000);
    expect(countNear(png, [0xf5, 0x9e, 0x0b], 30)).toBeGreaterThan(50);
    if (process.env.PGCONFORM_KEEP_REPORTS) console.info(`screenshot: ${shot}`);

    const dom = await chromium(file, dir, ['--dump-dom']);
    const svgs = diagrams(dom.stdout);
    expect(svgs).toHaveLength(1);
    expect(svgs[0]!.match(/<g class="lane" /g)).toHaveLength(2);
    expect(svgs[0]).toContain('rule broken here');
  });
});
