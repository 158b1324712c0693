import fc from 'fast-check';
import { KitError } from '../errors/kit-error.ts';
import { InfrastructureFailure, type Execution, type ScenarioExecutor } from '../engine/executor.ts';
import { minimize } from '../engine/minimize.ts';
import { checkRule, type RuleCheck } from '../engine/rule-check.ts';
import { DEFAULT_SHAPE, normalize, scenarioArbitrary, stepCount, type IsolationLevel, type Scenario, type ScenarioShape } from '../engine/scenario.ts';
import { SEVERITY, type ExecutionVerdict } from '../engine/verdict.ts';
import type { Rule, State } from '../rules/rule.ts';
import { describeAllowedRow, generatorDomains, type Domains } from './describe-change.ts';
import { commitEventOf, firstDivergence, type Direction, type Divergence } from './divergence.ts';

/** How a changed step stands before the rule's reference model. */
export type Judged =
  /** The rule allows it: judged on a quiet committed state, as the executor judges over-restrictive rejections. */
  | 'allowed'
  /** It broke the rule: the committed state it led to fails the rule's invariant. */
  | 'breaks'
  /** It ran beside another transaction (or waited for one), so the model cannot judge it alone. */
  | 'unjudged';

/** How hard to compare. */
export interface DiffOptions {
  readonly isolation: IsolationLevel;
  /** Scenarios generated once and executed on both schemas. */
  readonly runs: number;
  readonly seed: number;
  readonly shape?: ScenarioShape;
  /** Shrink each change's example by executing smaller scenarios on both schemas (default true). */
  readonly minimize?: boolean;
  /** Also check the rule on both schemas with checkRule, for the verdicts (default true). */
  readonly verdicts?: boolean;
  /** Called after every scenario executed on both sides (progress). */
  readonly onScenario?: () => void;
}

/** One scenario, executed on both schemas. */
export interface ChangeExample {
  readonly scenario: Scenario;
  readonly before: Execution;
  readonly after: Execution;
  readonly divergence: Divergence;
  /** The quiet committed state the reference model judged the step on (allowed changes only). */
  readonly state?: State;
}

/** A kind of change: its direction and judgement, how many scenarios showed it, and the shortest example. */
export interface BehaviourChange {
  readonly direction: Direction;
  readonly judged: Judged;
  /** Generated scenarios whose first difference is of this kind. */
  readonly scenarios: number;
  /** The example's changed operation in the domain's words, e.g. "a primary in a second organization". */
  readonly description: string;
  readonly example: ChangeExample;
}

/** What changed for one rule between two schemas. */
export interface RuleDiff {
  readonly ruleId: string;
  readonly title: string;
  readonly isolation: IsolationLevel;
  readonly seed: number;
  readonly runs: number;
  /** checkRule on each schema (absent when verdicts were not asked for). */
  readonly verdicts?: { readonly before: RuleCheck; readonly after: RuleCheck };
  /** Kinds of change, newly accepted first, allowed before breaks before unjudged. */
  readonly changes: readonly BehaviourChange[];
  /** One sentence over the judged changes, e.g. "a primary in a second organization is now accepted; nothing that broke the rule is now accepted". */
  readonly summary: string;
  /** Why the change is a regression; empty when it is not (the CLI exits 1 when any rule has one). */
  readonly regressions: readonly string[];
  readonly durationMs: number;
}

interface Compared {
  readonly scenario: Scenario;
  readonly before: Execution;
  readonly after: Execution;
  readonly change?: { readonly divergence: Divergence; readonly judged: Judged; readonly state?: State };
}

const ORDER: ReadonlyArray<[Direction, Judged]> = [
  ['newly-accepted', 'allowed'],
  ['newly-accepted', 'breaks'],
  ['newly-accepted', 'unjudged'],
  ['newly-rejected', 'allowed'],
  ['newly-rejected', 'breaks'],
  ['newly-rejected', 'unjudged'],
];

/** Examples shrunk per kind of change (the shortest result wins), and executions each may cost on both schemas. */
const EXAMPLES_TRIED = 2;
const SHRINK_BUDGET = 60;

/**
 * Compares how two schemas answer the same operations. Scenarios are generated once from the rule's
 * generator and each is executed on a database of the before schema and one of the after schema; the
 * first step one side accepts and the other rejects is the scenario's change, judged with the
 * executors' verdicts (the reference model on a quiet state for an over-restrictive rejection, the
 * invariant after a commit for a violation).
 */
