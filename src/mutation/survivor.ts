import type { BehaviourChange, RuleDiff } from '../diff/behaviour-diff.ts';
import { exampleLines } from '../diff/diff-text.ts';
import { eventsByStep } from '../diff/divergence.ts';
import type { ScenarioExecutor } from '../engine/executor.ts';
import type { Mutant } from './derive-mutants.ts';

/**
 * What a mutant the rule's check let through means:
 * - weak-spec (behaviour-changing; exit 1): the diff shows it changing what the rule allows, or it
 *   changes how columns the spec never names are constrained, so no scenario of the spec can tell;
 * - unjudged-change: only steps the rule does not judge changed outcome (a step beside another
 *   transaction, or a rejection the spec leaves to the schema such as a duplicate primary key);
 * - no-change: no step of the rule's operations changed outcome (or only by timing); the object is
 *   redundant for this rule, or the mutant is equivalent.
 */
export type SurvivorKind = 'weak-spec' | 'unjudged-change' | 'no-change';

/** A survivor's class, why, and the shortest example the behaviour diff found. */
export interface SurvivorClass {
  readonly kind: SurvivorKind;
  /** One sentence for the console. */
  readonly explanation: string;
  /** The diff's summary over the rule's operations. */
  readonly diff: string;
  /** Generated scenarios executed on the original and the mutant. */
  readonly scenarios: number;
  /** Scenarios whose outcomes differed. */
  readonly changedScenarios: number;
  /** The shortest example step by step (before: the original, after: the mutant), when a step changed. */
  readonly example?: readonly string[];
}

const NO_CHANGE = 'does not change what the rule allows (the object is redundant for this rule, or the mutant is equivalent)';

/** Second runs of the original per change example: enough to see a lock wait or deadlock go the other way. */
const TIMING_TRIES = 2;

/**
 * The changes the mutant causes: a change whose example, executed again on the original, gives the
 * mutant's outcome at the changed step depends on timing (which session a deadlock aborts, which
 * waits), not on the mutant.
 */
export async function changesCausedByMutant(diff: RuleDiff, original: ScenarioExecutor): Promise<BehaviourChange[]> {
  const caused: BehaviourChange[] = [];
  for (const change of diff.changes) {
    const { scenario, after, divergence } = change.example;
    const mutantAccepted = after.history[divergence.afterEvent]?.outcome.status === 'ok';
    let timing = false;
    for (let i = 0; i < TIMING_TRIES && !timing; i++) {
      const again = await original.execute(scenario);
      const step = eventsByStep(again.history).get(`${divergence.session}:${divergence.ordinal}`);
      timing = step !== undefined && step.outcome.status !== 'skipped' && (step.outcome.status === 'ok') === mutantAccepted;
    }
    if (!timing) caused.push(change);
  }
  return caused;
}

/** Classifies a survivor from the behaviour diff of the original and the mutant on the rule's own operations, and the changes the mutant caused. */
export function classifySurvivor(mutant: Mutant, diff: RuleDiff, caused: readonly BehaviourChange[]): SurvivorClass {
  const judged = caused.filter((c) => c.judged !== 'unjudged');
  const shown: BehaviourChange | undefined = judged[0] ?? caused[0];
  const timingOnly = diff.changes.length - caused.length;
  const base = {
    diff: diff.summary,
    scenarios: diff.runs,
    changedScenarios: caused.reduce((n, c) => n + c.scenarios, 0),
    ...(shown ? { example: [`${direction(shown)}: ${shown.description}`, ...exampleLines(shown.example)] } : {}),
  };
  if (judged.length > 0) {
    const what = judged.map((c) => `${c.description} ${c.direction === 'newly-accepted' ? 'is now accepted' : 'is now rejected'}${c.judged === 'breaks' ? ', which breaks the rule' : ', which the rule allows'}`);
    return {
      kind: 'weak-spec',
      explanation: `spec too weak: the schema enforces something the spec does not state: ${what.join('; ')}; the rule's check did not confirm it (the outcome depends on timing, or the counterexample did not reproduce): try more --runs or another --seed`,
      ...base,
    };
  }
  const unnamed = mutant.unnamedColumns;
  if (unnamed.length > 0) {
    const columns = unnamed.join(', ');
    return {
      kind: 'weak-spec',
      explanation: `spec too weak: the schema enforces something the spec does not state: the changed part constrains ${columns}, which the spec never names, so no scenario can tell whether it matters (add ${columns} to the spec)`,
      ...base,
    };
  }
  if (shown) {
    return {
      kind: 'unjudged-change',
      explanation: `changes only outcomes the rule does not judge (a step beside another transaction, or a rejection the spec leaves to the schema, such as a duplicate key): ${shown.description} ${shown.direction === 'newly-accepted' ? 'is now accepted' : 'is now rejected'}`,
      ...base,
    };
  }
  const timing = timingOnly > 0 ? ` (outcomes differed in ${timingOnly === 1 ? 'one kind of step' : `${timingOnly} kinds of step`}, but the original gives the same outcomes on a second run: timing, not the mutant)` : '';
  return { kind: 'no-change', explanation: `${NO_CHANGE}: no step changed outcome in ${diff.runs} scenarios${timing}`, ...base };
}

function direction(change: BehaviourChange): string {
  return `${change.direction === 'newly-accepted' ? 'now accepted' : 'now rejected'}${change.judged === 'unjudged' ? ' (not judged by the rule)' : change.judged === 'allowed' ? ', allowed by the rule' : ', breaks the rule'}`;
}
