// Issue 17: races found on purpose, not by luck. The rule's model names the operations that conflict;
// the engine runs them with both statements before either COMMIT as the first runs of the budget.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StartedServer } from '../../src/db/provider.ts';
import { Sandbox } from '../../src/db/sandbox.ts';
import { readSchemaFiles } from '../../src/db/schema-source.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { ScenarioExecutor } from '../../src/engine/executor.ts';
import { conflictPairs, picks, raceSchedules } from '../../src/engine/race.ts';
import fc from 'fast-check';
import { checkRule, DEFAULT_RUNS } from '../../src/engine/rule-check.ts';
import { DEFAULT_SHAPE, scenarioArbitrary, stepCount } from '../../src/engine/scenario.ts';
import type { Rule, State } from '../../src/rules/rule.ts';
import activeMembership from '../../specs/one-active-membership.ts';
import oneTenantPerUser from '../../specs/one-tenant-per-user.ts';
import profileRequiresMembership from '../../specs/profile-requires-membership.ts';

const identity = <T>(op: T) => op;

describe('conflicting pairs from the reference model', () => {
  it('finds two active memberships of one pair, each allowed alone, the second breaking the rule after the first', () => {
    const pairs = conflictPairs(activeMembership, {}, identity, 1, 8);
    expect(pairs.length).toBeGreaterThan(0);
    for (const pair of pairs) {
      let state: State = {};
      for (const op of pair.prefix) state = activeMembership.apply!(state, op) as State;
      expect(activeMembership.allows!(state, pair.first).allowed).toBe(true);
      expect(activeMembership.allows!(state, pair.second).allowed).toBe(true);
      expect(activeMembership.allows!(activeMembership.apply!(state, pair.first) as State, pair.second).allowed).toBe(false);
    }
    const inserts = pairs.filter((p) => p.first.kind === 'insert' && p.second.kind === 'insert');
    expect(inserts.some((p) => p.first.args.user_id === p.second.args.user_id && p.first.args.tenant_id === p.second.args.tenant_id)).toBe(true);
  });

  it('is the same for the same seed, so a path into the race schedules replays', () => {
    expect(JSON.stringify(conflictPairs(activeMembership, {}, identity, 5, 8))).toBe(JSON.stringify(conflictPairs(activeMembership, {}, identity, 5, 8)));
  });

  it('has none for a rule without a model step', () => {
    const { apply: _, ...withoutStep } = activeMembership;
    expect(conflictPairs(withoutStep as Rule, {}, identity, 1, 8)).toEqual([]);
  });
});

describe('race schedules', () => {
  const pair = { prefix: [], first: { kind: 'a', args: {} }, second: { kind: 'b', args: {} } };

  it('puts both statements before either COMMIT, committing in both orders', () => {
    const [firstCommitsFirst, secondCommitsFirst] = raceSchedules(pair, 'read-committed');
    // s1 BEGIN, s1 a, s2 BEGIN, s2 b, s1 COMMIT, s2 COMMIT: picks among the runnable sessions.
    expect(firstCommitsFirst!.schedule).toEqual([0, 0, 1, 1, 0, 0]);
    expect(secondCommitsFirst!.schedule).toEqual([0, 0, 1, 1, 1, 0]);
    expect(raceSchedules(pair, 'read-committed')).toHaveLength(2);
  });

  it('adds the stale-snapshot schedule under REPEATABLE READ when the model has a probe', () => {
    const schedules = raceSchedules({ ...pair, probe: { kind: 'p', args: {} } }, 'repeatable-read');
    expect(schedules).toHaveLength(3);
    expect(schedules[2]!.sessions[1]).toEqual([{ transaction: [{ kind: 'p', args: {} }, pair.second], end: 'commit' }]);
  });

  it('turns an order of sessions into picks among the runnable ones', () => {
    const sessions = [[{ autocommit: pair.first }], [{ autocommit: pair.second }, { autocommit: pair.second }]];
    expect(picks(sessions, [1, 0, 1])).toEqual([1, 0, 0]);
  });
});

describe('conflict-directed scenarios', () => {
  it('builds about a third of the generated scenarios around a conflicting pair, one side in each of two sessions', () => {
    const pairs = conflictPairs(activeMembership, {}, identity, 1, 8);
    const scenarios = fc.sample(scenarioArbitrary(activeMembership, 'read-committed', DEFAULT_SHAPE, pairs), { seed: 2, numRuns: 200 });
    const firstWrite = (blocks: (typeof scenarios)[number]['sessions'][number]) => blocks.find((b) => 'transaction' in b);
    const directed = scenarios.filter((s) =>
      pairs.some((p) => {
        const [a, b] = [firstWrite(s.sessions[0] ?? []), firstWrite(s.sessions[1] ?? [])];
        return a && b && 'transaction' in a && 'transaction' in b && a.transaction[0] === p.first && b.transaction[0] === p.second;
      }),
    );
    expect(directed.length).toBeGreaterThan(40);
    expect(directed.length).toBeLessThan(100);
  });

  it('leaves generation uniform for a rule without conflicts', () => {
    const plain = fc.sample(scenarioArbitrary(activeMembership, 'read-committed', DEFAULT_SHAPE), { seed: 2, numRuns: 5 });
    expect(plain).toEqual(fc.sample(scenarioArbitrary(activeMembership, 'read-committed', DEFAULT_SHAPE, []), { seed: 2, numRuns: 5 }));
  });
});

