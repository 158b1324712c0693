import { readCatalog, type Catalog } from '../catalog/catalog.ts';
import { checkRuleReferences } from '../catalog/rule-references.ts';
import { connect } from '../db/connection.ts';
import type { DatabaseProvider, StartedServer } from '../db/provider.ts';
import { Sandbox } from '../db/sandbox.ts';
import { isKitError, KitError, type KitErrorKind } from '../errors/kit-error.ts';
import type { Corpus } from '../corpus/corpus.ts';
import { isSchemaSource, schemaFilesAt, type SchemaSource } from '../source/schema-source.ts';
import { displayPath, type LoadedSpec } from '../spec/loader.ts';
import type { CanonicalValues } from '../values/canonical-values.ts';
import { readRuleValues } from '../values/value-classes.ts';
import { modelDatabaseFor, ScenarioExecutor, type Execution, type Oracle } from './executor.ts';
import { GapClassifier } from './generator-gap.ts';
import { setupError } from './setup-failure.ts';
import { checkRule, type CheckOptions, type RuleCheck } from './rule-check.ts';
import { DEFAULT_SHAPE, type IsolationLevel, type ScenarioShape } from './scenario.ts';
import { SEVERITY, type VerdictKind } from './verdict.ts';

/** What to run and how hard: the search options of one rule check, for every rule and isolation level. */
export interface RunOptions extends Pick<CheckOptions, 'runs' | 'seed' | 'path' | 'timeBudgetMs' | 'shape' | 'stress' | 'signal'> {
  readonly specs: readonly LoadedSpec[];
  /**
   * The schema every rule runs on: files applied in order, or any SchemaSource (a migrations folder, a
   * migration command, a copied live schema; see src/source). When absent, each spec's own default schema.
   */
  readonly schema?: readonly string[] | SchemaSource;
  readonly isolation: readonly IsolationLevel[];
  /** Rule checks run at once, each on its own database (default 2). */
  readonly workers?: number;
  /** Which reference model judges rejections (default: the rule's own; rules without one use the database). */
  readonly oracle?: Oracle;
  /** Run only this job's share of the rule × isolation checks (1-based index of count), for CI machines in parallel. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Per-statement timeout of the sessions (default 5 s); a step that hits it is an infrastructure error. */
  readonly statementTimeoutMs?: number;
  /** Failures found before, replayed first; new confirmed failures are saved there. */
  readonly corpus?: Corpus;
  readonly listener?: RunListener;
}

/** Lifecycle events of a run, for reporters (all optional). */
export interface RunListener {
  onRunStart?(info: { server: StartedServer; specs: readonly LoadedSpec[]; options: RunOptions }): void;
  onCheckStart?(spec: LoadedSpec, isolation: IsolationLevel): void;
  onExecution?(spec: LoadedSpec, isolation: IsolationLevel, execution: Execution): void;
  onCheckEnd?(spec: LoadedSpec, check: RuleCheck): void;
}

/** One rule's results across isolation levels, on one schema. */
export interface RuleResult {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  readonly specFile: string;
  readonly schema: readonly string[];
  /** The worst verdict over its isolation levels. */
  readonly verdict: VerdictKind;
  readonly checks: readonly RuleCheck[];
}

/** Everything a run found. */
export interface RunResult {
  readonly startedAt: string;
  readonly durationMs: number;
  readonly server: { readonly provider: string; readonly version: number };
  readonly options: { seed: number; runs: number; isolation: readonly IsolationLevel[]; stress: boolean; maxSessions: number };
  readonly rules: readonly RuleResult[];
  /** Kit-level error that stopped the run early (the partial results are still here). */
  readonly error?: string;
}

/** Starts the server, checks every spec at every isolation level, and stops the server, whatever happens. */
export async function runConformance(provider: DatabaseProvider, options: RunOptions): Promise<RunResult> {
  const server = await provider.start();
  try {
    return await runOnServer(server, options);
  } finally {
    await server.stop();
  }
}

