// The engine's promises from issue 3, on a real server: races found and shrunk, correct schemas
// left alone, server-side waits, deadlocks and COMMIT-time errors handled, executions repeatable.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StartedServer } from '../../src/db/provider.ts';
import { Sandbox } from '../../src/db/sandbox.ts';
import { readSchemaFiles } from '../../src/db/schema-source.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { ScenarioExecutor } from '../../src/engine/executor.ts';
import { checkRule, DEFAULT_RUNS } from '../../src/engine/rule-check.ts';
import { stepCount, type Scenario } from '../../src/engine/scenario.ts';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from '../../src/rules/predicate.ts';
import { idPool, valuePool } from '../../src/rules/pool.ts';
import { scopedUnique } from '../../src/rules/scoped-unique.ts';
import type { Rule } from '../../src/rules/rule.ts';
import rule from '../../specs/one-pending-request.ts';

const FIXTURES = 'fixtures/one-pending-request';
let server: StartedServer;
const sandboxes: Sandbox[] = [];

async function executorFor(schema: string, maxSessions = 4, forRule: Rule = rule): Promise<ScenarioExecutor> {
  const sandbox = await Sandbox.create(server, await readSchemaFiles([schema]));
  sandboxes.push(sandbox);
  return ScenarioExecutor.open(forRule, await sandbox.createWorkerDatabase(), { maxSessions });
}

const [org] = idPool('org', 2).values;
const [user, user2] = idPool('user', 2).values;
const requests = idPool('request', 4).values;
const insert = (slot: number, status = 'PENDING', who = user) => ({
  kind: 'insert',
  args: { id: requests[slot]!, organization_id: org!, user_id: who!, status },
});
const setStatus = (slot: number, status: string) => ({ kind: 'update', args: { $key: requests[slot]!, $column: 'status', $value: status } });

beforeAll(async () => {
  server = await new UrlProvider(inject('embeddedUrl')).start();
});
afterAll(async () => {
  for (const sandbox of sandboxes) await sandbox.dispose();
  await server.stop();
});

