import { readCatalog, type Catalog } from '../catalog/catalog.ts';
import { connect, type ConnectionSettings } from '../db/connection.ts';
import type { StartedServer } from '../db/provider.ts';
import { Sandbox } from '../db/sandbox.ts';
import { readSchemaFiles, type SchemaFile } from '../db/schema-source.ts';
import { isSchemaSource, schemaFiles, type SchemaSource } from '../source/schema-source.ts';
import { diffRule } from '../diff/behaviour-diff.ts';
import { missingTables, type SkippedRule } from '../diff/diff-schemas.ts';
import { modelDatabaseFor, ScenarioExecutor } from '../engine/executor.ts';
import { checkRule, type RuleCheck } from '../engine/rule-check.ts';
import { DEFAULT_SHAPE, stepCount, type IsolationLevel, type ScenarioShape } from '../engine/scenario.ts';
import type { VerdictKind } from '../engine/verdict.ts';
import { isKitError, KitError } from '../errors/kit-error.ts';
import type { Rule } from '../rules/rule.ts';
import type { LoadedSpec } from '../spec/loader.ts';
import { deriveMutants, type Mutant, type MutantKind } from './derive-mutants.ts';
import { changesCausedByMutant, classifySurvivor, type SurvivorClass } from './survivor.ts';
import { objectsApart, type ApartReason } from './enforcing-objects.ts';

/** What to mutate and how hard to check each mutant. */
export interface MutationOptions {
  readonly specs: readonly LoadedSpec[];
  /** The schema (SQL files applied in order, or any source run takes); when absent, each spec's own default schema. */
  readonly schema?: readonly SchemaFile[] | SchemaSource;
  /** The user named these rules: one whose tables the schema lacks is an error, not skipped. */
  readonly named: boolean;
  /** One or several levels: each rule's mutants are checked at each. */
  readonly isolation: IsolationLevel | readonly IsolationLevel[];
  /** Scenarios per check of a rule on a mutant, and per behaviour diff of a survivor. */
  readonly runs: number;
  readonly seed: number;
  readonly shape?: ScenarioShape;
  /** Mutants checked at once, each on databases of its own (default 2). */
  readonly workers?: number;
  /** Aborting stops after the checks in flight; the run then fails as interrupted. */
  readonly signal?: AbortSignal;
  /** Called when a check ends (progress). */
  readonly onProgress?: (line: string) => void;
  /** Run and score the mutants of every object on the rule's tables, not only of those that enforce the rule (the others are listed, not run). */
  readonly allObjects?: boolean;
}

/** How one mutant fared against one rule; not-run: its object does not enforce the rule, so it was listed, not checked. */
export type MutantStatus = 'killed' | 'survived' | 'not-applicable' | 'not-run';

/** One mutant of the schema, checked against one rule. */
export interface MutantResult {
  readonly name: string;
  readonly kind: MutantKind;
  readonly sql: string;
  readonly status: MutantStatus;
  /** Killed: the verdict the rule reached on the mutant, and the steps of its shrunk counterexample. */
  readonly verdict?: Exclude<VerdictKind, 'pass' | 'error'>;
  readonly counterexampleSteps?: number;
  /** Not applicable: why (the SQL failed, or the mutant no longer fits the rule). */
  readonly reason?: string;
  /** Survived: what the behaviour diff says it means. */
  readonly survivor?: SurvivorClass;
  /** Why the mutant is not scored: its object does not enforce the rule (another rule's index, a NOT NULL …). */
  readonly apart?: string;
  readonly durationMs: number;
}

/** One rule's mutation score on one schema. */
export interface RuleMutation {
  readonly ruleId: string;
  readonly title: string;
  readonly specFile: string;
  readonly schema: readonly string[];
  /** The isolation level the rule's checks ran at (a rule checked at several levels has a RuleMutation each). */
  readonly isolation: IsolationLevel;
  /** The rule on the unmutated schema; its mutants are scored only when it holds. */
  readonly baseline: { readonly verdict: VerdictKind; readonly counterexampleSteps?: number; readonly notes: readonly string[] };
  readonly mutants: readonly MutantResult[];
  readonly killed: number;
  readonly survived: number;
  readonly notApplicable: number;
  /** killed / (killed + survived) over the scored mutants (those of objects that enforce the rule), or null when none was scored. */
  readonly score: number | null;
  /** Mutants of objects that do not enforce the rule: listed, never scored, never failing the run. */
  readonly unscored: number;
  /** Scored survivors that change behaviour the spec should state (a weak spec). */
  readonly weakSpec: number;
  /** Time spent on this rule's checks and diffs (its share of the run; checks overlap across workers). */
  readonly durationMs: number;
}

