// Exports of a real counterexample: an isolation-tester spec run by PostgreSQL's own isolationtester,
// and a vitest regression file run by vitest, each against the flawed schema and the fixed one.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rule } from '../../src/rules/rule.ts';
import { invariantText } from '../../src/rules/predicate.ts';
import { inlineParams, toIsolationSpec } from '../../src/report/export-isolation.ts';
import { toVitestRegression } from '../../src/report/export-vitest.ts';
import type { ReportDocument } from '../../src/report/report-document.ts';
import { loadSpecFile } from '../../src/spec/loader.ts';
import { isolationTester, runIsolationSpec } from '../isolation-tester.ts';
import { LOCAL_URL, RACE_SQL, WAIT_SQL, localServerReachable, realRuns, removeScratch, type RealRuns } from './real-runs.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);


function counterexampleOf(document: ReportDocument) {
  return document.rules[0]!.checks.find((check) => check.counterexample)!.counterexample!;
}


const reachable = await localServerReachable();
const tester = isolationTester();

describe.skipIf(!reachable)('exports of real counterexamples', () => {
  let runs: RealRuns;
  let rule: Rule;
  beforeAll(async () => {
    runs = await realRuns();
    rule = (await loadSpecFile(join(ROOT, 'specs/one-pending-request.ts')))[0]!.rule;
  });
  const scratch: string[] = [];
  afterAll(async () => {
    for (const dir of [runs?.dir, ...scratch]) await removeScratch(dir);
  });

  it('writes parameters as SQL literals', () => {
    expect(inlineParams('INSERT INTO t VALUES ($1, $2, $3, $4, $10)', ["it's", 42, true, null])).toBe("INSERT INTO t VALUES ('it''s', 42, true, NULL, $10)");
  });

  it('makes an isolation spec with one session per session and the steps permuted in the order they ran', () => {
    const c = counterexampleOf(runs.race);
    const spec = toIsolationSpec(c, { schema: RACE_SQL, setup: rule.setup, invariant: invariantText(rule), comment: [c.replay] });
    expect(spec).toContain(`# ${c.replay}`);
    expect(spec).toMatch(/^setup\n\{\n {2}CREATE TABLE access_requests/m);
    expect(spec).toMatch(/^teardown\n\{/m);
    const sessions = [...new Set(c.history.map((e) => e.session))];
    for (const s of sessions) expect(spec).toContain(`session s${s + 1}\nsetup\n{\n  SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED;\n}`);
    const permutation = spec.split('\n').find((line) => line.startsWith('permutation '))!.split(' ').slice(1);
    const inOrder = [...c.history].sort((a, b) => a.startedAt - b.startedAt);
    expect(permutation).toEqual([...inOrder.map((e) => expect.stringMatching(new RegExp(`^s${e.session + 1}_${e.index + 1}_`))), 'invariant']);
    for (const name of permutation) expect(spec).toContain(`step ${name}\n{`);
  });

  it.skipIf(!tester)('replays the race and the wait in isolationtester, which shows the rows that break the rule', async () => {
    for (const [document, schema] of [[runs.race, RACE_SQL], [runs.waited, WAIT_SQL]] as const) {
      const c = counterexampleOf(document);
      const spec = toIsolationSpec(c, { schema, setup: rule.setup, invariant: invariantText(rule) });
      const { code, output } = await runIsolationSpec(LOCAL_URL, tester!, spec);
      expect(code, output).toBe(0);
      expect(output).toContain('starting permutation:');
      expect(output).toMatch(/pending requests\|.*\| {3}2\|/);
      expect(output).not.toMatch(/^ERROR:/m);
      if (c.history.some((e) => e.waitedFor?.length)) expect(output).toContain('<waiting ...>');
    }
  });

  it('makes a vitest regression file that fails on the flawed schema and passes on the fixed one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgconform-regression-'));
    // The generated file imports pg and vitest as a user's project would: lend it ours.
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    scratch.push(dir);
    await writeFile(join(dir, 'vitest.config.mjs'), "export default { test: { include: ['*.test.ts'], testTimeout: 60000, hookTimeout: 60000 } };\n");
    const cases = [
      { name: 'race-flawed', c: counterexampleOf(runs.race), schema: join(runs.dir, 'race.sql'), pass: false, says: 'the committed state breaks the rule' },
      { name: 'race-fixed', c: counterexampleOf(runs.race), schema: join(ROOT, 'fixtures/one-pending-request/reference.sql'), pass: true, says: '' },
      { name: 'waited-flawed', c: counterexampleOf(runs.waited), schema: join(runs.dir, 'waited.sql'), pass: false, says: 'the committed state breaks the rule' },
      { name: 'over-flawed', c: counterexampleOf(runs.overRestrictive), schema: join(ROOT, 'fixtures/one-pending-request/seed.sql'), pass: false, says: 'is allowed by the rule but was rejected' },
      { name: 'over-fixed', c: counterexampleOf(runs.overRestrictive), schema: join(ROOT, 'fixtures/one-pending-request/reference.sql'), pass: true, says: '' },
    ];
    for (const { name, c, schema } of cases) {
      const text = toVitestRegression(c, { ruleId: 'one-pending-request', schemaFiles: [schema], setup: rule.setup, invariant: invariantText(rule) });
      await writeFile(join(dir, `${name}.test.ts`), text);
    }
    // The generated files must also type-check in a strict project, as a user's would be.
    const tsconfig = { compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'], skipLibCheck: true, noUncheckedIndexedAccess: true }, include: ['*.test.ts'] };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir], { cwd: dir, timeout: 120_000 });
    // Exits 1 because the flawed cases fail, as they must: the JSON results say which did.
    await run(join(ROOT, 'node_modules/.bin/vitest'), ['run', '--root', dir, '--reporter=json', `--outputFile=${join(dir, 'results.json')}`], {
      cwd: dir,
      env: { ...process.env, PGCONFORM_REGRESSION_URL: LOCAL_URL },
      timeout: 120_000,
    }).catch(() => undefined);
    const report = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as { testResults: Array<{ name: string; status: string; message: string; assertionResults: Array<{ status: string; failureMessages: string[] }> }> };
    for (const { name, pass, says } of cases) {
      const file = report.testResults.find((r) => r.name.endsWith(`${name}.test.ts`))!;
      expect(file, name).toBeDefined();
      expect(file.assertionResults.map((a) => a.status), `${name}: ${file.message}`).toEqual([pass ? 'passed' : 'failed']);
      if (!pass) expect(file.assertionResults[0]!.failureMessages.join('\n'), name).toContain(says);
    }
  });
});