describe('scenario engine', () => {
  it('reports a BEFORE INSERT trigger that checks without a lock, with seed 1 and the default budget, shrunk to 2 sessions and at most 6 steps', async () => {
    const executor = await executorFor(`${FIXTURES}/mutants/unlocked-trigger-check.sql`);
    const check = await checkRule(rule, executor, { isolation: 'read-committed', runs: DEFAULT_RUNS, seed: 1 });
    await executor.close();
    expect(check.verdict).toBe('violation');
    const scenario = check.counterexample!.scenario;
    expect(scenario.sessions.length).toBe(2);
    expect(stepCount(scenario)).toBeLessThanOrEqual(6);
  });

  it('does not report the partial unique index over 1,000 runs', async () => {
    const executor = await executorFor(`${FIXTURES}/reference.sql`);
    const check = await checkRule(rule, executor, { isolation: 'read-committed', runs: 1000, seed: 7 });
    await executor.close();
    expect(check.verdict).toBe('pass');
    expect(check.runs).toBe(1000);
  });

  it('does not report the unlocked trigger under SERIALIZABLE over 1,000 runs: 40001 is a correct rejection', async () => {
    const executor = await executorFor(`${FIXTURES}/mutants/unlocked-trigger-check.sql`);
    let aborted = 0;
    const check = await checkRule(rule, executor, {
      isolation: 'serializable',
      runs: 1000,
      seed: 1,
      onExecution: (e) => (aborted += e.history.filter((h) => h.outcome.status === 'aborted').length),
    });
    await executor.close();
    expect(check.verdict).toBe('pass');
    expect(aborted).toBeGreaterThan(0);
  });

  it('handles a deferrable exclusion constraint that fails at COMMIT as a rejection', async () => {
    const executor = await executorFor(`${FIXTURES}/equivalents/deferrable-exclusion-constraint.sql`);
    const scenario: Scenario = {
      isolation: 'read-committed',
      sessions: [[{ transaction: [insert(0), insert(1)], end: 'commit' }]],
      schedule: [],
    };
    const execution = await executor.execute(scenario);
    await executor.close();
    const commit = execution.history.at(-1)!;
    expect(commit.kind).toBe('commit');
    expect(commit.outcome).toMatchObject({ status: 'rejected', failure: { code: '23P01' } });
    expect(execution.verdict.kind).toBe('pass');
  });

  it('moves on when a step waits on a lock and records what it waited for', async () => {
    const executor = await executorFor(`${FIXTURES}/reference.sql`);
    const scenario: Scenario = {
      isolation: 'read-committed',
      sessions: [[{ transaction: [insert(0)], end: 'commit' }], [{ autocommit: insert(1) }]],
      // s1 BEGIN, s1 insert, s2 insert (waits on s1's uncommitted key), s1 COMMIT.
      schedule: [0, 0, 1, 0],
    };
    const execution = await executor.execute(scenario);
    await executor.close();
    const waiting = execution.history.find((e) => e.session === 1)!;
    expect(waiting.waitedFor).toEqual([0]);
    expect(waiting.outcome).toMatchObject({ status: 'rejected', failure: { code: '23505' } });
    expect(waiting.endedAt).toBeGreaterThan(execution.history.find((e) => e.kind === 'commit')!.startedAt);
  });

  it('asks the lock table about a waiting step only after one of its blockers has moved', async () => {
    const executor = await executorFor(`${FIXTURES}/reference.sql`);
    const others = idPool('request', 12).values.slice(4);
    const denied = (i: number) => ({ kind: 'insert', args: { id: others[i]!, organization_id: org!, user_id: user2!, status: 'DENIED' } });
    const scenario: Scenario = {
      isolation: 'read-committed',
      sessions: [[{ transaction: [insert(0)], end: 'commit' }], [{ autocommit: insert(1) }], others.map((_, i) => ({ autocommit: denied(i) }))],
      // s1 BEGIN, s1 insert, s2 insert (waits on s1), s3's eight inserts (s2 is not runnable), s1 COMMIT.
      schedule: [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0],
    };
    // A warm-up execution first: the sessions' first statements are parsed and planned then, so that a slow
    // cold start (more polls before the wait is seen) does not count against what this test measures.
    await executor.execute(scenario);
    const before = executor.counts.lockChecks;
    const execution = await executor.execute(scenario);
    const lockChecks = executor.counts.lockChecks - before;
    await executor.close();
    const waiting = execution.history.find((e) => e.session === 1)!;
    expect(waiting.waitedFor).toEqual([0]);
    expect(waiting.outcome).toMatchObject({ status: 'rejected', failure: { code: '23505' } });
    expect(execution.history.filter((e) => e.session === 2 && e.outcome.status === 'ok')).toHaveLength(8);
    expect(execution.history.findIndex((e) => e.session === 2)).toBeLessThan(execution.history.findIndex((e) => e.kind === 'commit'));
    // Asking after each of s3's eight steps would make at least nine; s3 holds none of the locks s2 waits for.
    expect(lockChecks).toBeLessThan(6);
  });

  it('resets the data for the next execution in the round trip of the final check', async () => {
    const executor = await executorFor(`${FIXTURES}/reference.sql`);
    const scenario: Scenario = { isolation: 'read-committed', sessions: [[{ autocommit: insert(0) }]], schedule: [] };
    await executor.execute(scenario);
    const before = { ...executor.counts };
    const again = await executor.execute(scenario);
    const after = { ...executor.counts };
    const state = await executor.snapshot();
    await executor.close();
    // A row left over from the first execution would make the same insert fail on the primary key.
    expect(again.history.map((e) => e.outcome.status)).toEqual(['ok']);
    expect(again.verdict).toEqual({ kind: 'pass' });
    expect({ resets: after.resets - before.resets, invariantChecks: after.invariantChecks - before.invariantChecks }).toEqual({ resets: 1, invariantChecks: 1 });
    expect(state.access_requests).toEqual([]);
  });

  it('passes a rule\'s values to the final check exactly, quotes and backslashes included', async () => {
    const odd = "it's \\ PENDING";
    const quoted = scopedUnique({
      id: 'odd-values',
      title: 'one odd request per organization and user',
      source: 'engine test',
      table: 'odd_requests',
      primaryKey: { column: 'id', pool: idPool('request', 4) },
      columns: { organization_id: idPool('org', 2), user_id: idPool('user', 2), status: valuePool('status', [odd, 'DENIED']) },
      mutable: ['status'],
      unique: [{ name: 'odd requests', key: ['organization_id', 'user_id'], where: eq('status', odd) }],
    });
    const dir = await mkdtemp(join(tmpdir(), 'pgconform-odd-'));
    // No index at all: two rows with the odd status under one key break the rule.
    await writeFile(join(dir, 'schema.sql'), 'CREATE TABLE odd_requests (id uuid PRIMARY KEY, organization_id uuid, user_id uuid, status text NOT NULL);\n');
    const executor = await executorFor(join(dir, 'schema.sql'), 2, quoted);
    const row = (slot: number) => ({ kind: 'insert', args: { id: requests[slot]!, organization_id: org!, user_id: user!, status: odd } });
    const execution = await executor.execute({ isolation: 'read-committed', sessions: [[{ autocommit: row(0) }, { autocommit: row(1) }]], schedule: [] });
    await executor.close();
    expect(execution.verdict).toMatchObject({ kind: 'violation', atEvent: 1 });
  });

  it('a step still waiting when a violation ends an execution does not leak into the next one', async () => {
    const executor = await executorFor(`${FIXTURES}/mutants/non-unique-index-with-app-check.sql`);
    const violating: Scenario = {
      isolation: 'read-committed',
      sessions: [
        [{ autocommit: insert(0, 'DENIED') }],
        [{ transaction: [setStatus(0, 'APPROVED')], end: 'commit' }],
        [{ autocommit: setStatus(0, 'PENDING') }],
        [{ autocommit: insert(1) }, { autocommit: insert(2) }],
      ],
      // s1 insert; s2 BEGIN, update (row lock); s3 update (waits on s2); s4 inserts two pending requests.
      schedule: [0, 0, 0, 1, 1, 1, 0],
    };
    const first = await executor.execute(violating);
    expect(first.verdict.kind).toBe('violation');
    expect(first.history.find((e) => e.session === 2)?.waitedFor).toEqual([1]);
    const quiet: Scenario = {
      isolation: 'read-committed',
      sessions: [[{ autocommit: insert(0, 'DENIED') }], [{ autocommit: insert(1, 'DENIED') }], [{ autocommit: insert(2, 'DENIED') }]],
      schedule: [],
    };
    const next = await executor.execute(quiet);
    await executor.close();
    expect(next.verdict).toEqual({ kind: 'pass' });
    expect(next.history.map((e) => e.outcome.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('records a deadlock as an outcome and does not stall', async () => {
    const executor = await executorFor(`${FIXTURES}/reference.sql`);
    await executor.execute({
      isolation: 'read-committed',
      sessions: [[{ autocommit: insert(0, 'APPROVED') }, { autocommit: insert(1, 'APPROVED', user2) }]],
      schedule: [],
    });
    // Rows are reset per scenario, so both rows are inserted in the same scenario before the crossing updates.
    const scenario: Scenario = {
      isolation: 'read-committed',
      sessions: [
        [{ autocommit: insert(0, 'APPROVED') }, { autocommit: insert(1, 'APPROVED', user2) }, { transaction: [setStatus(0, 'DENIED'), setStatus(1, 'DENIED')], end: 'commit' }],
        [{ transaction: [setStatus(1, 'APPROVED'), setStatus(0, 'APPROVED')], end: 'commit' }],
      ],
      // s1 inserts both rows, then: s1 BEGIN, s1 update #1, s2 BEGIN, s2 update #2, s1 update #2 (waits), s2 update #1 (deadlock).
      schedule: [0, 0, 0, 0, 1, 1, 0, 1],
    };
    const started = performance.now();
    const execution = await executor.execute(scenario);
    await executor.close();
    expect(performance.now() - started).toBeLessThan(5_000);
    const deadlocks = execution.history.filter((e) => e.outcome.status === 'aborted' && e.outcome.failure.code === '40P01');
    expect(deadlocks).toHaveLength(1);
  });

  it('executes the same scenario twice with the same history', async () => {
    const executor = await executorFor(`${FIXTURES}/mutants/unlocked-trigger-check.sql`);
    const scenario: Scenario = {
      isolation: 'read-committed',
      sessions: [
        [{ transaction: [insert(0), setStatus(0, 'APPROVED'), insert(2)], end: 'commit' }],
        [{ autocommit: insert(1) }, { transaction: [setStatus(1, 'DENIED')], end: 'rollback' }],
        [{ autocommit: insert(3) }],
      ],
      schedule: [0, 1, 2, 0, 1, 1, 0, 2, 1, 0],
    };
    const strip = (h: Awaited<ReturnType<ScenarioExecutor['execute']>>['history']) =>
      h.map(({ session, label, startedAt, endedAt, outcome, waitedFor }) => ({ session, label, startedAt, endedAt, outcome, waitedFor }));
    const first = await executor.execute(scenario);
    const second = await executor.execute(scenario);
    await executor.close();
    expect(strip(second.history)).toEqual(strip(first.history));
    expect(second.verdict).toEqual(first.verdict);
  });
});

describe('stress mode', () => {
  it('finds the unlocked trigger race with free concurrency, then reproduces it with the deterministic engine in the order its steps took effect (issue 17)', async () => {
    const executor = await executorFor(`${FIXTURES}/mutants/unlocked-trigger-check.sql`);
    const check = await checkRule(rule, executor, { isolation: 'read-committed', runs: 300, seed: 3, stress: true });
    await executor.close();
    expect(check.verdict).toBe('violation');
    expect(check.counterexample?.replayable).toBe(true);
    expect(check.notes.join(' ')).toMatch(/stress mode.*reproduced by the deterministic engine/);
  });

  it('never judges over-restrictive without quiescence, and passes the reference schema', async () => {
    const executor = await executorFor(`${FIXTURES}/reference.sql`);
    const check = await checkRule(rule, executor, { isolation: 'read-committed', runs: 200, seed: 3, stress: true });
    await executor.close();
    expect(check.verdict).toBe('pass');
  });
});
