// Done-when of `pgconform init`: for every rule folder of fixtures/, the configuration init proposes
// from reference.sql alone, run unchanged, reaches the same pass/fail verdict as the hand-written spec
// on every fixture of the folder (reference, seed, mutants, equivalents), on the embedded server.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkRuleReferences } from '../../src/catalog/rule-references.ts';
import { loadConfig } from '../../src/config/config-file.ts';
import type { StartedServer } from '../../src/db/provider.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { runOnServer } from '../../src/engine/run.ts';
import { catalogOfSchema, writeInitConfig } from '../../src/init/init.ts';
import type { Rule } from '../../src/rules/rule.ts';
import { schemaFilesAt } from '../../src/source/schema-source.ts';
import { expectedVerdict, readFixtures, type Fixture } from '../../src/spec/fixture.ts';
import { defaultSpecsDir, loadSpecs } from '../../src/spec/loader.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
/** Folders that are not one rule's zoo: a configured example, migrations, a sample project. */
const NOT_RULE_FOLDERS = new Set(['configured', 'migrations', 'sample-project']);
/**
 * The field rules' folders (a counter, a ledger, bookings, seats, transitions): init drafts SQL-template rules
 * for their shapes, which hold once their pools are chosen (test/init/sql-shapes.test.ts); it proposes no
 * working rule to compare here.
 */
const SQL_RULE_FOLDERS = new Set(['comment-count-matches', 'balance-never-negative', 'no-overlapping-bookings', 'seat-limit', 'order-status-transitions']);
const FOLDERS = readdirSync(FIXTURES).filter((name) => !NOT_RULE_FOLDERS.has(name) && !SQL_RULE_FOLDERS.has(name) && existsSync(join(FIXTURES, name, 'reference.sql')));
// As the detection matrix: a fixture expected to fail stops at its first failure, so its larger budget
// only costs when it escapes; passing ones pay for every run.
const PASS_RUNS = 100;
const FAIL_RUNS = 500;
/** Fixtures of one folder checked at once (two folders run at once: six connections' worth of scenarios). */
const FIXTURES_AT_ONCE = 3;

const handSpecs = await loadSpecs([], defaultSpecsDir());

/** The template a built rule came from, read from its shape (the Rule interface does not name it). */
function templateOf(rule: Rule): string {
  const keys = new Set(rule.references.map((r) => r.key));
  if (keys.has('child.ref')) return 'child-requires-parent';
  if (keys.has('parent.exemptColumn')) return 'at-most-one-child';
  return rule.truthTable ? 'row-predicate' : 'scoped-unique';
}

interface Row {
  readonly fixture: string;
  readonly expected: string;
  readonly verdicts: string;
  readonly agrees: boolean;
}

describe('pgconform init on every rule folder of fixtures/', () => {
  let server: StartedServer;
  const dir = mkdtempSync(join(tmpdir(), 'pgconform-init-fixtures-'));
  const summary: string[] = [];
  beforeAll(async () => {
    server = await new UrlProvider(inject('embeddedUrl')).start();
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    console.log(`init proposals against the hand-written specs (pass/fail agreement per fixture):\n${summary.sort().join('\n')}`);
  });

  it('covers the rule folders', () => {
    expect(FOLDERS.length).toBeGreaterThanOrEqual(7);
  });

  it.concurrent.each(FOLDERS)('%s: the proposal from reference.sql agrees with the hand-written spec on every fixture', async (folder) => {
    const folderDir = join(FIXTURES, folder);
    const reference = join(folderDir, 'reference.sql');
    const fixtures = readFixtures(folderDir);
    // The hand-written spec of the folder whose reading of reference.sql is "pass" (super-admin-tenant has a strict variant too).
    const hand = handSpecs.find((spec) => spec.fixtures === folderDir && expectedVerdict(fixtures.find((f) => f.kind === 'reference')!, spec.rule.id) === 'pass');
    expect(hand, `a hand-written spec for ${folder}`).toBeDefined();

    const catalog = await catalogOfSchema(server, schemaFilesAt([reference]));
    const out = join(dir, folder, 'pgconform.config.json');
    const proposal = await writeInitConfig(catalog, { out, format: 'json', force: false, header: { from: reference } });
    const drafts = proposal.rules.filter((rule) => rule.kind === 'draft');
    expect(drafts, `${folder}: drafts`).toEqual([]);
    // What the file says, loaded as `run --config` loads it; every name it uses is in the schema it came from.
    const config = await loadConfig(out);
    for (const rule of config.rules) checkRuleReferences(catalog, rule);
    expect(config.rules.map(templateOf), `${folder}: a rule of the hand-written spec's template`).toContain(templateOf(hand!.rule));

    // The rule of the hand-written spec's template first: the configuration fails when any of its rules
    // fails, so the rules after a failing one cannot change the outcome and are not run.
    const specs = config.rules
      .map((rule) => ({ rule, file: out }))
      .sort((a, b) => Number(templateOf(b.rule) === templateOf(hand!.rule)) - Number(templateOf(a.rule) === templateOf(hand!.rule)));
    const rows: Row[] = [];
    const check = async (fixture: Fixture) => {
      const expected = expectedVerdict(fixture, hand!.rule.id)!;
      const verdicts: string[] = [];
      for (const spec of specs) {
        const result = await runOnServer(server, {
          specs: [spec],
          schema: [fixture.file],
          isolation: ['read-committed'],
          runs: expected === 'pass' ? PASS_RUNS : FAIL_RUNS,
          seed: 1,
          workers: 1,
        });
        verdicts.push(`${spec.rule.id}=${result.rules[0]!.verdict}`);
        if (result.rules[0]!.verdict !== 'pass') break;
      }
      const failed = verdicts.some((v) => !v.endsWith('=pass'));
      rows.push({ fixture: fixture.name, expected, verdicts: verdicts.join(' '), agrees: failed === (expected !== 'pass') && !verdicts.some((v) => v.endsWith('=error')) });
    };
    const queue = fixtures.filter((fixture) => expectedVerdict(fixture, hand!.rule.id) !== undefined);
    await Promise.all(Array.from({ length: FIXTURES_AT_ONCE }, async () => {
      for (let fixture = queue.shift(); fixture; fixture = queue.shift()) await check(fixture);
    }));

    const agreeing = rows.filter((row) => row.agrees).length;
    summary.push(`  ${folder}: ${agreeing}/${rows.length} agree (rules: ${config.rules.map((r) => `${templateOf(r)} ${r.id}`).join(', ')})`);
    expect(rows.filter((row) => !row.agrees), `${folder}: fixtures where the proposal disagrees with ${hand!.rule.id}`).toEqual([]);
    expect(rows.length).toBe(fixtures.filter((fixture) => expectedVerdict(fixture, hand!.rule.id) !== undefined).length);
  }, 600_000);
});
