// init on partial unique indexes and CHECKs with comparisons, date cut-offs, IN / = ANY / <> ALL and
// lower()/upper(): every one becomes a runnable rule (no draft), the rules pass on the schema they came
// from, and a broken copy of the schema (a cut-off removed, a bound loosened) is caught. On every server.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.ts';
import { loadConfig } from '../../src/config/config-file.ts';
import type { StartedServer } from '../../src/db/provider.ts';
import { UrlProvider } from '../../src/db/url-provider.ts';
import { runOnServer } from '../../src/engine/run.ts';
import { renderConfig } from '../../src/init/config-writer.ts';
import { inferConfig } from '../../src/init/infer-config.ts';
import { catalogOfSchema } from '../../src/init/init.ts';
import { schemaFiles } from '../../src/source/schema-source.ts';
import { testServers } from '../servers.ts';

// A billing schema in the style of a Rails structure.sql: cut-offs on dates and timestamps, numeric
// bounds, status lists printed as = ANY, case-folded emails and roles, an unrelated CHECK (sequential_id > 0).
const SCHEMA = `
CREATE TABLE accounts (
  id bigint PRIMARY KEY,
  name character varying NOT NULL
);
CREATE TABLE invoices (
  id bigint PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id),
  sequential_id integer NOT NULL CHECK (sequential_id > 0),
  status character varying NOT NULL DEFAULT 'draft' CHECK (status::text = ANY (ARRAY['draft', 'open', 'paid', 'void'])),
  issued_on date
);
CREATE UNIQUE INDEX index_invoices_on_account_id_and_sequential_id ON invoices (account_id, sequential_id) WHERE issued_on >= '2024-01-01';
CREATE UNIQUE INDEX index_invoices_one_open_per_account ON invoices (account_id) WHERE status IN ('draft', 'open');
CREATE TABLE users (
  id uuid PRIMARY KEY,
  email character varying(120) NOT NULL,
  role character varying(20) NOT NULL DEFAULT 'member',
  deleted_at timestamp(6) without time zone
);
CREATE UNIQUE INDEX index_users_on_lower_email ON users (lower(email)) WHERE deleted_at IS NULL OR deleted_at > '2023-06-01 00:00:00';
CREATE UNIQUE INDEX index_users_one_staff_email ON users (email) WHERE lower(role) IN ('admin', 'owner');
CREATE TABLE payments (
  id bigint PRIMARY KEY,
  amount numeric(10,2) NOT NULL CHECK (amount > 0),
  currency character varying(3) NOT NULL CHECK (upper(currency) = ANY (ARRAY['USD', 'EUR']))
);
CREATE TABLE tickets (
  id bigint PRIMARY KEY,
  board_id bigint NOT NULL,
  queue_number integer NOT NULL CHECK (queue_number >= 100),
  rank integer NOT NULL CHECK (rank < 0),
  closed_at timestamp(6) without time zone
);
CREATE UNIQUE INDEX index_tickets_open_queue_number ON tickets (board_id, queue_number) WHERE closed_at IS NULL;
CREATE TABLE refunds (
  id bigint PRIMARY KEY,
  refunded_at timestamp without time zone CHECK (refunded_at >= '2020-01-01'),
  kind text CHECK (NOT (kind IN ('test', 'internal'))),
  reason text CHECK (reason <> ALL (ARRAY['fraud', 'chargeback']))
);
`;

/** Broken copies: each loses one thing a rule states, and the rule's verdict must not be pass. */
const BROKEN: { name: string; from: string; to: string; rule: RegExp }[] = [
  { name: 'the date cut-off removed', from: " WHERE issued_on >= '2024-01-01'", to: '', rule: /invoices/ },
  { name: 'the timestamp cut-off moved', from: "deleted_at > '2023-06-01 00:00:00'", to: "deleted_at >= '2023-06-01 00:00:00'", rule: /users/ },
  { name: 'lower() dropped from the role predicate', from: 'lower(role) IN', to: 'role IN', rule: /users/ },
  { name: 'a bound loosened', from: 'amount > 0', to: 'amount >= 0', rule: /payments/ },
  { name: 'upper() dropped', from: 'upper(currency) = ANY', to: 'currency = ANY', rule: /payments/ },
  { name: 'a NOT IN member dropped', from: "ARRAY['fraud', 'chargeback']", to: "ARRAY['fraud']", rule: /refunds/ },
];