/** Runs the specs on a server that is already started (the caller stops it). */
export async function runOnServer(server: StartedServer, options: RunOptions): Promise<RunResult> {
  const started = new Date();
  const t0 = performance.now();
  const shape = options.shape ?? DEFAULT_SHAPE;
  options.listener?.onRunStart?.({ server, specs: options.specs, options });
  const share = shardChecks(options.specs, options.isolation, options.shard);
  const mine = (spec: LoadedSpec, isolation: IsolationLevel) => !share || share.has(`${spec.rule.id} ${isolation}`);
  const groups = groupBySchema(options.specs.filter((spec) => options.isolation.some((level) => mine(spec, level))), options.schema);
  const checks = new Map<LoadedSpec, RuleCheck[]>();
  const record = (spec: LoadedSpec, check: RuleCheck) => {
    checks.set(spec, [...(checks.get(spec) ?? []), check]);
    options.listener?.onCheckEnd?.(spec, check);
  };
  const failed = (spec: LoadedSpec, isolation: IsolationLevel, message: string, errorKind: KitErrorKind = 'infrastructure') =>
    record(spec, { ruleId: spec.rule.id, isolation, verdict: 'error', runs: 0, steps: 0, durationMs: 0, seed: options.seed, notes: [], error: message, errorKind });
  /** One rule's bad configuration (spec, schema, setup) is that rule's error verdict; the other rules run. */
  const failedOn = (spec: LoadedSpec, isolation: IsolationLevel, error: unknown) => {
    if (isInfrastructureError(error)) infrastructure ??= messageOf(error);
    failed(spec, isolation, messageOf(error), isKitError(error) ? error.kind : 'infrastructure');
  };
  let infrastructure: string | undefined;
  const sandboxes: Sandbox[] = [];
  try {
    const tasks: Array<() => Promise<void>> = [];
    for (const [source, specs] of groups) {
      let sandbox: Sandbox;
      try {
        sandbox = await Sandbox.create(server, source);
      } catch (error) {
        // A schema that does not apply is the user's to fix (exit 2); a server that fails is reported per check.
        if (!isInfrastructureError(error)) throw error;
        infrastructure ??= messageOf(error);
        for (const spec of specs) for (const isolation of options.isolation) failed(spec, isolation, messageOf(error));
        continue;
      }
      sandboxes.push(sandbox);
      const catalog = await catalogOf(sandbox);
      const values = await valuesOf(sandbox, catalog, specs);
      for (const spec of specs) {
        const levels = options.isolation.filter((isolation) => mine(spec, isolation));
        try {
          const read = values.get(spec);
          if (read instanceof Error) throw read;
        } catch (error) {
          if (!isKitError(error)) throw error;
          for (const isolation of levels) failedOn(spec, isolation, error);
          continue;
        }
        for (const isolation of levels) {
          tasks.push(async () => {
            if (options.signal?.aborted) return failed(spec, isolation, `not run: ${String(options.signal.reason)}`);
            options.listener?.onCheckStart?.(spec, isolation);
            try {
              record(spec, await checkOnNewDatabase(sandbox, catalog, spec, isolation, options, shape, values.get(spec) as CanonicalValues));
            } catch (error) {
              failedOn(spec, isolation, error);
            }
          });
        }
      }
    }
    await runPool(tasks, options.workers ?? 2);
  } finally {
    for (const sandbox of sandboxes) await sandbox.dispose();
  }
  // A database left behind is said, with the command that removes it: it is never silent.
  const leftovers = sandboxes.flatMap((sandbox) => sandbox.leftovers);
  if (leftovers.length > 0) {
    infrastructure ??= `could not drop ${leftovers.map((l) => l.name).join(', ')}: ${leftovers[0]!.reason} (drop them by hand: ${leftovers.map((l) => `DROP DATABASE "${l.name}";`).join(' ')})`;
  }
  const rules = [...groups].flatMap(([source, specs]) =>
    specs.map((spec): RuleResult => {
      const ruleChecks = options.isolation.filter((level) => mine(spec, level)).flatMap((level) => checks.get(spec)?.filter((c) => c.isolation === level) ?? []);
      return {
        id: spec.rule.id,
        title: spec.rule.title,
        source: spec.rule.source,
        specFile: spec.file,
        schema: source.labels,
        verdict: worst(ruleChecks.map((c) => c.verdict)),
        checks: ruleChecks,
      };
    }),
  );
  const interrupted = options.signal?.aborted ? `interrupted: ${String(options.signal.reason)}` : undefined;
  return {
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    server: { provider: server.provider, version: server.serverVersion },
    options: { seed: options.seed, runs: options.runs, isolation: options.isolation, stress: options.stress ?? false, maxSessions: shape.maxSessions },
    rules,
    ...(interrupted || infrastructure ? { error: interrupted ?? infrastructure } : {}),
  };
}

/**
 * The rule × isolation checks this job runs (undefined: all). Checks are numbered in the order of rule ids
 * and isolation levels and dealt round-robin, so every job of a CI matrix computes the same split.
 */
function shardChecks(specs: readonly LoadedSpec[], isolation: readonly IsolationLevel[], shard: RunOptions['shard']): Set<string> | undefined {
  if (!shard) return undefined;
  const ids = [...new Set(specs.map((s) => s.rule.id))].sort();
  const keys = ids.flatMap((id) => isolation.map((level) => `${id} ${level}`));
  return new Set(keys.filter((_, i) => (i % shard.count) + 1 === shard.index));
}

