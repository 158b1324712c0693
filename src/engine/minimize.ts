import type { Block, Scenario } from './scenario.ts';

/**
 * A last shrinking pass on the concrete scenario, after fast-check's. fast-check cannot drop a step
 * without shifting the schedule under it, nor turn a one-statement transaction into an autocommit
 * statement; this pass tries exactly those edits and keeps each one that still fails the same way.
 */
export async function minimize(
  scenario: Scenario,
  stillFails: (candidate: Scenario) => Promise<boolean>,
  budget = 300,
): Promise<{ scenario: Scenario; attempts: number }> {
  let best = scenario;
  let attempts = 0;
  for (let improved = true; improved && attempts < budget; ) {
    improved = false;
    for (const candidate of candidates(best)) {
      if (attempts >= budget) break;
      attempts++;
      if (await stillFails(candidate)) {
        best = candidate;
        improved = true;
        break;
      }
    }
  }
  return { scenario: best, attempts };
}

/** Smaller variants of a scenario, biggest cuts first. */
function* candidates(s: Scenario): Generator<Scenario> {
  for (let i = 0; i < s.sessions.length; i++) {
    yield { ...s, sessions: s.sessions.filter((_, j) => j !== i) };
  }
  for (let i = 0; i < s.sessions.length; i++) {
    const blocks = s.sessions[i]!;
    for (let b = 0; b < blocks.length; b++) yield withBlocks(s, i, blocks.filter((_, c) => c !== b));
    for (let b = 0; b < blocks.length; b++) {
      const block = blocks[b]!;
      if ('autocommit' in block) continue;
      if (block.transaction.length === 1) yield withBlock(s, i, b, { autocommit: block.transaction[0]! });
      for (let o = 0; o < block.transaction.length && block.transaction.length > 1; o++) {
        yield withBlock(s, i, b, { ...block, transaction: block.transaction.filter((_, p) => p !== o) });
      }
    }
  }
  for (let k = s.schedule.length - 1; k >= 0; k--) yield { ...s, schedule: s.schedule.filter((_, j) => j !== k) };
  for (let k = 0; k < s.schedule.length; k++) {
    if (s.schedule[k] !== 0) yield { ...s, schedule: s.schedule.map((v, j) => (j === k ? 0 : v)) };
  }
}

function withBlocks(s: Scenario, session: number, blocks: Block[]): Scenario {
  return { ...s, sessions: s.sessions.map((b, i) => (i === session ? blocks : b)) };
}

function withBlock(s: Scenario, session: number, index: number, block: Block): Scenario {
  return withBlocks(s, session, s.sessions[session]!.map((b, i) => (i === index ? block : b)));
}
