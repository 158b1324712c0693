import fc from 'fast-check';
import type { Operation, Rule, Value } from '../rules/rule.ts';
import { isKitError, KitError, type KitErrorKind } from '../errors/kit-error.ts';
import { InfrastructureFailure, type Execution, type ScenarioExecutor } from './executor.ts';
import { GapTally, LOST_SHARE, notExercised, type GapCount } from './generator-gap.ts';
import type { History } from './history.ts';
import { minimize } from './minimize.ts';
import { conflictPairs, raceScenarios, roundRobin, schedulesFromHistory, type ConflictPair } from './race.ts';
import { DEFAULT_SHAPE, normalize, scenarioArbitrary, type IsolationLevel, type Scenario, type ScenarioShape } from './scenario.ts';
import { checkTruthTable, type TruthTableResult } from './truth-table.ts';
import { SEVERITY, type ExecutionVerdict, type VerdictKind } from './verdict.ts';

/** Scenarios per rule and isolation level when nothing else is said. */
export const DEFAULT_RUNS = 200;

/** How hard to look. */
export interface CheckOptions {
  readonly isolation: IsolationLevel;
  /** Scenarios to generate (fast-check numRuns). */
  readonly runs: number;
  /** fast-check seed; the same seed generates the same scenarios. */
  readonly seed: number;
  /** Replays one run of a previous check (fast-check path) instead of searching. */
  readonly path?: string;
  /** Stop generating (and shrinking) after this long. */
  readonly timeBudgetMs?: number;
  readonly shape?: ScenarioShape;
  /** Free concurrency instead of the deterministic scheduler; findings are not guaranteed to replay. */
  readonly stress?: boolean;
  /** Scenarios that failed before (the corpus): replayed first, whatever the seed. */
  readonly corpus?: readonly Scenario[];
  /** Aborting stops the search after the scenario in flight; the check is reported as an error. */
  readonly signal?: AbortSignal;
  /** Called after every execution (progress display). */
  readonly onExecution?: (execution: Execution) => void;
}

/** A failure found, shrunk, and executed once more to confirm it. */
export interface Counterexample {
  readonly kind: Exclude<VerdictKind, 'pass'>;
  /** The shrunk scenario, concrete: replaying it needs no generator. */
  readonly scenario: Scenario;
  /** The history of the confirming execution. */
  readonly history: History;
  readonly verdict: ExecutionVerdict;
  readonly seed: number;
  /** fast-check's path to the failing run (with the seed, replays the search). */
  readonly path: string;
  readonly shrinks: number;
  /** False for stress-mode findings and unconfirmed ones. */
  readonly replayable: boolean;
  /** How it was found: a truth-table probe, a corpus entry replayed, or the property search. */
  readonly foundBy: 'truth-table' | 'corpus' | 'property';
}

/** The verdict of one rule at one isolation level. */
export interface RuleCheck {
  readonly ruleId: string;
  readonly isolation: IsolationLevel;
  readonly verdict: VerdictKind;
  readonly runs: number;
  readonly steps: number;
  readonly durationMs: number;
  readonly seed: number;
  readonly counterexample?: Counterexample;
  readonly truthTable?: TruthTableResult;
  /** Things worth saying that are not failures (a counterexample that did not reproduce …). */
  readonly notes: string[];
  /** Message of an error verdict. */
  readonly error?: string;
  /** What an error verdict is about: configuration, spec or schema (exit 2), or infrastructure (exit 3, also when absent). */
  readonly errorKind?: KitErrorKind;
  /** Rejections not judged because an object that enforces nothing the rule states refused a generated row. */
  readonly generatorGaps?: GeneratorGaps;
}

/** The generator gaps of one check. */
export interface GeneratorGaps {
  /** Executions with at least one gap. */
  readonly executions: number;
  /** Executions whose first exercised step was a gap (see LOST_SHARE). */
  readonly lost: number;
  readonly gaps: readonly GapCount[];
}

type Searched = 'violation' | 'over-restrictive';

/**
 * Checks one rule: truth-table probes first (row rules), then a fast-check property over generated
 * concurrent scenarios. A committed violation outranks an over-restrictive rejection, so the search
 * looks for violations first and shrinks an over-restrictive finding only when none turned up.
 */
