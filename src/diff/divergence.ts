import type { History, HistoryEvent } from '../engine/history.ts';
import { stepsOf, type Scenario, type Step } from '../engine/scenario.ts';
import type { Operation } from '../rules/rule.ts';

/** Which way a step's outcome moved from the before schema to the after schema. */
export type Direction = 'newly-accepted' | 'newly-rejected';

/** The first step of a scenario that one schema accepted and the other rejected. */
export interface Divergence {
  readonly direction: Direction;
  readonly session: number;
  /** Position of the step among its session's steps (the same step on both sides). */
  readonly ordinal: number;
  readonly step: Step;
  /** What the step wrote: its own operation, or, for a COMMIT, its transaction's operations. */
  readonly ops: readonly Operation[];
  /** The step's event index in the before and in the after history. */
  readonly beforeEvent: number;
  readonly afterEvent: number;
}

/**
 * Pairs the two histories of one scenario step by step and returns the first step (in the order the
 * before schema ran them) that one side accepted and the other rejected. Steps are paired by session
 * and position, never by history index: a lock wait on one side reorders the history without
 * changing which step is which. Only the first difference counts, because every later step runs on
 * committed states that already differ; and a first difference of another kind (a deadlock victim or
 * a serialization failure on one side only, which timing alone can decide) ends the comparison.
 */
export function firstDivergence(scenario: Scenario, before: History, after: History): Divergence | undefined {
  const afterByStep = eventsByStep(after);
  const steps = scenario.sessions.map((blocks) => stepsWithOps(blocks));
  for (const [key, event] of eventsByStep(before)) {
    const other = afterByStep.get(key);
    if (!other || event.outcome.status === other.outcome.status) continue;
    const was = accepted(event);
    const now = accepted(other);
    if (was === undefined || now === undefined || (event.kind !== 'op' && event.kind !== 'commit')) return undefined;
    const ordinal = Number(key.split(':')[1]);
    const located = steps[event.session]?.[ordinal];
    if (!located) return undefined;
    return {
      direction: now ? 'newly-accepted' : 'newly-rejected',
      session: event.session,
      ordinal,
      step: located.step,
      ops: located.ops,
      beforeEvent: event.index,
      afterEvent: other.index,
    };
  }
  return undefined;
}

/** The event at which the step's writes became visible to others: itself when autocommit or a COMMIT, else its transaction's COMMIT. */
export function commitEventOf(history: History, event: number, step: Step): number | undefined {
  if (step.kind === 'commit' || (step.kind === 'op' && step.autocommit)) return event;
  if (step.kind !== 'op') return undefined;
  const session = history[event]?.session;
  return history.find((e) => e.index > event && e.session === session && e.kind === 'commit')?.index;
}

/** True accepted, false rejected by the schema, undefined for anything else (skipped, aborted, an error). */
function accepted(event: HistoryEvent): boolean | undefined {
  if (event.outcome.status === 'ok') return true;
  if (event.outcome.status === 'rejected') return false;
  return undefined;
}

/** A history's events keyed "session:position" (the same step in any execution of the scenario), in history order. */
export function eventsByStep(history: History): Map<string, HistoryEvent> {
  const seen = new Map<number, number>();
  const keyed = new Map<string, HistoryEvent>();
  for (const event of history) {
    const ordinal = seen.get(event.session) ?? 0;
    seen.set(event.session, ordinal + 1);
    keyed.set(`${event.session}:${ordinal}`, event);
  }
  return keyed;
}

/** A session's steps, each with the operations it writes. */
function stepsWithOps(blocks: Scenario['sessions'][number]): Array<{ step: Step; ops: Operation[] }> {
  return blocks.flatMap((block) => {
    const ops = 'autocommit' in block ? [block.autocommit] : [...block.transaction];
    return stepsOf([block]).map((step) => ({ step, ops: step.kind === 'op' ? [step.op] : step.kind === 'commit' ? ops : [] }));
  });
}
