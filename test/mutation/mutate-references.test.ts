// pgconform mutate on every reference fixture, each with its own spec, on the embedded server: every
// mutant that changes what the rule allows is killed, the survivors are named and explained, and the
// mutants cover every kind of object the fixture has (expectations read from the catalog, not counted by hand).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findTable, readCatalog, type Catalog } from '../../src/catalog/catalog.ts';
import { connect } from '../../src/db/connection.ts';
import type { StartedServer } from '../../src/db/provider.ts';
import { Sandbox } from '../../src/db/sandbox.ts';
import { readSchemaFiles, type SchemaFile } from '../../src/db/schema-source.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import type { MutantKind } from '../../src/mutation/derive-mutants.ts';
import { mutateOnServer, mutationExitCode } from '../../src/mutation/mutation-run.ts';
import { splitTopLevel } from '../../src/catalog/definition-text.ts';
import type { Rule } from '../../src/rules/rule.ts';
import { expectedVerdict, readFixtures } from '../../src/spec/fixture.ts';
import { defaultSpecsDir, loadSpecs } from '../../src/spec/loader.ts';

/** Small runs keep the whole file within a few minutes on two cores; checks run two at a time. */
const RUNS = 50;
const WORKERS = 2;

const specs = await loadSpecs([], defaultSpecsDir());
const rows = specs.map((spec) => {
  const reference = readFixtures(spec.fixtures!).find((f) => f.kind === 'reference')!;
  return { spec, reference, expected: expectedVerdict(reference, spec.rule.id) ?? 'pass' };
});
const timings: string[] = [];
let server: StartedServer;

beforeAll(async () => {
  server = await new UrlProvider(inject('embeddedUrl')).start();
});
afterAll(async () => {
  console.log(`mutate per reference fixture (runs ${RUNS}, workers ${WORKERS}):\n${timings.join('\n')}`);
  await server?.stop();
});

describe('pgconform mutate on the reference fixtures', () => {
  it('has a reference fixture for each of the 13 rules (8 seed specs, 5 field rules)', () => {
    expect(rows.map((r) => r.spec.rule.id).sort()).toHaveLength(13);
  });

  it.each(rows.map((r) => [`${r.spec.rule.id} × ${r.reference.file.split('fixtures/')[1]}`, r] as const))('%s', async (_, { spec, reference, expected }) => {
    const schema = await readSchemaFiles([reference.file]);
    const started = performance.now();
    const result = await mutateOnServer(server, { specs: [spec], schema, named: true, isolation: 'read-committed', runs: RUNS, seed: 1, workers: WORKERS });
    const rule = result.rules[0]!;
    timings.push(
      `  ${spec.rule.id.padEnd(28)} ${String(Math.round(performance.now() - started)).padStart(6)} ms  ${rule.mutants.length} mutants: ${rule.killed} killed, ${rule.survived} survived, ${rule.notApplicable} n/a`,
    );

    if (expected !== 'pass') {
      // The reference breaks this rule on purpose (the strict variant): reported, its mutants not scored.
      expect(rule.baseline.verdict).toBe(expected);
      expect(rule.mutants).toEqual([]);
      expect(mutationExitCode(result)).toBe(1);
      return;
    }
    expect(rule.baseline.verdict, rule.baseline.notes.join('\n')).toBe('pass');
    const weak = rule.mutants.filter((m) => m.survivor?.kind === 'weak-spec');
    expect(weak.map((m) => `${m.name}: ${m.survivor!.explanation}\n${(m.survivor!.example ?? []).join('\n')}`)).toEqual([]);
    expect(rule.killed).toBeGreaterThanOrEqual(1);
    expect(mutationExitCode(result)).toBe(0);
    // The mutants of objects that do not enforce the rule are listed, not run.
    expect(rule.killed + rule.survived + rule.notApplicable + rule.unscored).toBe(rule.mutants.length);
    for (const mutant of rule.mutants) expect(mutant.status === 'not-run', mutant.name).toBe(mutant.apart !== undefined);
    // The score counts the mutants of objects that enforce the rule; the others are listed apart.
    const scored = rule.mutants.filter((m) => m.apart === undefined);
    const [scoredKilled, scoredSurvived] = (['killed', 'survived'] as const).map((status) => scored.filter((m) => m.status === status).length);
    expect(rule.score).toBeCloseTo(scoredKilled! / (scoredKilled! + scoredSurvived!));
    expect(rule.unscored).toBe(rule.mutants.length - scored.length);
    for (const mutant of rule.mutants) {
      if (mutant.status === 'survived') expect(mutant.survivor!.explanation, mutant.name).toMatch(/does not change what the rule allows|changes only outcomes the rule does not judge/);
      if (mutant.status === 'not-applicable') expect(mutant.reason, mutant.name).toMatch(/does not apply: /);
      if (mutant.status === 'killed') expect(['violation', 'over-restrictive']).toContain(mutant.verdict);
    }
    const kinds = new Set(rule.mutants.map((m) => m.kind));
    for (const kind of kindsTheCatalogCalls(await catalogOf(schema), spec.rule)) expect(kinds, `${kind} expected`).toContain(kind);
  }, 360_000); // every mutant of a reference is checked, then diffed: minutes on a busy 2-core machine
});

/** The catalog of a schema as applied. */
async function catalogOf(schema: SchemaFile[]): Promise<Catalog> {
  const sandbox = await Sandbox.create(server, schema);
  try {
    const client = await connect(sandbox.settingsFor(sandbox.template));
    try {
      return await readCatalog(client);
    } finally {
      await client.end();
    }
  } finally {
    await sandbox.dispose();
  }
}

/** The kinds of mutant the objects on the rule's tables call for. */
function kindsTheCatalogCalls(catalog: Catalog, rule: Rule): Set<MutantKind> {
  const tables = new Set(rule.tables.map((t) => findTable(catalog, t)?.qualified));
  const kinds = new Set<MutantKind>();
  for (const index of catalog.indexes.filter((i) => tables.has(i.table) && i.unique && !i.constraint)) {
    kinds.add('drop-index').add('non-unique');
    if (index.predicate) kinds.add('strip-predicate');
    if (index.predicate && splitTopLevel(index.predicate, 'AND').length > 1) kinds.add('strip-predicate-conjunct');
    if (index.keys.length > 1) kinds.add('drop-key-column');
  }
  for (const constraint of catalog.constraints.filter((c) => tables.has(c.table))) {
    if (constraint.type === 'c') kinds.add('drop-check');
    if (constraint.type === 'c' && (splitTopLevel(constraint.definition.replace(/^CHECK /, ''), 'OR').length > 1 || splitTopLevel(constraint.definition.replace(/^CHECK /, ''), 'AND').length > 1)) kinds.add('drop-check-branch');
    if (constraint.type === 'u' || constraint.type === 'p' || constraint.type === 'x') kinds.add('drop-constraint');
    if ((constraint.type === 'u' || constraint.type === 'p') && constraint.columns.length > 1) kinds.add('drop-key-column');
    if (constraint.type === 'f') kinds.add('drop-foreign-key');
  }
  for (const trigger of catalog.triggers.filter((t) => tables.has(t.table))) {
    kinds.add('drop-trigger');
    if (trigger.events.includes('INSERT') && trigger.events.length > 1) kinds.add('insert-only-trigger');
  }
  for (const reference of rule.references) {
    const table = findTable(catalog, reference.table);
    const column = table?.columns.find((c) => c.name === reference.column);
    if (table && column?.notNull && !table.primaryKey.includes(column.name)) kinds.add('drop-not-null');
  }
  return kinds;
}
