// The SQL-driven rule template: named parameters, validation, configuration, and on real PostgreSQL the
// database as the only reference model, rules about changes, and races that shrink to two sessions and
// replay in PostgreSQL's own isolationtester.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindRule } from '../../src/config/rule-binding.ts';
import type { StartedServer } from '../../src/db/provider.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { runOnServer } from '../../src/engine/run.ts';
import { isKitError } from '../../src/errors/kit-error.ts';
import { toIsolationSpec } from '../../src/report/export-isolation.ts';
import { positional } from '../../src/rules/named-parameters.ts';
import { idPool, integerRange } from '../../src/rules/pool.ts';
import { invariantText } from '../../src/rules/predicate.ts';
import type { Rule } from '../../src/rules/rule.ts';
import { sqlRule } from '../../src/rules/sql-rule.ts';
import { replaySetup } from '../../src/rules/transition-log.ts';
import { loadSpecFile } from '../../src/spec/loader.ts';
import { isolationTester, runIsolationSpec } from '../isolation-tester.ts';
import { testServers } from '../servers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (rule: string, file: string) => join(ROOT, 'fixtures', rule, file);
const spec = async (id: string): Promise<Rule> => (await loadSpecFile(join(ROOT, 'specs', `${id}.ts`)))[0]!.rule;

describe('named parameters', () => {
  it('numbers each name once and leaves casts, strings, quoted names, dollar quotes and comments alone', () => {
    const { text, names } = positional(
      `SELECT :a::int, ':b', "x:c", $$ :d $$, :a, :slot.start, :slot.end -- :e\nFROM t WHERE x = :b /* :f */`,
    );
    expect(text).toBe(`SELECT $1::int, ':b', "x:c", $$ :d $$, $1, $2, $3 -- :e\nFROM t WHERE x = $4 /* :f */`);
    expect(names).toEqual(['a', 'slot.start', 'slot.end', 'b']);
  });
});

describe('a SQL rule as written', () => {
  const base = {
    id: 'ledger',
    title: 'ledger',
    parameters: { account: idPool('account', 2), amount: integerRange('amount', -20, 20, 10) },
    operations: [{ name: 'post', sql: 'INSERT INTO entries (id, account_id, amount) VALUES (gen_random_uuid(), :account, :amount)' }],
    invariant: 'SELECT account_id FROM entries GROUP BY account_id HAVING sum(amount) < :floor',
    constants: { floor: 0 },
  };

  it('renders operations with positional values, reads its tables from the SQL, and names the columns it writes', () => {
    const rule = sqlRule(base);
    expect(rule.tables).toEqual(['entries']);
    expect(rule.sql({ kind: 'post', args: { account: 'a', amount: -10 } })).toEqual({ text: 'INSERT INTO entries (id, account_id, amount) VALUES (gen_random_uuid(), $1, $2)', values: ['a', -10] });
    expect(rule.invariant).toContain('< $1');
    expect(rule.invariantValues).toEqual([0]);
    expect(rule.references).toContainEqual({ key: 'perRow.amount', table: 'entries', column: 'amount', values: [-20, -10, 0, 10, 20] });
    // The invariant mentions both written columns: the rule is about them.
    expect(rule.references.filter((r) => r.key === 'about.entries').map((r) => r.column)).toEqual(['account_id', 'amount']);
  });

  it('says in one line what is wrong with a parameter, a constant or a missing invariant', () => {
    const problems = [
      () => sqlRule({ ...base, operations: [{ name: 'post', sql: 'INSERT INTO entries (amount) VALUES (:amout)' }] }),
      () => sqlRule({ ...base, constants: {} }),
      () => sqlRule({ ...base, invariant: undefined }),
      () => sqlRule({ ...base, parameters: { ...base.parameters, slot: { kind: 'time-slots', name: 'slot', boundaries: ['a', 'b'], maxLength: 1 } }, operations: [{ name: 'book', sql: 'INSERT INTO b (t) VALUES (:slot)' }] }),
    ];
    const messages = problems.map((make) => {
      try {
        make();
        return 'no error';
      } catch (error) {
        expect(isKitError(error)).toBe(true);
        return (error as Error).message;
      }
    });
    expect(messages[0]).toMatch(/parameter :amout has no pool/);
    expect(messages[1]).toMatch(/parameter :floor has no value/);
    expect(messages[2]).toMatch(/neither an invariant nor a transition/);
    expect(messages[3]).toMatch(/used as :slot.start and :slot.end/);
  });

  it('binds from JSON: ranges, time slots, setup rows by pool label, and a transition', () => {
    const rule = bindRule({
      template: 'sql',
      id: 'bookings',
      title: 'no overlap',
      parameters: { room: { ids: 'room', count: 2 }, slot: { slots: { start: '2025-03-03T09:00:00Z', minutes: 30, count: 3 } }, n: { range: { from: 0, to: 2 } } },
      operations: [{ name: 'book', sql: 'INSERT INTO bookings (room_id, starts_at, ends_at, seats) VALUES (:room, :slot.start, :slot.end, :n)', describe: 'book {room} {slot}' }],
      transition: { table: 'bookings', allowed: "change.op <> 'DELETE'" },
      setup: { rooms: [{ id: 'room#1', name: 'Blue' }] },
    });
    expect(rule.setup).toContain(String(idPool('room', 2).values[0]));
    expect(rule.transitions).toEqual(['bookings']);
    expect(rule.describe({ kind: 'book', args: { room: idPool('room', 2).values[1]!, 'slot.start': '2025-03-03T09:30:00.000Z', 'slot.end': '2025-03-03T10:30:00.000Z', n: 1 } })).toBe('book room#2 [09:30, 10:30)');
    expect(() => bindRule({ template: 'sql', id: 'x', title: 'x', parameters: {}, operations: [{ name: 'a', sql: 'SELECT 1' }] })).toThrow(/transition/);
  });
});