/** Everything a mutation run found. */
export interface MutationResult {
  readonly startedAt: string;
  readonly durationMs: number;
  readonly server: { readonly provider: string; readonly version: number };
  readonly options: { readonly seed: number; readonly runs: number; readonly isolation: readonly IsolationLevel[]; readonly maxSessions: number };
  readonly rules: readonly RuleMutation[];
  /** Rules left out because the schema lacks their tables (only when no rule was named). */
  readonly skipped: readonly SkippedRule[];
}

/** Exit code of a mutation run: 1 when a rule fails on its original schema or a behaviour-changing mutant survives, else 0. */
export function mutationExitCode(result: MutationResult): 0 | 1 {
  return result.rules.some((rule) => rule.baseline.verdict !== 'pass' || rule.weakSpec > 0) ? 1 : 0;
}

/**
 * Derives mutants of each schema from its catalog, checks every rule on each mutant of the objects
 * touching its tables, and classifies the survivors with a behaviour diff of the original and the
 * mutant on the rule's own operations. Every database it creates is dropped whatever happens.
 */
export async function mutateOnServer(server: StartedServer, options: MutationOptions): Promise<MutationResult> {
  const started = new Date();
  const t0 = performance.now();
  const rules: RuleMutation[] = [];
  const skipped: SkippedRule[] = [];
  for (const group of await groupBySchema(options)) {
    const mutated = await mutateSchema(server, group.source, group.specs, options);
    rules.push(...mutated.rules);
    skipped.push(...mutated.skipped);
  }
  const shape = options.shape ?? DEFAULT_SHAPE;
  return {
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    server: { provider: server.provider, version: server.serverVersion },
    options: { seed: options.seed, runs: options.runs, isolation: levelsOf(options), maxSessions: shape.maxSessions },
    rules,
    skipped,
  };
}

/** The isolation levels of a run, in the order given. */
function levelsOf(options: MutationOptions): readonly IsolationLevel[] {
  return typeof options.isolation === 'string' ? [options.isolation] : [...options.isolation];
}

/** Specs sharing schema files share one original sandbox and its mutants. */
async function groupBySchema(options: MutationOptions): Promise<Array<{ source: SchemaSource; specs: LoadedSpec[] }>> {
  if (options.schema) return [{ source: isSchemaSource(options.schema) ? options.schema : schemaFiles(options.schema), specs: [...options.specs] }];
  const groups = new Map<string, { paths: readonly string[]; specs: LoadedSpec[] }>();
  for (const spec of options.specs) {
    const paths = spec.defaultSchema ?? [];
    if (paths.length === 0) {
      throw new KitError('usage', `rule "${spec.rule.id}" has no schema to mutate`, { fix: 'pass --schema <file.sql>, or name a defaultSchema in the spec' });
    }
    const key = JSON.stringify(paths);
    const group = groups.get(key) ?? { paths, specs: [] };
    group.specs.push(spec);
    groups.set(key, group);
  }
  return Promise.all([...groups.values()].map(async (g) => ({ source: schemaFiles(await readSchemaFiles(g.paths)), specs: g.specs })));
}

/** A rule under mutation at one isolation level: its spec, baseline check and mutants. */
interface RuleUnderTest {
  readonly spec: LoadedSpec;
  readonly isolation: IsolationLevel;
  baseline?: RuleCheck;
  mutants: Mutant[];
  /** Why a mutant's object does not enforce the rule (see enforcing-objects.ts); undefined when it does. */
  apart: ApartReason;
  readonly results: Map<string, MutantResult>;
  durationMs: number;
}