export async function diffRule(rule: Rule, before: ScenarioExecutor, after: ScenarioExecutor, options: DiffOptions): Promise<RuleDiff> {
  const started = performance.now();
  const shape = options.shape ?? DEFAULT_SHAPE;
  const scenarios = fc.sample(scenarioArbitrary(rule, options.isolation, shape), { numRuns: options.runs, seed: options.seed });
  const compare = async (scenario: Scenario): Promise<Compared> => {
    const compared = await compareOn(rule, before, after, scenario);
    options.onScenario?.();
    return compared;
  };

  const found = new Map<string, Compared[]>();
  for (const scenario of scenarios) {
    const compared = await compare(scenario);
    if (!compared.change) continue;
    const key = `${compared.change.divergence.direction}/${compared.change.judged}`;
    found.set(key, [...(found.get(key) ?? []), compared]);
  }

  const domains = generatorDomains(rule);
  const changes: BehaviourChange[] = [];
  for (const [direction, judged] of ORDER) {
    const candidates = found.get(`${direction}/${judged}`);
    if (!candidates) continue;
    // An unjudged change depends on an interleaving that rarely survives a cut: shrinking it costs much and gains little.
    const shrink = (options.minimize ?? true) && judged !== 'unjudged';
    const example = await shortestExample(candidates, shrink, async (scenario) => {
      const compared = await compare(scenario);
      return compared.change?.divergence.direction === direction && compared.change.judged === judged ? compared : undefined;
    });
    changes.push({ direction, judged, scenarios: candidates.length, description: describe(rule, example, domains), example });
  }

  let verdicts: RuleDiff['verdicts'];
  if (options.verdicts ?? true) {
    const check = (executor: ScenarioExecutor) => checkRule(rule, executor, { isolation: options.isolation, runs: options.runs, seed: options.seed, shape });
    verdicts = { before: await check(before), after: await check(after) };
    for (const side of [verdicts.before, verdicts.after]) {
      if (side.verdict === 'error') throw new InfrastructureFailure(`${rule.id}: ${side.error ?? 'the rule check failed'}`);
    }
  }

  return {
    ruleId: rule.id,
    title: rule.title,
    isolation: options.isolation,
    seed: options.seed,
    runs: options.runs,
    verdicts,
    changes,
    summary: summarize(changes, options.runs),
    regressions: regressionsOf(changes, verdicts),
    durationMs: Math.round(performance.now() - started),
  };
}

/** Executes one scenario on both schemas and finds its first change, judged. */
async function compareOn(rule: Rule, before: ScenarioExecutor, after: ScenarioExecutor, scenario: Scenario): Promise<Compared> {
  const b = await before.execute(scenario);
  failOnError(rule, 'before', b.verdict);
  const a = await after.execute(scenario);
  failOnError(rule, 'after', a.verdict);
  const divergence = firstDivergence(scenario, b.history, a.history);
  if (!divergence) return { scenario, before: b, after: a };
  return { scenario, before: b, after: a, change: { divergence, ...judge(divergence, b, a) } };
}

/**
 * Reuses the executors' verdicts. A newly accepted step is allowed when the before schema's rejection
 * of it was over-restrictive, and breaks the rule when its commit on the after schema left a violation;
 * a newly rejected step the other way round.
 */
function judge(divergence: Divergence, before: Execution, after: Execution): { judged: Judged; state?: State } {
  const [refused, took] = divergence.direction === 'newly-accepted' ? [before, after] : [after, before];
  const refusedAt = divergence.direction === 'newly-accepted' ? divergence.beforeEvent : divergence.afterEvent;
  const tookAt = divergence.direction === 'newly-accepted' ? divergence.afterEvent : divergence.beforeEvent;
  if (refused.verdict.kind === 'over-restrictive' && refused.verdict.atEvent === refusedAt) return { judged: 'allowed', state: refused.verdict.state };
  const commit = commitEventOf(took.history, tookAt, divergence.step);
  if (took.verdict.kind === 'violation' && commit !== undefined && took.verdict.atEvent === commit) return { judged: 'breaks' };
  return { judged: 'unjudged' };
}