export async function checkRule(rule: Rule, executor: ScenarioExecutor, options: CheckOptions): Promise<RuleCheck> {
  const started = performance.now();
  const stats = { runs: 0, steps: 0 };
  const notes: string[] = [];
  const tally = new GapTally();
  const execute = async (scenario: Scenario, free = options.stress ?? false): Promise<Execution> => {
    if (options.signal?.aborted) throw new InfrastructureFailure(`interrupted: ${String(options.signal.reason)}`);
    const execution = free ? await executor.executeFree(scenario) : await executor.execute(scenario);
    stats.runs++;
    stats.steps += execution.steps;
    tally.add(execution.history);
    options.onExecution?.(execution);
    return execution;
  };
  const result = (found: VerdictKind, extra: Partial<RuleCheck> = {}): RuleCheck => {
    const gaps = tally.gapped > 0 ? { generatorGaps: { executions: tally.gapped, lost: tally.lost, gaps: tally.gaps } } : {};
    // A pass that most scenarios never exercised says nothing; a finding stands, whatever the gaps.
    const unexercised = found === 'pass' && tally.lost > LOST_SHARE * stats.runs;
    return {
      ruleId: rule.id,
      isolation: options.isolation,
      verdict: unexercised ? 'error' : found,
      runs: stats.runs,
      steps: stats.steps,
      durationMs: Math.round(performance.now() - started),
      seed: options.seed,
      notes,
      ...gaps,
      ...(unexercised ? { error: notExercised(tally.gaps, tally.lost, stats.runs), errorKind: 'config' as const } : {}),
      ...extra,
    };
  };

  try {
    // Known scenarios first: truth-table probes (row rules) and the corpus of earlier failures.
    const known: Array<{ scenario: Scenario; execution: Execution; foundBy: 'truth-table' | 'corpus' }> = [];
    let truthTable: TruthTableResult | undefined;
    if (rule.truthTable && !options.path) {
      const probed = await checkTruthTable(rule, executor, options.isolation);
      truthTable = probed.result;
      known.push(...probed.failures.map((f) => ({ ...f, foundBy: 'truth-table' as const })));
    }
    for (const saved of options.corpus ?? []) {
      const scenario = { ...saved, isolation: options.isolation };
      try {
        const execution = await execute(scenario);
        if (execution.verdict.kind === 'violation' || execution.verdict.kind === 'over-restrictive') known.push({ scenario, execution, foundBy: 'corpus' });
      } catch (error) {
        if (error instanceof InfrastructureFailure && !options.signal?.aborted) throw error;
        notes.push(`a corpus entry no longer fits the spec or schema and was skipped: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (options.corpus?.length) notes.push(`replayed ${options.corpus.length} corpus entr${options.corpus.length === 1 ? 'y' : 'ies'} first`);
    const worst = pickWorst(known.map((f) => ({ ...f, kind: f.execution.verdict.kind })));
    if (worst) {
      const counterexample: Counterexample = {
        kind: worst.execution.verdict.kind as Counterexample['kind'],
        scenario: worst.scenario,
        history: worst.execution.history,
        verdict: worst.execution.verdict,
        seed: options.seed,
        path: '',
        shrinks: 0,
        replayable: true,
        foundBy: worst.foundBy,
      };
      if (counterexample.kind === 'error') throw errorOf(rule, worst.execution.verdict);
      if (counterexample.kind === 'violation') return result('violation', { counterexample, truthTable });
      // An over-restrictive finding: keep looking for a violation, which outranks it.
      const searched = await search(rule, options, execute, 'violation', await racesFor(rule, executor, options));
      if (searched.counterexample) return result(searched.counterexample.kind, { ...searched, truthTable });
      return result('over-restrictive', { counterexample, truthTable });
    }
    const races = await racesFor(rule, executor, options);
    const first = await search(rule, options, execute, 'violation', races);
    if (first.counterexample || !first.overRestrictiveAt) {
      notes.push(...first.notes);
      return result(first.counterexample?.kind ?? 'pass', { counterexample: first.counterexample, truthTable });
    }
    const second = await search(rule, { ...options, path: first.overRestrictiveAt }, execute, 'over-restrictive', races);
    notes.push(...second.notes);
    return result(second.counterexample?.kind ?? 'pass', { counterexample: second.counterexample, truthTable });
  } catch (error) {
    if (isKitError(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return result('error', { error: message, errorKind: 'infrastructure' });
  }
}

interface SearchResult {
  counterexample?: Counterexample;
  /** fast-check path of the first over-restrictive run seen while searching for violations. */
  overRestrictiveAt?: string;
  notes: string[];
}

async function search(
  rule: Rule,
  options: CheckOptions,
  execute: (scenario: Scenario, free?: boolean) => Promise<Execution>,
  target: Searched,
  races: Races,
): Promise<SearchResult> {
  const found: SearchResult = { notes: [] };
  let runIndex = 0;
  let failed = false;
  /** The last execution that failed the way we look for (fast-check reports the last failing shrink). */
  let lastFailure: { scenario: Scenario; execution: Execution } | undefined;
  let broken: unknown;
  const pathOffset = options.path ? Number(options.path.split(':')[0]) : 0;
  const property = fc.asyncProperty(scenarioArbitrary(rule, options.isolation, options.shape ?? DEFAULT_SHAPE, races.pairs), async (scenario) => {
    if (broken) throw broken;
    const index = runIndex++;
    let execution: Execution;
    try {
      execution = await execute(scenario);
    } catch (error) {
      broken = error;
      throw error;
    }
    const kind = execution.verdict.kind;
    if (kind === 'error') {
      broken = errorOf(rule, execution.verdict);
      throw broken;
    }
    if (!failed && target === 'violation' && kind === 'over-restrictive' && found.overRestrictiveAt === undefined) {
      found.overRestrictiveAt = String(pathOffset + index);
    }
    if (kind === target) {
      failed = true;
      lastFailure = { scenario, execution };
      return false;
    }
    return true;
  });
  const details = await fc.check(property, {
    numRuns: options.path ? 1 : options.runs,
    seed: options.seed,
    // The targeted race schedules are the first runs of the budget (a path counts them too, so it replays).
    examples: races.scenarios.map((scenario): [Scenario] => [scenario]),
    path: options.path,
    interruptAfterTimeLimit: options.timeBudgetMs,
    markInterruptAsFailure: false,
  });
  if (broken) throw broken;
  if (!details.failed || !details.counterexample) return found;
  const scheduled = (candidate: Scenario) => execute(candidate, false);
  let start = normalize(details.counterexample[0]);
  if (options.stress) {
    const failure = lastFailure!;
    // Free concurrency does not repeat itself, but the order its steps took effect in is a schedule.
    const rebuilt = await firstFailing(schedulesFromHistory(failure.scenario, failure.execution.history), scheduled, target);
    if (!rebuilt) {
      found.counterexample = {
        kind: target,
        scenario: normalize(failure.scenario),
        history: failure.execution.history,
        verdict: failure.execution.verdict,
        seed: details.seed,
        path: details.counterexamplePath ?? '',
        shrinks: details.numShrinks,
        replayable: false,
        foundBy: 'property',
      };
      found.notes.push('found in stress mode (free concurrency): the history is what ran, replay may not reproduce it');
      return found;
    }
    found.notes.push('found in stress mode (free concurrency), then reproduced by the deterministic engine in the order its steps took effect');
    start = normalize(rebuilt);
  }
  const shrunk = await minimize(start, async (candidate) => (await scheduled(candidate)).verdict.kind === target);
  const scenario = normalize(shrunk.scenario);
  // Confirm: run the concrete shrunk scenario once more, outside fast-check.
  const confirmation = await scheduled(scenario);
  if (confirmation.verdict.kind !== target) {
    found.notes.push(
      `a ${target} was found but its shrunk counterexample did not reproduce (seed ${details.seed}, path ${details.counterexamplePath}); not reported as a rule failure`,
    );
    return found;
  }
  found.counterexample = {
    kind: target,
    scenario,
    history: confirmation.history,
    verdict: confirmation.verdict,
    seed: details.seed,
    path: details.counterexamplePath ?? '',
    shrinks: details.numShrinks + shrunk.attempts,
    replayable: true,
    foundBy: 'property',
  };
  return found;
}

/** The first scenario that fails the way searched for, run by the deterministic engine. */
async function firstFailing(scenarios: readonly Scenario[], scheduled: (s: Scenario) => Promise<Execution>, target: Searched): Promise<Scenario | undefined> {
  for (const scenario of scenarios) if ((await scheduled(scenario)).verdict.kind === target) return scenario;
  return undefined;
}

/** Share of the budget, and most runs, given to targeted race schedules before the generated scenarios. */
const RACE_SHARE = 0.25;
const MOST_RACES = 32;

/**
 * Targeted race schedules for the pairs of operations the rule's model says conflict, from the state
 * every scenario starts in (the setup rows). The seed picks the operations, so seeds vary the keys.
 */
async function racesFor(rule: Rule, executor: ScenarioExecutor, options: CheckOptions): Promise<Races> {
  const limit = Math.min(MOST_RACES, Math.floor(options.runs * RACE_SHARE));
  if (limit === 0 || (!rule.apply && !executor.model)) return { pairs: [], scenarios: [] };
  await executor.reset();
  const pairs = rule.apply
    ? conflictPairs(rule, await executor.snapshot(), (op) => executor.canonical(op), options.seed, Math.ceil(limit / 2))
    : await databasePairs(rule, executor, options.seed, Math.ceil(limit / 2));
  return { pairs, scenarios: raceScenarios(pairs, options.isolation, limit) };
}

/** Distinct operations drawn for the conflict search of the database model (with variants, up to four times as many). */
const DATABASE_CANDIDATES = 12;

function distinct(ops: readonly Operation[]): Operation[] {
  const seen = new Set<string>();
  return ops.filter((op) => {
    const id = JSON.stringify(op);
    return !seen.has(id) && seen.add(id) !== undefined;
  });
}

/** Conflicting pairs by the database model, for a rule without a model of its own: a sample the seed picks, one pair per kind first. */
async function databasePairs(rule: Rule, executor: ScenarioExecutor, seed: number, limit: number): Promise<ConflictPair[]> {
  const sample = fc.sample(rule.operation, { numRuns: 200, seed });
  // Besides the first distinct operations drawn, variants of the first few with one argument changed to
  // another value drawn for it: two debits of one account under two entry ids, the likeliest conflicts.
  const values = new Map<string, Set<Value>>();
  for (const op of sample) for (const [name, value] of Object.entries(op.args)) values.set(name, (values.get(name) ?? new Set()).add(value));
  const drawn = distinct(sample).slice(0, DATABASE_CANDIDATES);
  const variants = drawn.flatMap((op) =>
    Object.keys(op.args).flatMap((name) => [...(values.get(name) ?? [])].filter((v) => v !== op.args[name]).slice(0, 2).map((v): Operation => ({ kind: op.kind, args: { ...op.args, [name]: v } }))),
  );
  const candidates = distinct([...drawn, ...variants]).slice(0, 4 * DATABASE_CANDIDATES);
  const found = await executor.databaseConflicts(candidates, limit * 8);
  // One pair per pair of kinds first, so that the first races cover every kind of conflict.
  const byKind = new Map<string, ConflictPair[]>();
  for (const pair of found) {
    const kind = `${pair.prefix.map((op) => op.kind).join('+')}:${pair.first.kind}/${pair.second.kind}`;
    byKind.set(kind, [...(byKind.get(kind) ?? []), pair]);
  }
  return roundRobin([...byKind.values()], limit);
}

/** The conflicting pairs of a rule, and the targeted schedules run first. */
interface Races {
  readonly pairs: readonly ConflictPair[];
  readonly scenarios: readonly Scenario[];
}

/** An execution that ended in an error: the schema does not fit the spec (exit 2), or the infrastructure failed (exit 3). */
function errorOf(rule: Rule, verdict: ExecutionVerdict): Error {
  const message = verdict.kind === 'error' ? verdict.message : verdict.kind;
  if (verdict.kind === 'error' && !verdict.infrastructure) {
    return new KitError('schema', `the schema does not fit rule ${rule.id}: ${message}`, {
      fix: 'check that the schema has the tables and columns the spec names, or bind them through configuration',
    });
  }
  return new InfrastructureFailure(message);
}

function pickWorst<T extends { kind: VerdictKind }>(items: T[]): T | undefined {
  const rank = (k: VerdictKind) => SEVERITY.indexOf(k);
  return [...items].sort((a, b) => rank(a.kind) - rank(b.kind))[0];
}