async function mutateSchema(
  server: StartedServer,
  source: SchemaSource,
  specs: readonly LoadedSpec[],
  options: MutationOptions,
): Promise<{ rules: RuleMutation[]; skipped: SkippedRule[] }> {
  const shape = options.shape ?? DEFAULT_SHAPE;
  const workers = Math.max(1, options.workers ?? 2);
  const original = await Sandbox.create(server, source);
  try {
    const catalog = await catalogOf(original);
    const skipped: SkippedRule[] = [];
    const underTest: RuleUnderTest[] = [];
    for (const spec of specs) {
      const missing = await missingTables(original.settingsFor(original.template), spec.rule, 'given');
      if (missing) {
        if (options.named) throw new KitError('schema', missing, { fix: "mutate a schema that defines the rule's tables, or name another rule" });
        skipped.push({ ruleId: spec.rule.id, kind: 'no-tables', reason: missing });
        continue;
      }
      for (const isolation of levelsOf(options)) underTest.push({ spec, isolation, mutants: [], apart: () => undefined, results: new Map(), durationMs: 0 });
    }

    // One database of the original schema per worker, and on it an executor for the rule the worker is on:
    // the baselines, then the original side of every survivor's diff.
    const originals = new OriginalExecutors(original, shape);
    try {
      await runPool(
        underTest.map((rut) => async (slot) => {
          const t = performance.now();
          try {
            rut.baseline = await check(rut.spec.rule, await originals.forRule(slot, rut.spec.rule), rut.isolation, options, shape);
          } catch (error) {
            // A schema with the rule's tables but other columns: an error when the rule was named, else skipped (once, whatever the levels).
            if (options.named || !isKitError(error) || error.kind !== 'schema') throw error;
            if (!skipped.some((s) => s.ruleId === rut.spec.rule.id)) skipped.push({ ruleId: rut.spec.rule.id, kind: 'misfit', reason: error.message });
            return;
          }
          rut.durationMs += performance.now() - t;
          options.onProgress?.(`${label(rut)}: ${rut.baseline.verdict} on the original schema`);
          if (rut.baseline.verdict === 'pass') {
            rut.mutants = deriveMutants(catalog, rut.spec.rule);
            if (!options.allObjects) rut.apart = objectsApart(rut.spec.rule, catalog);
          }
        }),
        workers,
        options.signal,
      );

      // A mutant of an object that does not enforce the rule is listed, not run; one several rules share is applied once.
      const byName = new Map<string, { mutant: Mutant; rules: RuleUnderTest[] }>();
      for (const rut of underTest) {
        for (const mutant of rut.mutants) {
          const apart = rut.apart(mutant.object);
          if (apart !== undefined) {
            rut.results.set(mutant.name, { name: mutant.name, kind: mutant.kind, sql: mutant.sql, status: 'not-run', apart, durationMs: 0 });
            continue;
          }
          const entry = byName.get(mutant.name) ?? { mutant, rules: [] };
          entry.rules.push(rut);
          byName.set(mutant.name, entry);
        }
      }
      await runPool(
        [...byName.values()].map(({ mutant, rules }) => async (slot) => {
          let sandbox: Sandbox;
          const t = performance.now();
          try {
            // The original template cloned and the mutant's statement applied: the schema is never built again.
            sandbox = await Sandbox.create(server, [{ path: `mutant: ${mutant.name}`, sql: mutant.sql }], { from: original });
          } catch (error) {
            if (!isKitError(error) || error.kind !== 'schema') throw error;
            const reason = error.message.replace(/^the schema does not apply: /, 'does not apply: ');
            for (const rut of rules) record(rut, notApplicable(rut, mutant, reason, performance.now() - t), options);
            return;
          }
          try {
            // A mutant is checked on one database only, so its template is used as it is rather than cloned.
            const database = sandbox.settingsFor(sandbox.template);
            for (const rut of rules) {
              const ruleMutant = rut.mutants.find((m) => m.name === mutant.name)!;
              // Cloned before anything connects to the mutant's template.
              const modelDb = await modelDatabaseFor(rut.spec.rule, () => sandbox.createWorkerDatabase());
              const result = await scoreMutant(rut, ruleMutant, () => originals.forRule(slot, rut.spec.rule), { database, modelDb }, options, shape);
              record(rut, result, options);
            }
          } finally {
            await sandbox.dispose();
          }
        }),
        workers,
        options.signal,
      );
    } finally {
      await originals.close();
    }

    const checked = underTest.filter((rut) => rut.baseline !== undefined);
    return { rules: checked.map((rut) => summarize(rut, source.labels)), skipped };
  } finally {
    await original.dispose();
  }
}