describe('races found in the first runs', () => {
  let server: StartedServer;
  const sandboxes: Sandbox[] = [];
  beforeAll(async () => {
    server = await new UrlProvider(inject('embeddedUrl')).start();
  });
  afterAll(async () => {
    for (const sandbox of sandboxes) await sandbox.dispose();
    await server.stop();
  });

  async function executorFor(rule: Rule, schema: string): Promise<ScenarioExecutor> {
    const sandbox = await Sandbox.create(server, await readSchemaFiles([schema]));
    sandboxes.push(sandbox);
    return ScenarioExecutor.open(rule, await sandbox.createWorkerDatabase(), { maxSessions: 4 });
  }

  /** Runs until the first failing execution for each seed: how many runs it took. */
  async function runsToFailure(rule: Rule, executor: ScenarioExecutor, seeds: number): Promise<number[]> {
    const runs: number[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      let n = 0;
      let at = -1;
      const check = await checkRule(rule, executor, {
        isolation: 'read-committed',
        runs: DEFAULT_RUNS,
        seed,
        onExecution: (e) => {
          n++;
          if (at < 0 && e.verdict.kind === 'violation') at = n;
        },
      });
      expect(check.verdict, `seed ${seed}`).toBe('violation');
      const scenario = check.counterexample!.scenario;
      expect(scenario.sessions.length, `seed ${seed}`).toBe(2);
      expect(stepCount(scenario), `seed ${seed}`).toBeLessThanOrEqual(6);
      runs.push(at);
    }
    return runs;
  }

  it.each([
    ['one-active-membership', 'mutants/unlocked-trigger-check', activeMembership],
    ['one-tenant-per-user', 'mutants/advisory-lock-keyed-by-tenant', oneTenantPerUser],
    ['profile-requires-membership', 'seed', profileRequiresMembership],
  ] as const)('%s × %s: the race is caught within the first few runs on every seed, shrunk to 2 sessions and at most 6 steps', async (id, fixture, rule) => {
    const schema = `fixtures/${id}/${fixture}.sql`;
    const executor = await executorFor(rule, schema);
    try {
      const runs = await runsToFailure(rule, executor, 8);
      expect(Math.max(...runs)).toBeLessThanOrEqual(8);
    } finally {
      await executor.close();
    }
  });

  it('rebuilds a stress finding as a deterministic schedule, which shrinks and replays', async () => {
    const executor = await executorFor(activeMembership, 'fixtures/one-active-membership/mutants/unlocked-trigger-check.sql');
    try {
      const check = await checkRule(activeMembership, executor, { isolation: 'read-committed', runs: DEFAULT_RUNS, seed: 1, stress: true });
      expect(check.verdict).toBe('violation');
      expect(check.counterexample!.replayable, check.notes.join('\n')).toBe(true);
      expect(check.counterexample!.scenario.sessions.length).toBe(2);
      expect((await executor.execute(check.counterexample!.scenario)).verdict.kind).toBe('violation');
    } finally {
      await executor.close();
    }
  });

  it.each([
    ['one-active-membership', 'equivalents/advisory-lock-trigger', activeMembership],
    ['one-active-membership', 'equivalents/deferrable-exclusion-constraint', activeMembership],
    ['one-tenant-per-user', 'equivalents/row-lock-triggers-for-no-key-update', oneTenantPerUser],
    ['profile-requires-membership', 'equivalents/locking-trigger-emulation', profileRequiresMembership],
  ] as const)('%s × %s: a correct design passes the race schedules of many seeds', async (id, fixture, rule) => {
    const schema = `fixtures/${id}/${fixture}.sql`;
    const executor = await executorFor(rule, schema);
    try {
      for (let seed = 1; seed <= 6; seed++) {
        // 40 runs: the race schedules are a quarter of them, and every seed draws other pairs.
        const check = await checkRule(rule, executor, { isolation: 'read-committed', runs: 40, seed });
        expect(check.verdict, `seed ${seed}: ${check.notes.join('\n')}`).toBe('pass');
      }
    } finally {
      await executor.close();
    }
  });
});
