import fc from 'fast-check';
import type { Operation, Rule } from '../rules/rule.ts';
import { picks, type ConflictPair } from './race.ts';
import type { Block, IsolationLevel, Scenario, ScenarioShape } from './scenario.ts';

/**
 * Conflict-directed scenarios: two sessions each hold a transaction around one side of a conflicting
 * pair (the same key, the same parent), with more of the rule's operations around them and sometimes
 * other sessions. What stays random is what the targeted schedules cannot foresee: the operations
 * around the race, drawn from a random subset of the operation kinds (swarm testing), and the
 * interleaving, drawn PCT-style (random session priorities and a few change points).
 */
export function directedArbitrary(rule: Rule, isolation: IsolationLevel, shape: ScenarioShape, pairs: readonly ConflictPair[]): fc.Arbitrary<Scenario> {
  const filler = swarmOperation(rule);
  return fc
    .record({
      pair: fc.constantFrom(...pairs),
      ops: filler.chain((op) => fc.record({
        // Operations after each side's conflicting write keep its transaction, and its write, open longer.
        firstTail: fc.array(op, { maxLength: Math.max(0, shape.maxTransactionOps - 1) }),
        secondTail: fc.array(op, { maxLength: Math.max(0, shape.maxTransactionOps - 1) }),
        others: fc.array(fc.array(op.map((o): Block => ({ autocommit: o })), { minLength: 1, maxLength: 2 }), { maxLength: Math.max(0, shape.maxSessions - 2) }),
      })),
      firstEnd: end(),
      secondEnd: end(),
      pct: pctSchedule(),
    })
    .map(({ pair, ops, firstEnd, secondEnd, pct }): Scenario => {
      const sessions: Block[][] = [
        [...pair.prefix.map((op): Block => ({ autocommit: op })), { transaction: [pair.first, ...ops.firstTail], end: firstEnd }],
        [{ transaction: [pair.second, ...ops.secondTail], end: secondEnd }],
        ...ops.others,
      ];
      return { isolation, sessions, schedule: pctOrder(sessions, pct) };
    });
}

/** Mostly COMMIT: a rolled-back side races nothing, but the rule must hold after a rollback too. */
function end(): fc.Arbitrary<'commit' | 'rollback'> {
  return fc.oneof({ arbitrary: fc.constant('commit' as const), weight: 5 }, { arbitrary: fc.constant('rollback' as const), weight: 1 });
}

/**
 * The rule's operations restricted to a random non-empty subset of their kinds, one subset per scenario:
 * leaving kinds out makes the others more frequent, which finds what a uniform mix dilutes.
 */
function swarmOperation(rule: Rule): fc.Arbitrary<fc.Arbitrary<Operation>> {
  const kinds = [...new Set(fc.sample(rule.operation, { seed: 0, numRuns: 200 }).map((op) => op.kind))];
  return fc.subarray(kinds, { minLength: 1 }).map((subset) => rule.operation.filter((op) => subset.includes(op.kind)));
}

/** Session priorities and the steps at which the running session drops to the lowest priority. */
interface Pct {
  readonly priorities: readonly number[];
  readonly changes: readonly number[];
}

function pctSchedule(): fc.Arbitrary<Pct> {
  // Up to three change points within the first steps, where races happen: a race of depth d needs d - 1.
  return fc.record({ priorities: fc.array(fc.nat({ max: 99 }), { minLength: 4, maxLength: 4 }), changes: fc.array(fc.nat({ max: 9 }), { maxLength: 3 }) });
}

/** The order PCT runs the sessions in: always the highest-priority session with steps left. */
function pctOrder(sessions: readonly (readonly Block[])[], pct: Pct): number[] {
  const left = sessions.map((blocks) => blocks.reduce((n, b) => n + ('autocommit' in b ? 1 : b.transaction.length + 2), 0));
  const priority = sessions.map((_, i) => pct.priorities[i % pct.priorities.length]! * 10 + i);
  let lowest = Math.min(...priority) - 1;
  const order: number[] = [];
  for (let step = 0; left.some((n) => n > 0); step++) {
    const session = left.reduce((best, n, i) => (n > 0 && (best < 0 || priority[i]! > priority[best]!) ? i : best), -1);
    order.push(session);
    left[session]!--;
    if (pct.changes.includes(step)) priority[session] = lowest--;
  }
  return picks(sessions, order);
}