/** The catalog of the sandbox's schema, read once: rules are checked against it and their gaps classified by it. */
async function catalogOf(sandbox: Sandbox): Promise<Catalog> {
  const client = await connect(sandbox.settingsFor(sandbox.template), { applicationName: 'pgconform-catalog' });
  try {
    return await readCatalog(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Every table and column a rule names must be in the schema, and every value it writes must suit its
 * column's type: checked for every rule before any scenario. Returns each rule's values as the server
 * sees them, or its problem (that rule's error verdict, exit 2; the other rules still run).
 */
async function valuesOf(sandbox: Sandbox, catalog: Catalog, specs: readonly LoadedSpec[]): Promise<Map<LoadedSpec, CanonicalValues | KitError>> {
  const found = new Map<LoadedSpec, CanonicalValues | KitError>();
  const named: LoadedSpec[] = [];
  for (const spec of specs) {
    try {
      checkRuleReferences(catalog, spec.rule, displayPath(spec.file));
      named.push(spec);
    } catch (error) {
      if (!isKitError(error)) throw error;
      found.set(spec, error);
    }
  }
  const values = await readRuleValues(sandbox.settingsFor(sandbox.template), named.map((spec) => ({ rule: spec.rule, where: displayPath(spec.file) })));
  for (const spec of named) found.set(spec, values.get(spec.rule)!);
  return found;
}

/** Failures of the server or the kit (exit 3), as opposed to a rule's bad input (exit 2). */
function isInfrastructureError(error: unknown): boolean {
  return !isKitError(error) || error.kind === 'infrastructure';
}

function messageOf(error: unknown): string {
  return isKitError(error) ? error.toLine().replace(/^pgconform: /, '') : error instanceof Error ? error.message : String(error);
}

async function checkOnNewDatabase(
  sandbox: Sandbox,
  catalog: Catalog,
  spec: LoadedSpec,
  isolation: IsolationLevel,
  options: RunOptions,
  shape: ScenarioShape,
  values?: CanonicalValues,
): Promise<RuleCheck> {
  const database = await sandbox.createWorkerDatabase();
  const modelDatabase = await modelDatabaseFor(spec.rule, () => sandbox.createWorkerDatabase(), options.oracle);
  const gaps = GapClassifier.of(spec.rule, catalog);
  const executor = await ScenarioExecutor.open(spec.rule, database, {
    maxSessions: shape.maxSessions,
    statementTimeoutMs: options.statementTimeoutMs,
    values,
    gaps,
    modelDatabase,
    oracle: options.oracle,
  });
  try {
    // Setup rows the schema refuses are the configuration's fault: say so before the first scenario.
    const refused = await executor.setupFailure();
    if (refused) throw setupError(spec.rule, refused, catalog, displayPath(spec.file));
    const saved = await options.corpus?.load(spec.rule.id, isolation);
    const check = await checkRule(spec.rule, executor, {
      corpus: saved?.scenarios,
      isolation,
      runs: options.runs,
      seed: options.seed,
      path: options.path,
      timeBudgetMs: options.timeBudgetMs,
      shape,
      stress: options.stress,
      signal: options.signal,
      onExecution: (execution) => options.listener?.onExecution?.(spec, isolation, execution),
    });
    for (const file of saved?.skipped ?? []) check.notes.push(`corpus file ${file} does not parse and was skipped`);
    const file = check.counterexample && check.counterexample.foundBy !== 'corpus' ? await options.corpus?.save(spec.rule.id, check.counterexample, sandbox.source.labels) : undefined;
    if (file) check.notes.push(`saved to the corpus: ${file}`);
    return check;
  } finally {
    await executor.close();
  }
}

/** Specs that run on the same schema share one template database: a given source is shared by all, default schemas are grouped by their files. */
function groupBySchema(specs: readonly LoadedSpec[], schema?: RunOptions['schema']): Map<SchemaSource, LoadedSpec[]> {
  if (isSchemaSource(schema)) return specs.length === 0 ? new Map() : new Map([[schema, [...specs]]]);
  const byKey = new Map<string, { source: SchemaSource; specs: LoadedSpec[] }>();
  for (const spec of specs) {
    const files = [...(schema ?? spec.defaultSchema ?? [])];
    if (files.length === 0) {
      throw new KitError('usage', `rule "${spec.rule.id}" has no schema to run against`, {
        fix: 'pass --schema <file.sql>, --migrations <dir>, --migrate-cmd or --schema-from, or name a defaultSchema in the spec',
      });
    }
    const key = JSON.stringify(files);
    const group = byKey.get(key) ?? { source: schemaFilesAt(files), specs: [] };
    group.specs.push(spec);
    byKey.set(key, group);
  }
  return new Map([...byKey.values()].map((g) => [g.source, g.specs]));
}

/** Runs tasks with at most `size` at once; the first failure stops new tasks and is rethrown. */
async function runPool(tasks: readonly (() => Promise<void>)[], size: number): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < tasks.length && failure === undefined) {
      const task = tasks[next++]!;
      try {
        await task();
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, tasks.length)) }, worker));
  if (failure !== undefined) throw failure;
}

/** The most severe of several verdicts. */
export function worst(verdicts: readonly VerdictKind[]): VerdictKind {
  return [...verdicts].sort((a, b) => SEVERITY.indexOf(a) - SEVERITY.indexOf(b))[0] ?? 'pass';
}
