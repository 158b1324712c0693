import fc from 'fast-check';
import type { Operation, Rule } from '../rules/rule.ts';
import { directedArbitrary } from './directed.ts';
import type { ConflictPair } from './race.ts';

/** Transaction isolation levels the engine runs scenarios under. */
export const ISOLATION_LEVELS = ['read-committed', 'repeatable-read', 'serializable'] as const;
export type IsolationLevel = (typeof ISOLATION_LEVELS)[number];

/** What a session does next: one autocommit statement, or a transaction of several. */
export type Block =
  | { readonly autocommit: Operation }
  | { readonly transaction: readonly Operation[]; readonly end: 'commit' | 'rollback' };

/**
 * A concurrent scenario: K sessions, each a list of blocks, and a schedule saying which runnable
 * session takes its next step (pick i → the (i mod n)-th runnable session; past its end, the first).
 */
export interface Scenario {
  readonly isolation: IsolationLevel;
  readonly sessions: readonly (readonly Block[])[];
  readonly schedule: readonly number[];
}

/** One step a session sends to the server. */
export type Step =
  | { readonly kind: 'begin' }
  | { readonly kind: 'op'; readonly op: Operation; readonly autocommit: boolean }
  | { readonly kind: 'commit' }
  | { readonly kind: 'rollback' };

/** The steps of one session, in order. */
export function stepsOf(blocks: readonly Block[]): Step[] {
  return blocks.flatMap((block): Step[] =>
    'autocommit' in block
      ? [{ kind: 'op', op: block.autocommit, autocommit: true }]
      : [{ kind: 'begin' }, ...block.transaction.map((op): Step => ({ kind: 'op', op, autocommit: false })), { kind: block.end }],
  );
}

/** Number of steps in a scenario. */
export function stepCount(scenario: Scenario): number {
  return scenario.sessions.reduce((n, blocks) => n + stepsOf(blocks).length, 0);
}

/** Sessions with nothing to do are dropped (they are never runnable, so the schedule means the same). */
export function normalize(scenario: Scenario): Scenario {
  return { ...scenario, sessions: scenario.sessions.filter((blocks) => blocks.length > 0) };
}

/** Limits of generated scenarios. */
export interface ScenarioShape {
  /** Most sessions (connections) in a scenario; default 4. */
  maxSessions: number;
  /** Most blocks per session; default 4. */
  maxBlocks: number;
  /** Most operations in one transaction; default 3. */
  maxTransactionOps: number;
}

export const DEFAULT_SHAPE: ScenarioShape = { maxSessions: 4, maxBlocks: 4, maxTransactionOps: 3 };

/**
 * Generates scenarios from a rule's operations; shrinking removes sessions, blocks, steps, and simplifies
 * values. Given the pairs the rule's model says conflict, a third of the scenarios are built around one
 * of them (see directedArbitrary); two thirds are drawn uniformly, for what the model does not foresee and
 * for over-restriction, which is judged on steps that run alone (a directed scenario keeps two open).
 */
export function scenarioArbitrary(rule: Rule, isolation: IsolationLevel, shape: ScenarioShape = DEFAULT_SHAPE, pairs: readonly ConflictPair[] = []): fc.Arbitrary<Scenario> {
  const uniform = uniformArbitrary(rule, isolation, shape);
  if (pairs.length === 0 || shape.maxSessions < 2) return uniform;
  return fc.oneof({ arbitrary: uniform, weight: 2 }, { arbitrary: directedArbitrary(rule, isolation, shape, pairs), weight: 1 });
}

/** Sessions of random blocks and a uniform schedule. */
function uniformArbitrary(rule: Rule, isolation: IsolationLevel, shape: ScenarioShape): fc.Arbitrary<Scenario> {
  const op = rule.operation;
  const block: fc.Arbitrary<Block> = fc.oneof(
    { arbitrary: op.map((o): Block => ({ autocommit: o })), weight: 2 },
    {
      arbitrary: fc
        .record({
          transaction: fc.array(op, { minLength: 1, maxLength: shape.maxTransactionOps }),
          end: fc.oneof({ arbitrary: fc.constant('commit' as const), weight: 4 }, { arbitrary: fc.constant('rollback' as const), weight: 1 }),
        })
        .map((t): Block => t),
      weight: 3,
    },
  );
  return fc
    .record({
      sessions: fc.array(fc.array(block, { maxLength: shape.maxBlocks }), {
        minLength: Math.min(2, shape.maxSessions),
        maxLength: shape.maxSessions,
      }),
      schedule: fc.array(fc.nat({ max: shape.maxSessions - 1 }), {
        maxLength: shape.maxSessions * shape.maxBlocks * (shape.maxTransactionOps + 2),
        // Long enough to interleave every step; the default size would leave most of a scenario sequential.
        size: 'max',
      }),
    })
    .map(({ sessions, schedule }): Scenario => ({ isolation, sessions, schedule }));
}

/** SQL that opens a transaction at this isolation level. */
export function beginSql(isolation: IsolationLevel): string {
  return `BEGIN ISOLATION LEVEL ${isolation.replace('-', ' ').toUpperCase()}`;
}