/** A rule and level as progress lines name them. */
function label(rut: RuleUnderTest): string {
  return `${rut.spec.rule.id} [${rut.isolation}]`;
}

/** The catalog of the schema as applied; the connection is closed before anything clones the template. */
async function catalogOf(sandbox: Sandbox): Promise<Catalog> {
  const client = await connect(sandbox.settingsFor(sandbox.template), { applicationName: 'pgconform-catalog' });
  try {
    return await readCatalog(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Checks one rule; an error verdict is the infrastructure's, never the rule's. */
async function check(rule: Rule, executor: ScenarioExecutor, isolation: IsolationLevel, options: MutationOptions, shape: ScenarioShape): Promise<RuleCheck> {
  const result = await checkRule(rule, executor, { isolation, runs: options.runs, seed: options.seed, shape, signal: options.signal });
  if (result.verdict === 'error') throw new KitError('infrastructure', `${rule.id}: ${result.error ?? 'the check failed'}`);
  return result;
}

/**
 * Killed when the rule fails on the mutant. A survivor is classified by the behaviour diff: the same
 * generated scenarios executed on the original and on the mutant, on the executors the checks used.
 */
async function scoreMutant(
  rut: RuleUnderTest,
  mutant: Mutant,
  original: () => Promise<ScenarioExecutor>,
  mutantDb: { database: ConnectionSettings; modelDb?: ConnectionSettings },
  options: MutationOptions,
  shape: ScenarioShape,
): Promise<MutantResult> {
  const t = performance.now();
  const { rule } = rut.spec;
  const base = { name: mutant.name, kind: mutant.kind, sql: mutant.sql };
  let executor: ScenarioExecutor | undefined;
  try {
    executor = await ScenarioExecutor.open(rule, mutantDb.database, { maxSessions: shape.maxSessions, modelDatabase: mutantDb.modelDb });
    const result = await check(rule, executor, rut.isolation, options, shape);
    if (result.verdict === 'violation' || result.verdict === 'over-restrictive') {
      const steps = result.counterexample ? stepCount(result.counterexample.scenario) : undefined;
      return { ...base, status: 'killed', verdict: result.verdict, ...(steps === undefined ? {} : { counterexampleSteps: steps }), durationMs: elapsed(t) };
    }
    const originalExecutor = await original();
    const diff = await diffRule(rule, originalExecutor, executor, { isolation: rut.isolation, runs: options.runs, seed: options.seed, shape, verdicts: false });
    const caused = await changesCausedByMutant(diff, originalExecutor);
    // The diff's example is a counterexample in its own right when the rule judges the change a failure of the
    // mutant: an operation it allows now rejected on a quiet state, or one that breaks it now accepted. The
    // check can miss it at a small budget (its search differs from the diff's), so it is counted as a kill.
    const failing = caused.find((c) => (c.direction === 'newly-rejected' && c.judged === 'allowed') || (c.direction === 'newly-accepted' && c.judged === 'breaks'));
    if (failing) {
      const verdict = failing.judged === 'breaks' ? ('violation' as const) : ('over-restrictive' as const);
      return { ...base, status: 'killed', verdict, counterexampleSteps: stepCount(failing.example.scenario), durationMs: elapsed(t) };
    }
    return { ...base, status: 'survived', survivor: classifySurvivor(mutant, diff, caused), durationMs: elapsed(t) };
  } catch (error) {
    // The mutant no longer fits the rule (its setup rows or operations fail on it): it cannot be scored.
    if (isKitError(error) && error.kind === 'schema') return { ...base, status: 'not-applicable', reason: error.message, durationMs: elapsed(t) };
    throw error;
  } finally {
    await executor?.close();
  }
}

/** Per worker slot, one database of the original schema and an executor on it for the rule the worker is on. */
class OriginalExecutors {
  private readonly slots: Array<{ database: ConnectionSettings; rule?: Rule; executor?: ScenarioExecutor }> = [];

  constructor(
    private readonly sandbox: Sandbox,
    private readonly shape: ScenarioShape,
  ) {}

  /** The slot's executor for this rule, opened (and the slot's previous one closed) when the rule changes. */
  async forRule(slot: number, rule: Rule): Promise<ScenarioExecutor> {
    const entry = (this.slots[slot] ??= { database: await this.sandbox.createWorkerDatabase() });
    if (entry.rule !== rule || !entry.executor) {
      await entry.executor?.close();
      entry.executor = undefined;
      const modelDatabase = await modelDatabaseFor(rule, () => this.sandbox.createWorkerDatabase());
      entry.executor = await ScenarioExecutor.open(rule, entry.database, { maxSessions: this.shape.maxSessions, modelDatabase });
      entry.rule = rule;
    }
    return entry.executor;
  }

  async close(): Promise<void> {
    for (const entry of this.slots) await entry?.executor?.close();
  }
}

function notApplicable(rut: RuleUnderTest, mutant: Mutant, reason: string, ms: number): MutantResult {
  const own = rut.mutants.find((m) => m.name === mutant.name) ?? mutant;
  return { name: own.name, kind: own.kind, sql: own.sql, status: 'not-applicable', reason, durationMs: Math.round(ms) };
}

function record(rut: RuleUnderTest, result: MutantResult, options: MutationOptions): void {
  rut.results.set(result.name, result);
  rut.durationMs += result.durationMs;
  const detail = result.status === 'killed' ? ` (${result.verdict})` : result.status === 'survived' ? ` (${result.survivor!.kind})` : '';
  options.onProgress?.(`${label(rut)}: ${result.name} → ${result.status}${detail}`);
}

function summarize(rut: RuleUnderTest, schema: readonly string[]): RuleMutation {
  // Results in the order the mutants were derived (object by object), not the order they finished.
  const mutants = rut.mutants.flatMap((m) => rut.results.get(m.name) ?? []);
  const count = (status: MutantStatus) => mutants.filter((m) => m.status === status).length;
  const scored = mutants.filter((m) => m.apart === undefined);
  const killedScored = scored.filter((m) => m.status === 'killed').length;
  const survivedScored = scored.filter((m) => m.status === 'survived').length;
  const baseline = rut.baseline!;
  return {
    ruleId: rut.spec.rule.id,
    title: rut.spec.rule.title,
    specFile: rut.spec.file,
    schema: [...schema],
    isolation: rut.isolation,
    baseline: {
      verdict: baseline.verdict,
      ...(baseline.counterexample ? { counterexampleSteps: stepCount(baseline.counterexample.scenario) } : {}),
      notes: baseline.notes,
    },
    mutants,
    killed: count('killed'),
    survived: count('survived'),
    notApplicable: count('not-applicable'),
    score: killedScored + survivedScored > 0 ? killedScored / (killedScored + survivedScored) : null,
    unscored: mutants.length - scored.length,
    weakSpec: scored.filter((m) => m.survivor?.kind === 'weak-spec').length,
    durationMs: Math.round(rut.durationMs),
  };
}

function elapsed(t: number): number {
  return Math.round(performance.now() - t);
}

/** Runs tasks with at most `size` at once, each told its worker slot; the first failure stops new tasks and is rethrown. */
async function runPool(tasks: readonly ((slot: number) => Promise<void>)[], size: number, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (slot: number) => {
    while (next < tasks.length && failure === undefined) {
      if (signal?.aborted) {
        failure ??= new KitError('infrastructure', `interrupted: ${String(signal.reason)}`);
        return;
      }
      const task = tasks[next++]!;
      try {
        await task(slot);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, tasks.length)) }, (_, slot) => worker(slot)));
  if (failure !== undefined) throw failure;
}
