// junit.xml from real runs: parsed by a real XML parser, checked for the structure CI systems read,
// its counts against the document, and its escaping and redaction of what a run can put in it.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReporters } from '../../src/report/registry.ts';
import type { ReportDocument } from '../../src/report/report-document.ts';
import { checksOf, copyOf, localServerReachable, realRuns, removeScratch, type RealRuns } from './real-runs.ts';

interface Testcase {
  '@_name': string;
  '@_classname': string;
  '@_time': string;
  failure?: Array<{ '@_message': string; '@_type': string; '#text': string }>;
  error?: Array<{ '@_message': string; '@_type': string; '#text': string }>;
}

interface Suite {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  '@_errors': string;
  '@_time': string;
  '@_timestamp': string;
  properties: Array<{ property: Array<{ '@_name': string; '@_value': string }> }>;
  testcase: Testcase[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => ['testsuite', 'testcase', 'failure', 'error', 'properties', 'property'].includes(name),
});

/** Writes junit.xml through the registry, as the CLI does, and returns the text and its parsed suite. */
async function writeJunit(document: ReportDocument, dir: string): Promise<{ xml: string; suite: Suite; root: Record<string, string> }> {
  await mkdir(dir, { recursive: true });
  const [reporter] = createReporters(['junit'], { reportDir: dir, out: () => undefined, quiet: true });
  const file = await reporter!.onRunEnd(document);
  expect(file).toBe(join(dir, 'junit.xml'));
  const xml = await readFile(join(dir, 'junit.xml'), 'utf8');
  expect(XMLValidator.validate(xml)).toBe(true);
  const parsed = parser.parse(xml) as { testsuites: Record<string, string> & { testsuite: Suite[] } };
  expect(parsed.testsuites.testsuite).toHaveLength(1);
  return { xml, suite: parsed.testsuites.testsuite[0]!, root: parsed.testsuites };
}

const reachable = await localServerReachable();

describe.skipIf(!reachable)('junit reporter on real runs', () => {
  let runs: RealRuns;
  beforeAll(async () => {
    runs = await realRuns();
  });
  afterAll(() => removeScratch(runs?.dir));

  it('has one testcase per rule and isolation level, with counts that match the document', async () => {
    for (const [name, document] of Object.entries({ overRestrictive: runs.overRestrictive, race: runs.race, waited: runs.waited })) {
      const { suite, root } = await writeJunit(document, join(runs.dir, 'junit', name));
      const checks = checksOf(document);
      const failing = checks.filter(({ check }) => check.verdict === 'violation' || check.verdict === 'over-restrictive');
      expect(suite['@_name']).toBe('pgconform');
      expect(Number(suite['@_tests'])).toBe(checks.length);
      expect(Number(suite['@_failures'])).toBe(failing.length);
      expect(Number(suite['@_errors'])).toBe(0);
      expect(Number(root['@_tests'])).toBe(checks.length);
      expect(Number(suite['@_time'])).toBeCloseTo(document.durationMs / 1000, 2);
      expect(suite['@_timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      expect(suite.properties[0]!.property.find((p) => p['@_name'] === 'seed')?.['@_value']).toBe('1');
      expect(suite.testcase.map((t) => [t['@_classname'], t['@_name']])).toEqual(checks.map(({ rule, check }) => [rule.id, `${rule.id} [${check.isolation}]`]));
      for (const [i, { check }] of checks.entries()) {
        const testcase = suite.testcase[i]!;
        expect(Number(testcase['@_time'])).toBeCloseTo(check.durationMs / 1000, 2);
        if (check.verdict === 'pass') expect(testcase.failure, testcase['@_name']).toBeUndefined();
        else expect(testcase.failure?.[0]?.['@_type'], testcase['@_name']).toBe(check.verdict);
      }
    }
  });

  it('puts the counterexample in the failure: timeline per session, offending rows, replay command', async () => {
    const { suite } = await writeJunit(runs.race, join(runs.dir, 'junit', 'race-text'));
    const check = runs.race.rules[0]!.checks.find((c) => c.verdict === 'violation')!;
    const c = check.counterexample!;
    const failure = suite.testcase.find((t) => t['@_name'].endsWith(`[${check.isolation}]`))!.failure![0]!;
    expect(failure['@_message']).toBe(`a committed state breaks the rule after step ${c.atEvent! + 1} [${check.isolation}]`);
    const text = failure['#text'];
    expect(text).toContain('session 1');
    expect(text).toContain('session 2');
    // The labels carry quotes (status='PENDING'): they must come back from the parser unchanged.
    for (const event of c.history) expect(text).toContain(event.label.slice(0, 20));
    expect(text).toContain(`▶${String(c.atEvent! + 1).padStart(2)}`);
    expect(text).toContain(JSON.stringify(c.offendingRows![0]));
    expect(text).toContain(`replay: ${c.replay}`);
  });

  it('marks over-restrictive findings with their own failure type and judgement', async () => {
    const { suite } = await writeJunit(runs.overRestrictive, join(runs.dir, 'junit', 'over'));
    const c = runs.overRestrictive.rules[0]!.checks[0]!.counterexample!;
    const failure = suite.testcase[0]!.failure![0]!;
    expect(failure['@_type']).toBe('over-restrictive');
    expect(failure['@_message']).toContain(`the schema rejected step ${c.atEvent! + 1}`);
    expect(failure['#text']).toContain('rejected 23505');
  });

  it('turns an error verdict and a stopped run into <error> elements, escaped and without passwords', async () => {
    // A real document, with one check turned into what an infrastructure error looks like.
    const document = copyOf(runs.race);
    const check = document.rules[0]!.checks[1]!;
    check.verdict = 'error';
    check.error = 'lost postgresql://app:s3cret@db.internal:5432/x <&> "quoted" \u0001 ]]>';
    document.error = 'cannot reach postgres://admin:hunter2@10.0.0.1/postgres';
    const { xml, suite, root } = await writeJunit(document, join(runs.dir, 'junit', 'error'));
    expect(xml).not.toContain('s3cret');
    expect(xml).not.toContain('hunter2');
    expect(Number(suite['@_errors'])).toBe(2);
    expect(Number(root['@_errors'])).toBe(2);
    expect(Number(suite['@_tests'])).toBe(3);
    const errored = suite.testcase.find((t) => t['@_name'] === `${document.rules[0]!.id} [${check.isolation}]`)!;
    expect(errored.error![0]!['@_message']).toBe('lost postgresql://app:***@db.internal:5432/x <&> "quoted"  ]]>');
    expect(suite.testcase.at(-1)!.error![0]!['@_message']).toBe('cannot reach postgres://admin:***@10.0.0.1/postgres');
  });
});