describe.each(testServers())('init on comparison predicates and CHECKs ($name)', ({ url }) => {
  let server: StartedServer;
  let catalog: Catalog;
  const dir = mkdtempSync(join(tmpdir(), 'pgconform-predicates-'));
  beforeAll(async () => {
    server = await new UrlProvider(url).start();
    catalog = await catalogOfSchema(server, schemaFiles([{ path: 'billing.sql', sql: SCHEMA }]));
  });
  afterAll(async () => server?.stop());

  it('proposes a runnable rule for every partial unique index and CHECK, no draft', () => {
    const proposal = inferConfig(catalog);
    const drafts = proposal.rules.flatMap((r) => (r.kind === 'draft' ? [`${String(r.draft.id)}: ${r.reason}`] : []));
    expect(drafts).toEqual([]);
    const bindings = proposal.rules.map((r) => JSON.stringify(r.kind === 'rule' ? r.binding : {}));
    // Each printed form was read, not skipped: the JSON forms carry the operators.
    const text = bindings.join('\n');
    for (const form of ['{"ge":["issued_on","2024-01-01"]}', '{"in":["status",["draft","open"]]}', '{"gt":["deleted_at","2023-06-01 00:00:00"]}', '{"in":[{"lower":"role"},["admin","owner"]]}', '{"notIn":["kind",["test","internal"]]}']) {
      expect(text).toContain(form);
    }
    expect(text).toMatch(/\{"(gt|le)":\["amount",0\]\}/);
    expect(text).toMatch(/\{"(in|notIn)":\[\{"upper":"currency"\},\["USD","EUR"\]\]\}/);
    // Values on both sides of the cut-offs: the day before, the day, the day after.
    expect(text).toContain('"2023-12-31","2024-01-01","2024-01-02"');
    expect(text).toContain('"2023-05-31 23:59:59","2023-06-01 00:00:00","2023-06-01 00:00:01"');
    expect(text).toContain('[-1,0,1,2,null]');
    // lower()/upper(): the value and its other case, which the folded comparison must treat alike.
    expect(text).toContain('"admin","ADMIN","owner","OWNER"');
  });

  it('a CHECK on a key or per-row column narrows its values instead of dropping the rule', () => {
    const proposal = inferConfig(catalog);
    const tickets = proposal.rules.find((r) => r.kind === 'rule' && 'table' in r.binding && r.binding.table === 'tickets' && r.binding.template === 'scoped-unique');
    expect(tickets, 'the tickets rule is proposed').toBeDefined();
    const binding = (tickets as { binding: { columns: Record<string, { values: number[] }>; perRow: Record<string, { values: number[] }> } }).binding;
    expect(binding.columns.queue_number!.values.length).toBe(2);
    expect(binding.columns.queue_number!.values.every((v) => v >= 100)).toBe(true);
    expect(binding.perRow.rank!.values.every((v) => v < 0)).toBe(true);
  });

  it('the rules pass on the schema they came from, and each broken copy is caught', async () => {
    const proposal = inferConfig(catalog);
    const config = join(dir, 'pgconform.config.json');
    writeFileSync(join(dir, 'schema.sql'), SCHEMA);
    writeFileSync(config, renderConfig(proposal, { from: 'schema.sql', schema: ['schema.sql'] }, 'json'));
    const { rules } = await loadConfig(config);
    const specs = rules.map((rule) => ({ rule, file: config }));
    const verdicts = async (sql: string, name: string, only = /./) => {
      const file = join(dir, `${name}.sql`);
      writeFileSync(file, sql);
      const chosen = specs.filter((s) => only.test(s.rule.id));
      const result = await runOnServer(server, { specs: chosen, schema: [file], isolation: ['read-committed'], runs: 60, seed: 7, workers: 2 });
      return Object.fromEntries(result.rules.map((r) => [r.id, r.verdict]));
    };
    const clean = await verdicts(SCHEMA, 'schema');
    expect(clean).toEqual(Object.fromEntries(rules.map((r) => [r.id, 'pass'])));
    for (const [i, broken] of BROKEN.entries()) {
      expect(SCHEMA, broken.name).toContain(broken.from);
      const result = await verdicts(SCHEMA.replace(broken.from, broken.to), `broken-${i}`, broken.rule);
      const caught = Object.entries(result).filter(([id, verdict]) => broken.rule.test(id) && verdict !== 'pass');
      expect(caught.length, `${broken.name}: ${JSON.stringify(result)}`).toBeGreaterThan(0);
    }
  }, 600_000);
});
