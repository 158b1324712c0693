// Issue 13, causes 2, 3 and 7: the kit never blames the schema for its own generator or setup. A row
// refused by an object that enforces nothing the rule states is a generator gap (not judged, counted,
// reported); a setup row the schema refuses is the rule's configuration error (exit 2) and the other
// rules still run. Run in-process through the run command, on both servers.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand, type RunArgs } from '../../src/cli/commands/run.ts';
import { reportSchema, type ReportDocument } from '../../src/report/report-document.ts';
import { testServers } from '../servers.ts';

/** A subscriptions table whose rule is "one active subscription per account", plus objects the rule does not state. */
const SUBSCRIPTIONS = `
CREATE TABLE plans (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  pricing_type text NOT NULL DEFAULT 'legacy',
  price numeric,
  CONSTRAINT plans_legacy_price CHECK (pricing_type <> 'legacy' OR price IS NOT NULL)
);
CREATE TABLE subscriptions (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL,
  status text NOT NULL,
  note text
);
CREATE UNIQUE INDEX subscriptions_one_active ON subscriptions (account_id) WHERE status = 'active';
`;

/** An insert trigger writes an event row keyed by the subscription id, with no foreign key back: it survives a delete (cause 7). */
const EVENT_LOG = `
CREATE TABLE subscription_events (subscription_id uuid PRIMARY KEY, kind text NOT NULL);
CREATE FUNCTION log_subscription() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO subscription_events (subscription_id, kind) VALUES (NEW.id, 'created');
  RETURN NEW;
END $$;
CREATE TRIGGER subscriptions_log AFTER INSERT ON subscriptions FOR EACH ROW EXECUTE FUNCTION log_subscription();
`;

/** A default that trips a CHECK on columns the rule never writes: every insert is refused. */
const DEFAULT_TRIPS_CHECK = `
ALTER TABLE subscriptions ADD COLUMN billing text NOT NULL DEFAULT 'invoice',
  ADD COLUMN invoice_email text,
  ADD CONSTRAINT subscriptions_invoice_email CHECK (billing <> 'invoice' OR invoice_email IS NOT NULL);
`;

/** The rule's own key made blanket: it refuses a second, ended subscription the rule allows. */
const BLANKET_KEY = `ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_account_key UNIQUE (account_id);`;

function oneActive(id: string, extra: Record<string, unknown> = {}) {
  return {
    template: 'scoped-unique',
    id,
    title: 'one active subscription per account',
    source: 'issue 13',
    table: 'subscriptions',
    primaryKey: { column: 'id', pool: { ids: 'subscription', count: 3 } },
    columns: { account_id: { ids: 'account', count: 2 }, status: ['active', 'ended'] },
    mutable: ['status'],
    unique: [{ key: ['account_id'], where: { eq: ['status', 'active'] } }],
    ...extra,
  };
}

interface Outcome {
  code: number;
  out: string;
  err: string;
  report: ReportDocument;
  dir: string;
}

async function run(url: string, schema: string, rules: unknown[], runs = 80): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'pgconform-gaps-'));
  writeFileSync(join(dir, 'schema.sql'), schema);
  writeFileSync(join(dir, 'pgconform.config.json'), JSON.stringify({ schema: 'schema.sql', rules }));
  const out: string[] = [];
  const err: string[] = [];
  const args: RunArgs = {
    specs: [],
    config: join(dir, 'pgconform.config.json'),
    url,
    runs,
    seed: 7,
    isolation: ['read-committed'],
    sessions: 3,
    workers: 2,
    corpus: false,
    reportDir: join(dir, 'reports'),
    format: ['console', 'json', 'junit', 'markdown', 'html'],
    quiet: true,
  };
  const code = await runCommand(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  const report = reportSchema.parse(JSON.parse(readFileSync(resolve(dir, 'reports', 'report.json'), 'utf8')));
  return { code, out: out.join('\n'), err: err.join('\n'), report, dir };
}

const check = (report: ReportDocument, id: string) => report.rules.find((r) => r.id === id)!.checks[0]!;