/** The shortest of a kind's scenarios, each of the few shortest shrunk first (a smaller scenario must still show the same kind of change). */
async function shortestExample(
  candidates: readonly Compared[],
  shrink: boolean,
  sameKind: (scenario: Scenario) => Promise<Compared | undefined>,
): Promise<ChangeExample> {
  const shortest = [...candidates].sort((a, b) => stepCount(a.scenario) - stepCount(b.scenario));
  const results: Compared[] = shrink ? [] : [shortest[0]!];
  for (const candidate of shrink ? shortest.slice(0, EXAMPLES_TRIED) : []) {
    // minimize() keeps a smaller scenario only when it still shows the change, so the last
    // execution that showed it is the execution of the scenario it returns.
    let last: Compared | undefined;
    await minimize(
      normalize(candidate.scenario),
      async (scenario) => {
        const compared = await sameKind(scenario);
        if (compared) last = compared;
        return compared !== undefined;
      },
      SHRINK_BUDGET,
    );
    results.push(last ?? candidate);
  }
  const best = results.reduce((a, b) => (stepCount(b.scenario) < stepCount(a.scenario) ? b : a));
  const change = best.change!;
  return { scenario: best.scenario, before: best.before, after: best.after, divergence: change.divergence, state: change.state };
}

/** The changed operation in the domain's words when the model can explain it, else as the rule describes it. */
function describe(rule: Rule, example: ChangeExample, domains: Domains): string {
  const ops = example.divergence.ops;
  if (example.state && ops.length === 1) {
    const rich = describeAllowedRow(rule, example.state, ops[0]!, domains);
    if (rich) return rich;
  }
  const labels = ops.map((op) => rule.describe(op));
  return labels.length === 1 ? `“${labels[0]}”` : `the transaction “${labels.join('; ')}”`;
}

/**
 * One sentence over the judged changes. Unjudged changes (steps that ran beside another transaction)
 * are listed with their examples but say nothing about the rule, so the sentence leaves them out.
 */
export function summarize(changes: readonly BehaviourChange[], runs: number): string {
  const find = (direction: Direction, judged: Judged) => changes.find((c) => c.direction === direction && c.judged === judged);
  const acceptedAllowed = find('newly-accepted', 'allowed');
  const acceptedBreaks = find('newly-accepted', 'breaks');
  const rejectedAllowed = find('newly-rejected', 'allowed');
  const rejectedBreaks = find('newly-rejected', 'breaks');
  const parts: string[] = [];
  if (acceptedAllowed) parts.push(`${acceptedAllowed.description} is now accepted`);
  if (acceptedBreaks) parts.push(`${acceptedBreaks.description}, which breaks the rule, is now accepted`);
  else if (acceptedAllowed) parts.push('nothing that broke the rule is now accepted');
  if (rejectedBreaks) parts.push(`${rejectedBreaks.description}, which broke the rule, is now rejected`);
  if (rejectedAllowed) parts.push(`${rejectedAllowed.description}, which the rule allows, is now rejected`);
  else if (rejectedBreaks) parts.push('nothing the rule allows is now rejected');
  if (parts.length > 0) return parts.join('; ');
  return changes.length > 0
    ? `in ${runs} scenarios only steps inside longer transactions or beside other ones changed outcome, which the rule cannot judge alone`
    : `no operation changed outcome in ${runs} scenarios`;
}

/** The change makes the rule fail where it held (or fail worse), rejects what the rule allows, or accepts what breaks it. */
function regressionsOf(changes: readonly BehaviourChange[], verdicts: RuleDiff['verdicts']): string[] {
  const reasons: string[] = [];
  if (verdicts && verdicts.before.verdict !== verdicts.after.verdict && SEVERITY.indexOf(verdicts.after.verdict) < SEVERITY.indexOf(verdicts.before.verdict)) {
    reasons.push(verdicts.before.verdict === 'pass' ? `the rule held before and now fails (${verdicts.after.verdict})` : `the verdict worsens: ${verdicts.before.verdict} → ${verdicts.after.verdict}`);
  }
  for (const change of changes) {
    if (change.direction === 'newly-rejected' && change.judged === 'allowed') reasons.push(`rejects what the rule allows: ${change.description}`);
    if (change.direction === 'newly-accepted' && change.judged === 'breaks') reasons.push(`accepts what breaks the rule: ${change.description}`);
  }
  return reasons;
}

/** An execution that ended in an error says nothing about either schema: the schema does not fit the rule, or the infrastructure failed. */
function failOnError(rule: Rule, side: 'before' | 'after', verdict: ExecutionVerdict): void {
  if (verdict.kind !== 'error') return;
  if (verdict.infrastructure) throw new InfrastructureFailure(`${rule.id} on the ${side} schema: ${verdict.message}`);
  throw new KitError('schema', `the ${side} schema does not fit rule ${rule.id}: ${verdict.message}`, {
    fix: 'check that the schema has the tables and columns the spec names',
  });
}
