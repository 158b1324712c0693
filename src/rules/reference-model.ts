import type { Judgement, Operation, State } from './rule.ts';

/** Applies an operation to the model's state: the next state, or why the schema may reject it regardless of the rule. */
export type ModelStep = (state: State, op: Operation) => State | { rejected: string };

/** What breaks the rule in a state, in the domain's words (empty when the rule holds). */
export type ModelCheck = (state: State) => string[];

/**
 * The reference model's judgement: an operation is allowed iff the state it leads to satisfies the rule.
 * Rejections the rule does not care about (a duplicate primary key) are never counted against the schema.
 */
export function judge(step: ModelStep, check: ModelCheck, state: State, op: Operation): Judgement {
  const next = step(state, op);
  if ('rejected' in next && typeof next.rejected === 'string') return { allowed: false, reason: next.rejected };
  const broken = check(next as State);
  if (broken.length > 0) return { allowed: false, reason: `it would break the rule: ${broken.join('; ')}` };
  return { allowed: true, reason: 'the state it leads to satisfies the rule' };
}