describe.each(testServers())('generator gaps and setup failures on $name', ({ url }) => {
  it('a row refused by an object the rule does not state is a counted gap, not over-restrictive', async () => {
    const result = await run(url, SUBSCRIPTIONS + EVENT_LOG, [oneActive('one-active')]);
    const c = check(result.report, 'one-active');
    expect(c.verdict, result.out).toBe('pass');
    expect(result.code).toBe(0);
    const gap = c.generatorGaps?.gaps.find((g) => g.constraint === 'subscription_events_pkey');
    expect(gap, JSON.stringify(c.generatorGaps)).toBeDefined();
    expect(gap!.table).toBe('subscription_events');
    expect(gap!.definition).toMatch(/PRIMARY KEY \(subscription_id\)/);
    expect(gap!.example.statement).toMatch(/^INSERT INTO "subscriptions"/);
    expect(c.generatorGaps!.lost).toBeLessThanOrEqual(c.runs / 2);
    // Shown in every report, not only in report.json.
    expect(result.out).toMatch(/not judged: the generator wrote a row that subscription_events_pkey on subscription_events rejects/);
    for (const file of ['summary.md', 'junit.xml', 'report.html']) {
      expect(readFileSync(join(result.dir, 'reports', file), 'utf8'), file).toMatch(/subscription\\?_events\\?_pkey/);
    }
  });

  it('a rule that nearly every scenario loses to a gap is an error: could not be exercised (exit 2)', async () => {
    const result = await run(url, SUBSCRIPTIONS + DEFAULT_TRIPS_CHECK, [oneActive('one-active')]);
    const c = check(result.report, 'one-active');
    expect(c.verdict).toBe('error');
    expect(c.errorKind).toBe('config');
    expect(c.error).toMatch(/^could not be exercised: \d+ of \d+ scenarios were lost .*subscriptions_invoice_email on subscriptions rejects \(CHECK/);
    expect(c.generatorGaps!.lost).toBeGreaterThan(c.runs / 2);
    expect(result.code).toBe(2);
  });

  it("the rule's own key refusing an allowed row is still over-restrictive, gaps or not", async () => {
    const result = await run(url, SUBSCRIPTIONS + EVENT_LOG + BLANKET_KEY, [oneActive('one-active')]);
    const c = check(result.report, 'one-active');
    expect(c.verdict, result.out).toBe('over-restrictive');
    expect(c.counterexample?.history.some((e) => e.outcome.status === 'rejected' && 'failure' in e.outcome && e.outcome.failure.constraint === 'subscriptions_account_key')).toBe(true);
    expect(result.code).toBe(1);
  });

  it('a unique key the rule names in otherKeys is judged by its model, never counted as a gap', async () => {
    // A row rule ("an active subscription has a note") on a table whose UNIQUE (account_id) it does not state.
    const noteCheck = `ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_active_note CHECK (status <> 'active' OR note IS NOT NULL);`;
    const activeHasNote = {
      template: 'row-predicate',
      id: 'active-has-note',
      title: 'an active subscription has a note',
      source: 'issue 13',
      table: 'subscriptions',
      primaryKey: { column: 'id', pool: { ids: 'subscription', count: 3 } },
      columns: { account_id: { ids: 'account', count: 2 }, status: ['active', 'ended'], note: ['n', null] },
      valid: { or: [{ ne: ['status', 'active'] }, { isNotNull: 'note' }] },
      otherKeys: [{ key: ['account_id'] }],
    };
    const result = await run(url, SUBSCRIPTIONS + BLANKET_KEY + noteCheck, [activeHasNote]);
    const c = check(result.report, 'active-has-note');
    expect(c.verdict, result.out).toBe('pass');
    expect(c.generatorGaps?.gaps.find((g) => g.constraint === 'subscriptions_account_key'), JSON.stringify(c.generatorGaps)).toBeUndefined();
    expect(result.code).toBe(0);
  });

  it('a setup row the schema refuses is the rule’s configuration error (exit 2), and the other rules run', async () => {
    const setup = { setup: { plans: [{ id: '00000000-0000-4000-8000-000000000001', name: 'Basic' }] } };
    const result = await run(url, SUBSCRIPTIONS, [oneActive('with-bad-setup', setup), oneActive('without-setup')], 40);
    expect(result.code, result.out).toBe(2);
    const bad = check(result.report, 'with-bad-setup');
    expect(bad.verdict).toBe('error');
    expect(bad.errorKind).toBe('config');
    // One line: the rule, the table, the row's values, the constraint and its definition, and the fix.
    expect(bad.error).not.toMatch(/\n/);
    expect(bad.error).toMatch(/rule with-bad-setup: the schema refuses its setup row in plans \(id=00000000-0000-4000-8000-000000000001, name=Basic, pricing_type=legacy, price=null\)/);
    expect(bad.error).toMatch(/"plans_legacy_price" CHECK \(pricing_type <> 'legacy'::text OR price IS NOT NULL\)/);
    expect(bad.error).toMatch(/give pricing_type, price values that satisfy it/);
    expect(bad.error).not.toMatch(/observer connection/);
    expect(check(result.report, 'without-setup').verdict).toBe('pass');
    expect(result.report.error).toBeUndefined();
  });

  it('a misspelt column in one rule is that rule’s error (exit 2); the others still run', async () => {
    const misspelt = oneActive('misspelt', { columns: { acount_id: { ids: 'account', count: 2 }, status: ['active', 'ended'] } });
    const result = await run(url, SUBSCRIPTIONS, [misspelt, oneActive('fine')], 40);
    expect(result.code).toBe(2);
    expect(check(result.report, 'misspelt').error).toMatch(/no column "acount_id" in table subscriptions \(did you mean "account_id"\?\)/);
    expect(check(result.report, 'fine').verdict).toBe('pass');
  });
});
