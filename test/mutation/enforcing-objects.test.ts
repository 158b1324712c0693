// mutate as a CI gate on a table with two unique keys for two rules: each rule is judged by the objects
// that enforce it, so another rule's unique index never makes it fail; --all-objects scores everything.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bindRule } from '../../src/config/rule-binding.ts';
import type { StartedServer } from '../../src/db/provider.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { mutateOnServer, mutationExitCode } from '../../src/mutation/mutation-run.ts';

const SCHEMA = `
CREATE TABLE payment_methods (
  id bigint PRIMARY KEY,
  account_id bigint NOT NULL,
  provider text NOT NULL CHECK (provider IN ('stripe', 'adyen')),
  provider_customer_id text,
  status text NOT NULL CHECK (status IN ('active', 'removed')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX payment_methods_one_active ON payment_methods (account_id, provider) WHERE status = 'active';
CREATE UNIQUE INDEX payment_methods_provider_customer ON payment_methods (provider, provider_customer_id);
`;

/** "One active payment method per account and provider"; provider_customer_id (never written by it) is another rule's business. */
const oneActive = bindRule({
  template: 'scoped-unique',
  id: 'one-active-payment-method',
  title: 'one active payment method per account and provider',
  source: 'test',
  table: 'payment_methods',
  primaryKey: { column: 'id', pool: { ids: 'method', count: 4, type: 'bigint' } },
  columns: { account_id: { ids: 'account', count: 2, type: 'bigint' }, provider: ['stripe', 'adyen'], status: ['active', 'removed'] },
  mutable: ['status'],
  unique: [{ name: 'payment_methods_one_active', key: ['account_id', 'provider'], where: { eq: ['status', 'active'] } }],
});

describe('mutate judges a rule by the objects that enforce it', () => {
  let server: StartedServer;
  beforeAll(async () => {
    server = await new UrlProvider(inject('embeddedUrl')).start();
  });
  afterAll(async () => server?.stop());

  const mutate = (allObjects: boolean) =>
    mutateOnServer(server, { specs: [{ rule: oneActive, file: 'test' }], schema: [{ path: 'schema.sql', sql: SCHEMA }], named: true, isolation: 'read-committed', runs: 60, seed: 1, allObjects });

  it('passes (exit 0) when every mutant of its own index is killed, listing the other index and the NOT NULLs apart', async () => {
    const result = await mutate(false);
    const rule = result.rules[0]!;
    expect(rule.baseline.verdict).toBe('pass');
    const own = rule.mutants.filter((m) => m.name.includes('payment_methods_one_active'));
    expect(own.length).toBeGreaterThan(2);
    for (const mutant of own) expect(mutant.apart, mutant.name).toBeUndefined();
    expect(own.filter((m) => m.status === 'survived').map((m) => `${m.name}: ${m.survivor?.explanation}`)).toEqual([]);
    const other = rule.mutants.filter((m) => m.name.includes('payment_methods_provider_customer'));
    expect(other.length).toBeGreaterThan(0);
    // Listed with why, never run (no database is made for them, no check spends its runs on them).
    for (const mutant of other) expect([mutant.status, mutant.apart], mutant.name).toEqual(['not-run', expect.stringMatching(/another rule's/)]);
    expect(rule.mutants.filter((m) => m.kind === 'drop-not-null').map((m) => [m.name, m.apart])).toEqual(rule.mutants.filter((m) => m.kind === 'drop-not-null').map((m) => [m.name, expect.stringMatching(/NOT NULL/)]));
    expect(rule.mutants.filter((m) => m.apart === undefined && m.status !== 'killed').map((m) => `${m.name}: ${m.status} ${m.survivor?.explanation ?? m.reason}`)).toEqual([]);
    expect(rule.score).toBe(1);
    expect(mutationExitCode(result)).toBe(0);
  }, 300_000);

  it('with --all-objects, the other index counts again and its surviving key-column mutant fails the run', async () => {
    const result = await mutate(true);
    const rule = result.rules[0]!;
    expect(rule.unscored).toBe(0);
    expect(rule.mutants.map((m) => `${m.name} ${m.status} ${m.survivor?.kind ?? ''}`)).toContainEqual(expect.stringMatching(/payment_methods_provider_customer.* survived weak-spec/));
    expect(mutationExitCode(result)).toBe(1);
  }, 300_000);
});