const RACES = [
  { rule: 'comment-count-matches', mutant: 'mutants/recount-trigger-without-lock.sql' },
  { rule: 'balance-never-negative', mutant: 'mutants/unlocked-sum-trigger.sql' },
  { rule: 'no-overlapping-bookings', mutant: 'mutants/unlocked-overlap-trigger.sql' },
  { rule: 'seat-limit', mutant: 'mutants/unlocked-count-trigger.sql' },
];

describe('SQL rules on a real server', () => {
  const [server0] = testServers();
  let server: StartedServer;
  beforeAll(async () => {
    server = await new UrlProvider(server0!.url).start();
  });
  afterAll(async () => server?.stop());
  const tester = isolationTester();

  const check = async (rule: string, file: string) => {
    const result = await runOnServer(server, { specs: await loadSpecFile(join(ROOT, 'specs', `${rule}.ts`)), schema: [fixture(rule, file)], isolation: ['read-committed'], runs: 200, seed: 1, workers: 1 });
    return result.rules[0]!.checks[0]!;
  };

  it.each(RACES)('$rule: the race of $mutant shrinks to two sessions and replays in isolationtester', async ({ rule, mutant }) => {
    const found = await check(rule, mutant);
    expect(found.verdict, found.error).toBe('violation');
    const counterexample = found.counterexample!;
    expect(new Set(counterexample.history.map((e) => e.session)).size).toBe(2);
    if (!tester) return;
    const ruleOf = await spec(rule);
    const isolation = toIsolationSpec(counterexample, { schema: await readFile(fixture(rule, mutant), 'utf8'), setup: replaySetup(ruleOf), invariant: invariantText(ruleOf) });
    const { code, output } = await runIsolationSpec(server0!.url, tester, isolation);
    expect(code, output).toBe(0);
    // The invariant is the last step: a row under its header is the broken rule.
    const afterInvariant = output.slice(output.lastIndexOf('step invariant'));
    expect(afterInvariant.split('\n').filter((line) => line.includes('|')).length, output).toBeGreaterThanOrEqual(2);
    expect(output).not.toMatch(/^ERROR:/m);
  });

  it('reports an accepted forbidden change with the rows before and after it (rule 12, CHECK only)', async () => {
    const found = await check('order-status-transitions', 'mutants/check-constraint-only.sql');
    expect(found.verdict).toBe('violation');
    const event = found.counterexample!.history.find((e) => e.violatingRows?.length)!;
    const row = event.violatingRows![0] as { change: string; before: { status: string } | null; after: { status: string } };
    expect(['INSERT', 'UPDATE']).toContain(row.change);
    expect(row.after.status).toBeDefined();
    if (row.change === 'UPDATE') expect(row.before!.status).not.toBe(row.after.status);
  });

  it('judges over-restriction with no hand-written model: the copy without the enforcing trigger accepts the refused refund', async () => {
    const found = await check('order-status-transitions', 'mutants/forgets-paid-to-refunded.sql');
    expect(found.verdict).toBe('over-restrictive');
    const text = JSON.stringify(found);
    expect(text).toMatch(/without trigger/);
    expect(text).toMatch(/refunded/);
  });
});
